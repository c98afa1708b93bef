import { useCallback, useState } from 'react';
import type { MetadataWriteProgress, MetadataWriteScope } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type MetadataWrites = {
  progress: MetadataWriteProgress | null;
  active: boolean;
  start(scope: MetadataWriteScope): Promise<number | null>;
  pause(): void;
  resume(): void;
  cancel(): void;
  dismiss(): void;
};

const ACTIVE: ReadonlySet<MetadataWriteProgress['state']> = new Set(['running', 'pausing', 'paused']);

/** The "write captions to files" queue: live progress from `metadata.progress`, actions on `metadata.*`. */
export function useMetadataWrites(onError: (err: unknown) => void): MetadataWrites {
  const api = useTandem();
  // No status read on mount: a run in progress sends progress every quarter second, and the page shows it from the next one.
  const [progress, setProgress] = useState<MetadataWriteProgress | null>(null);
  useTandemEvent('metadata.progress', setProgress);
  const start = useCallback(
    (scope: MetadataWriteScope) =>
      api.invoke('metadata.write', { scope }).then(
        (r) => r.queued,
        (err: unknown) => {
          onError(err);
          return null;
        },
      ),
    [api, onError],
  );
  const call = useCallback(
    (channel: 'metadata.pause' | 'metadata.resume' | 'metadata.cancel') => void api.invoke(channel, {}).catch(onError),
    [api, onError],
  );
  return {
    progress,
    active: progress !== null && ACTIVE.has(progress.state),
    start,
    pause: () => call('metadata.pause'),
    resume: () => call('metadata.resume'),
    cancel: () => call('metadata.cancel'),
    dismiss: () => setProgress(null),
  };
}
