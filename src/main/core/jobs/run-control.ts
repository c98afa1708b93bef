/**
 * Pause, resume and cancel for a job runner (captioning, embedding): the state the progress reports, and the
 * promise a paused run waits on between batches. The runner checks `paused` and `cancelled` at its own safe
 * points; this only records what was asked.
 */
import type { JobProgress } from '../../../shared/api';

export type RunnerState = JobProgress['state'];

export class RunControl {
  state: RunnerState = 'idle';
  paused = false;
  cancelled = false;
  private resumeWaiters: (() => void)[] = [];

  pause(): void {
    if (this.state === 'running' || this.state === 'loading') this.state = 'pausing';
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.state === 'paused' || this.state === 'pausing') this.state = 'running';
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  /** Marks the run cancelled, cancels its jobs (`cancelJobs`), then wakes it if paused so it can stop. */
  cancel(cancelJobs: () => void): void {
    this.cancelled = true;
    this.state = 'cancelling';
    cancelJobs();
    this.resume();
  }

  /** Resolves on the next resume (or cancel). */
  untilResumed(): Promise<void> {
    return new Promise<void>((r) => this.resumeWaiters.push(r));
  }
}

/** A run's progress before it has done anything (the status a run that never started reports). */
function idleProgress(model: string): JobProgress {
  return { state: 'idle', model, done: 0, total: 0, failed: 0, photosPerSec: 0, etaSec: null, currentPhotoId: null, currentPath: null, message: null };
}

/** What a background run that failed to start (or broke off) reports: the error as its message. */
export function failedProgress(model: string, err: unknown, from: JobProgress = idleProgress(model)): JobProgress {
  return { ...from, state: 'failed', message: err instanceof Error ? err.message : String(err) };
}
