import type { JobProgress } from '../../../shared/api';
import { RunControl, type RunnerState } from './run-control';
import type { CaptionStore } from '../captions/caption-store';
import { errorMessage } from '../errors';
import { WorkerCrashedError, type InferenceClient } from '../inference/inference-client';
import type { CaptionItemResult } from '../inference/protocol';
import type { PhotoStore } from '../library/photo-store';
import { ProgressMeter } from '../progress-meter';
import { captionRecord, type CaptionPrecision, type CaptionSettings } from './caption-settings';
import type { JobRow, JobStore } from './job-store';

export type CaptionProgress = JobProgress;
export type { RunnerState } from './run-control';

export interface CaptionRunOptions {
  model: string;
  modelDir: string;
  cacheDir: string;
  settings: CaptionSettings;
  /** Model precision for this run; recorded with each caption, not part of the jobs' settings key. */
  precision?: CaptionPrecision;
  batchSize: number;
  threads: number;
  /**
   * Photos/s measured by an earlier run at this precision: the ETA uses it until this run has measured its own
   * rate. int8 runs about twice as fast as fp32, so a rate is only ever reused for the precision it was measured at.
   */
  expectedPhotosPerSec?: number;
  /** Stops after the batches in hand, like pause, and returns; the next run resumes. */
  signal?: AbortSignal;
}

export interface CaptionRunnerDeps {
  jobs: JobStore;
  captions: CaptionStore;
  photos: PhotoStore;
  client: InferenceClient;
  onProgress?: (p: CaptionProgress) => void;
  onCaption?: (photoId: number, text: string, model: string) => void;
}

/** Batches kept in the inference process at once: while one runs, the next one's photos are decoded. */
const PIPELINE_DEPTH = 2;

/**
 * Runs queued caption jobs through the inference process until none are left, with pause, resume and cancel.
 * The database is the source of truth: every result is stored in the transaction that marks its job done,
 * so stopping at any point loses at most the batches in flight, which go back to the queue.
 */
export class CaptionRunner {
  private readonly control = new RunControl();

  constructor(private readonly deps: CaptionRunnerDeps) {}

  pause(): void {
    this.control.pause();
  }

  resume(): void {
    this.control.resume();
  }

  /** Cancels every queued and running job of this model; results that arrive later are dropped. */
  cancel(model: string): void {
    this.control.cancel(() => this.deps.jobs.cancel(model));
  }

  get currentState(): RunnerState {
    return this.control.state;
  }

  async run(opts: CaptionRunOptions): Promise<CaptionProgress> {
    const { jobs, client } = this.deps;
    this.control.cancelled = false;
    const precision = opts.precision ?? 'fp32';
    const record = captionRecord(opts.settings, precision);
    const meter = new ProgressMeter();
    let done = 0;
    let failed = 0;
    const total = () => done + failed + jobs.counts(opts.model).queued + jobs.counts(opts.model).running;
    let current: { id: number; path: string } | null = null;
    let message: string | null = null;
    const eta = (remaining: number): number | null => {
      if (meter.rate() > 0 || !opts.expectedPhotosPerSec) return meter.eta(remaining);
      return remaining / opts.expectedPhotosPerSec;
    };
    const emit = (): CaptionProgress => {
      const t = total();
      const p: CaptionProgress = {
        state: this.control.state,
        model: opts.model,
        done,
        total: t,
        failed,
        photosPerSec: meter.rate(),
        etaSec: eta(t - done - failed),
        currentPhotoId: current?.id ?? null,
        currentPath: current?.path ?? null,
        message,
      };
      this.deps.onProgress?.(p);
      return p;
    };

    this.control.state = 'loading';
    emit();
    await client.load({ model: opts.model, modelDir: opts.modelDir, cacheDir: opts.cacheDir, threads: opts.threads, precision });
    this.control.state = this.control.paused ? 'pausing' : 'running';
    meter.start();
    emit();

    const inFlight = new Set<Promise<void>>();
    const stopRequested = () => this.control.cancelled || Boolean(opts.signal?.aborted);

    const handle = (results: CaptionItemResult[]): void => {
      for (const r of results) {
        if (r.ok) {
          const stored = jobs.finish(r.jobId, () => {
            this.deps.captions.add(r.photoId, `model:${opts.model}`, r.text, record);
          });
          if (stored) {
            done++;
            this.deps.onCaption?.(r.photoId, r.text, opts.model);
          }
        } else {
          jobs.fail(r.jobId, r.error);
          failed++;
        }
        meter.tick();
      }
    };

    const sendBatch = (batch: JobRow[]): Promise<void> => {
      const items: { jobId: number; photoId: number; path: string }[] = [];
      for (const job of batch) {
        try {
          const row = this.deps.photos.row(job.photo_id);
          if (row.status !== 'ok') {
            jobs.fail(job.id, `Photo cannot be decoded: ${row.status_reason ?? row.status}`);
            failed++;
            continue;
          }
          items.push({ jobId: job.id, photoId: job.photo_id, path: this.deps.photos.absolutePath(row) });
        } catch (err) {
          jobs.fail(job.id, errorMessage(err));
          failed++;
        }
      }
      if (items.length === 0) return Promise.resolve();
      current = { id: items[0]!.photoId, path: items[0]!.path };
      emit();
      return client
        .caption({ items, settings: opts.settings })
        .then((reply) => handle(reply.results))
        .catch((err: unknown) => {
          const ids = items.map((i) => i.jobId);
          if (err instanceof WorkerCrashedError) {
            const r = jobs.crashed(ids, err.reason);
            failed += r.failed;
            message = `The inference process stopped (${err.reason}); ${r.requeued} photos went back to the queue.`;
          } else {
            for (const id of ids) jobs.fail(id, errorMessage(err));
            failed += ids.length;
          }
        })
        .finally(emit);
    };

    for (;;) {
      if (stopRequested()) break;
      if (this.control.paused) {
        await Promise.all(inFlight);
        if (stopRequested()) break;
        this.control.state = 'paused';
        emit();
        await this.control.untilResumed();
        continue;
      }
      if (inFlight.size >= PIPELINE_DEPTH) {
        await Promise.race(inFlight);
        continue;
      }
      const batch = jobs.claim(opts.model, opts.batchSize);
      if (batch.length === 0) {
        if (inFlight.size === 0) break;
        await Promise.race(inFlight);
        continue;
      }
      if (batch[0]!.crashes > 0) {
        // A job that was in the process when it died runs with nothing else in flight, so a second crash is its own.
        await Promise.all(inFlight);
        await sendBatch(batch);
        continue;
      }
      const p = sendBatch(batch);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
    if (this.control.cancelled) {
      jobs.cancel(opts.model);
      this.control.state = 'cancelled';
    } else if (opts.signal?.aborted) {
      // Stopping (Ctrl-C, app quit) is a pause that ends the run: unfinished jobs stay queued for next time.
      this.control.state = 'paused';
    } else {
      this.control.state = 'done';
    }
    current = null;
    return emit();
  }
}
