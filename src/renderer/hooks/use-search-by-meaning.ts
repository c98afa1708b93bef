import { useCallback, useEffect, useState } from 'react';
import type { EmbeddingStatus, JobProgress } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type SearchByMeaning = {
  status: EmbeddingStatus | null;
  /** Reads the status again (after the setting changed). */
  refresh(): void;
  /** Queues every photo without an embedding and starts reading them. */
  start(): Promise<number | null>;
  /** The run's progress while it runs, and its outcome until dismissed (the status bar's line). */
  run: JobProgress | null;
  /** Whether that run is still going (paused counts). */
  running: boolean;
  pause(): void;
  resume(): void;
  cancel(): void;
  dismiss(): void;
};

const RUNNING = new Set<JobProgress['state']>(['loading', 'running', 'pausing', 'paused', 'cancelling']);

/** Search by meaning's status (`embeddings.status`), kept current by the embedding run's progress events. */
export function useSearchByMeaning(onError: (err: unknown) => void, ready = true): SearchByMeaning {
  const api = useTandem();
  const [status, setStatus] = useState<EmbeddingStatus | null>(null);
  const [run, setRun] = useState<JobProgress | null>(null);
  const refresh = useCallback(() => {
    api.invoke('embeddings.status', {}).then(setStatus, onError);
  }, [api, onError]);
  useEffect(() => {
    if (ready) refresh();
  }, [ready, refresh]);
  // A scan adds, changes or removes photos: the counts (and whether search is by meaning yet) follow.
  useTandemEvent('library.changed', refresh);
  useTandemEvent('embeddings.progress', (p) => {
    setStatus((s) => (s ? { ...s, progress: p } : s));
    setRun(p.state === 'idle' ? null : p);
    // Counts change as photos are read; the end of a run is when they are worth reading again.
    if (p.state === 'done' || p.state === 'failed' || p.state === 'cancelled' || p.state === 'paused') refresh();
  });
  const start = useCallback(
    () =>
      api.invoke('embeddings.start', {}).then(
        (r) => {
          refresh();
          return r.queued;
        },
        (err: unknown) => {
          onError(err);
          return null;
        },
      ),
    [api, onError, refresh],
  );
  const control = useCallback(
    (channel: 'embeddings.pause' | 'embeddings.resume' | 'embeddings.cancel') => () => {
      api.invoke(channel, {}).catch(onError);
    },
    [api, onError],
  );
  return {
    status,
    refresh,
    start,
    run,
    running: run !== null && RUNNING.has(run.state),
    pause: control('embeddings.pause'),
    resume: control('embeddings.resume'),
    cancel: control('embeddings.cancel'),
    dismiss: () => setRun(null),
  };
}
