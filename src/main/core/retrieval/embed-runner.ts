import type { JobProgress } from '../../../shared/api';
import { RunControl } from '../jobs/run-control';
import { errorMessage } from '../errors';
import { WorkerCrashedError } from '../inference/inference-client';
import type { JobRow } from '../jobs/job-store';
import type { PhotoStore } from '../library/photo-store';
import { ProgressMeter } from '../progress-meter';
import type { EmbedJobStore } from './embed-job-store';
import type { EmbedItem, EmbedOutcome, EmbeddingBackend, RetrievalModelRef } from './embedding-backend';
import type { EmbeddingStore } from './embedding-store';

export interface EmbedRunOptions {
  model: RetrievalModelRef;
  batchSize: number;
  /** Inference threads for this run (the settings' when absent). */
  threads?: number;
  /** Stops after the batches in hand and returns; unfinished jobs stay queued for the next run. */
  signal?: AbortSignal;
}

export interface EmbedRunnerDeps {
  jobs: EmbedJobStore;
  store: EmbeddingStore;
  photos: PhotoStore;
  backend: EmbeddingBackend;
  onProgress?: (p: JobProgress) => void;
  /** A new embedding is stored for these photos (the vector index adds it in place). */
  onEmbedded?: (model: string, photoIds: number[], vector: Float32Array) => void;
}

/** Batches in the inference process at once: while one is embedded, the next one's photos are decoded. */
const PIPELINE_DEPTH = 2;

/**
 * Runs queued embedding jobs until none are left, like the caption runner: each vector is stored in the
 * transaction that marks its job done, so a kill at any point loses at most the batches in flight, which a
 * restart puts back in the queue (EmbedJobStore.recoverInterrupted).
 */
export class EmbedRunner {
  private readonly control = new RunControl();

  constructor(private readonly deps: EmbedRunnerDeps) {}

  pause(): void {
    this.control.pause();
  }

  resume(): void {
    this.control.resume();
  }

  cancel(model: string): void {
    this.control.cancel(() => this.deps.jobs.cancel(model));
  }

  async run(opts: EmbedRunOptions): Promise<JobProgress> {
    const { jobs, backend } = this.deps;
    const model = opts.model.name;
    this.control.cancelled = false;
    const meter = new ProgressMeter();
    let done = 0;
    let failed = 0;
    let current: { id: number; path: string } | null = null;
    let message: string | null = null;
    const total = (): number => {
      const c = jobs.counts(model);
      return done + failed + c.queued + c.running;
    };
    const emit = (): JobProgress => {
      const t = total();
      const p: JobProgress = {
        state: this.control.state,
        model,
        done,
        total: t,
        failed,
        photosPerSec: meter.rate(),
        etaSec: meter.eta(t - done - failed),
        currentPhotoId: current?.id ?? null,
        currentPath: current?.path ?? null,
        message,
      };
      this.deps.onProgress?.(p);
      return p;
    };

    this.control.state = 'loading';
    emit();
    await backend.load(opts.model, opts.threads !== undefined ? { threads: opts.threads } : {});
    this.control.state = this.control.paused ? 'pausing' : 'running';
    meter.start();
    emit();

    const hashOf = new Map<number, string>();
    const handle = (results: EmbedOutcome[]): void => {
      for (const r of results) {
        const hash = hashOf.get(r.jobId);
        hashOf.delete(r.jobId);
        if (r.ok && hash !== undefined) {
          if (jobs.finish(r.jobId, () => this.deps.store.put(hash, model, r.vector))) {
            done++;
            this.deps.onEmbedded?.(model, this.deps.store.photosWithHash(hash), r.vector);
          }
        } else {
          jobs.fail(r.jobId, r.ok ? 'The photo changed while it was read.' : r.error);
          failed++;
        }
        meter.tick();
      }
    };

    /** Jobs that need no model run: the photo is gone or unreadable, changed since it was queued, or a duplicate was embedded meanwhile. */
    const prepare = (batch: JobRow[]): EmbedItem[] => {
      const items: EmbedItem[] = [];
      for (const job of batch) {
        try {
          const row = this.deps.photos.row(job.photo_id);
          if (row.status !== 'ok') {
            jobs.fail(job.id, `Photo cannot be decoded: ${row.status_reason ?? row.status}`);
            failed++;
            continue;
          }
          if (row.hash !== job.settings_key || this.deps.store.has(job.settings_key, model)) {
            // The bytes this job was for are gone (a later scan queues the new ones) or already embedded.
            if (jobs.finish(job.id, () => undefined)) done++;
            continue;
          }
          hashOf.set(job.id, job.settings_key);
          items.push({ jobId: job.id, photoId: job.photo_id, path: this.deps.photos.absolutePath(row) });
        } catch (err) {
          jobs.fail(job.id, errorMessage(err));
          failed++;
        }
      }
      return items;
    };

    const sendBatch = (batch: JobRow[]): Promise<void> => {
      const items = prepare(batch);
      if (items.length === 0) return Promise.resolve();
      current = { id: items[0]!.photoId, path: items[0]!.path };
      emit();
      return backend
        .embedImages(items)
        .then(handle)
        .catch((err: unknown) => {
          const ids = items.map((i) => i.jobId);
          for (const id of ids) hashOf.delete(id);
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

    const inFlight = new Set<Promise<void>>();
    const stopRequested = (): boolean => this.control.cancelled || Boolean(opts.signal?.aborted);
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
      const batch = jobs.claim(model, opts.batchSize);
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
      jobs.cancel(model);
      this.control.state = 'cancelled';
    } else if (opts.signal?.aborted) {
      this.control.state = 'paused';
    } else {
      this.control.state = 'done';
    }
    current = null;
    return emit();
  }
}
