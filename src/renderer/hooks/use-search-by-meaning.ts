import { useCallback, useEffect, useState } from 'react';
import type { EmbeddingStatus } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type SearchByMeaning = {
  status: EmbeddingStatus | null;
  /** Reads the status again (after the setting changed). */
  refresh(): void;
  /** Queues every photo without an embedding and starts reading them. */
  start(): Promise<number | null>;
};

/** Search by meaning's status (`embeddings.status`), kept current by the embedding run's progress events. */
export function useSearchByMeaning(onError: (err: unknown) => void, ready = true): SearchByMeaning {
  const api = useTandem();
  const [status, setStatus] = useState<EmbeddingStatus | null>(null);
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
  return { status, refresh, start };
}
