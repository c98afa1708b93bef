import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { JobFailure, JobProgress, RequestOf } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type JobCounts = { queued: number; running: number; done: number; failed: number; cancelled: number };

export type Jobs = {
  counts: JobCounts | null;
  progress: JobProgress | null;
  /** Jobs that failed, with the reason, newest first. */
  failures: JobFailure[];
  /** The latest failure per photo, for the "failed" badge on tiles. */
  failureByPhoto: ReadonlyMap<number, JobFailure>;
  active: boolean;
  refresh(): void;
  start(request: RequestOf<'captions.start'>): Promise<{ queued: number; model: string } | null>;
  pause(): void;
  resume(): void;
  cancel(): void;
  retry(jobIds?: number[]): Promise<number>;
};

const ACTIVE: ReadonlySet<JobProgress['state']> = new Set(['loading', 'running', 'pausing', 'paused', 'cancelling']);

export function isActive(p: JobProgress | null): boolean {
  return p !== null && ACTIVE.has(p.state);
}

/** The caption queue: live progress from `jobs.progress`, counts and failures from `jobs.*`. */
export function useJobs(onError: (err: unknown) => void, onFinished: () => void, enabled = true): Jobs {
  const api = useTandem();
  const [counts, setCounts] = useState<JobCounts | null>(null);
  const [progress, setProgress] = useState<JobProgress | null>(null);
  const [failures, setFailures] = useState<JobFailure[]>([]);
  const lastFailed = useRef(-1);
  const progressRef = useRef<JobProgress | null>(null);
  const onFinishedRef = useRef(onFinished);
  useEffect(() => {
    onFinishedRef.current = onFinished;
  });

  const refresh = useCallback(() => {
    api.invoke('jobs.status', {}).then((s) => {
      setCounts(s.counts);
      if (!progressRef.current && s.progress) {
        progressRef.current = s.progress;
        setProgress(s.progress);
      }
    }, onError);
    api.invoke('jobs.failures', { limit: 500 }).then(setFailures, onError);
  }, [api, onError]);
  useEffect(() => {
    if (enabled) refresh();
  }, [enabled, refresh]);

  useTandemEvent('jobs.progress', (p) => {
    const before = progressRef.current;
    progressRef.current = p;
    setProgress(p);
    if (isActive(before) && !isActive(p)) onFinishedRef.current();
    if (!isActive(p) || p.failed !== lastFailed.current) {
      lastFailed.current = p.failed;
      refresh();
    }
  });

  const failureByPhoto = useMemo(() => {
    const m = new Map<number, JobFailure>();
    for (const f of failures) if (!m.has(f.photoId)) m.set(f.photoId, f);
    return m;
  }, [failures]);

  const call = useCallback(
    (p: Promise<unknown>) => {
      p.then(refresh, onError);
    },
    [refresh, onError],
  );

  const start = useCallback(
    async (request: RequestOf<'captions.start'>) => {
      try {
        const r = await api.invoke('captions.start', request);
        refresh();
        return r;
      } catch (err) {
        onError(err);
        return null;
      }
    },
    [api, refresh, onError],
  );

  const retry = useCallback(
    async (jobIds?: number[]) => {
      try {
        const r = await api.invoke('jobs.retry', jobIds ? { jobIds } : {});
        refresh();
        return r.requeued;
      } catch (err) {
        onError(err);
        return 0;
      }
    },
    [api, refresh, onError],
  );

  return {
    counts,
    progress,
    failures,
    failureByPhoto,
    active: isActive(progress),
    refresh,
    start,
    pause: () => call(api.invoke('captions.pause', {})),
    resume: () => call(api.invoke('captions.resume', {})),
    cancel: () => call(api.invoke('captions.cancel', progress?.model ? { model: progress.model } : {})),
    retry,
  };
}
