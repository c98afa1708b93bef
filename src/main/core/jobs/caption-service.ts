import { basename, resolve } from 'node:path';
import type { CaptionStore } from '../captions/caption-store';
import type { EventBus } from '../event-bus';
import { InferenceClient } from '../inference/inference-client';
import type { SpawnWorker } from '../inference/worker-handle';
import type { PhotoStore } from '../library/photo-store';
import type { ModelStore } from '../models/model-store';
import { filterClauses } from '../search/search-service';
import type { Db } from '../store/database';
import { CaptionRunner, type CaptionProgress } from './caption-runner';
import { failedProgress } from './run-control';
import { captionSettingsKey, DEFAULT_CAPTION_BATCH_SIZE, DEFAULT_CAPTION_SETTINGS, type CaptionPrecision, type CaptionSettings } from './caption-settings';
import { JobStore } from './job-store';
import { physicalCores } from '../system/physical-cores';

export const DEFAULT_CAPTION_MODEL = 'blip-base';

export type CaptionScope =
  | { kind: 'all' }
  /** Photos with no caption shown at all. */
  | { kind: 'missing' }
  | { kind: 'folder'; rootId?: number; folder: string }
  | { kind: 'roots'; rootIds: number[] }
  | { kind: 'photos'; photoIds: number[] };

export interface CaptionServiceDeps {
  db: Db;
  photos: PhotoStore;
  captions: CaptionStore;
  models: ModelStore;
  events: EventBus;
  modelCacheDir: string;
  spawnWorker: SpawnWorker;
}

export interface ModelRef {
  /** Name stored with captions (`model:<name>`). */
  name: string;
  dir: string;
}

export interface CaptionRunSettings {
  model?: string;
  /** A Hugging Face BLIP folder used directly instead of an installed pack. */
  modelDir?: string;
  settings?: Partial<CaptionSettings>;
  /** 'fp32' (default) or 'int8'. */
  precision?: CaptionPrecision;
  batchSize?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: CaptionProgress) => void;
}

/** Bulk captioning: what to caption (jobs), and running them in the inference process. */
export class CaptionService {
  readonly jobs: JobStore;
  private client: InferenceClient | null = null;
  private runner: CaptionRunner | null = null;
  /** The last measured rate per precision, for the next run's first ETA (caption-runner.ts). */
  private readonly measuredRate = new Map<CaptionPrecision, number>();

  constructor(private readonly deps: CaptionServiceDeps) {
    this.jobs = new JobStore(deps.db);
    // A previous run that was killed left jobs "running": they go back to the queue.
    this.jobs.recoverInterrupted();
  }

  resolveModel(opts: { model?: string; modelDir?: string }): ModelRef {
    if (opts.modelDir) {
      const dir = resolve(opts.modelDir);
      return { name: opts.model ?? basename(dir), dir };
    }
    const name = opts.model ?? DEFAULT_CAPTION_MODEL;
    return { name, dir: this.deps.models.resolve(name) };
  }

  settings(partial: Partial<CaptionSettings> = {}): CaptionSettings {
    return { ...DEFAULT_CAPTION_SETTINGS, ...partial };
  }

  /**
   * Queues caption jobs for a scope of photos. Photos that could not be decoded are queued too, so they are
   * reported as failed with their reason, like any other photo the model could not caption.
   */
  enqueue(scope: CaptionScope, model: string, settings: CaptionSettings, opts: { regenerate?: boolean; priority?: number } = {}): number {
    const ids = this.photoIds(scope);
    return this.jobs.enqueueCaptions(ids, model, captionSettingsKey(settings), opts);
  }

  private photoIds(scope: CaptionScope): number[] {
    if (scope.kind === 'photos') return scope.photoIds;
    if (scope.kind === 'roots') return scope.rootIds.flatMap((rootId) => this.photoIds({ kind: 'folder', rootId, folder: '' }));
    const w = filterClauses({
      status: ['ok', 'broken', 'unsupported'],
      ...(scope.kind === 'missing' ? { captioned: 'no' as const } : {}),
      ...(scope.kind === 'folder' ? { folder: scope.folder, ...(scope.rootId !== undefined ? { rootId: scope.rootId } : {}) } : {}),
    });
    return (
      this.deps.db.prepare(`SELECT p.id FROM photos p WHERE ${w.sql.join(' AND ')} ORDER BY p.id`).all(w.params) as { id: number }[]
    ).map((r) => r.id);
  }

  /** Runs queued jobs for the model until none are left, or until paused/cancelled/aborted. */
  async run(opts: CaptionRunSettings): Promise<CaptionProgress> {
    if (this.runner) throw new Error('A captioning run is already in progress.');
    const ref = this.resolveModel(opts);
    const client = this.ensureClient();
    const runner = new CaptionRunner({
      jobs: this.jobs,
      captions: this.deps.captions,
      photos: this.deps.photos,
      client,
      onProgress: (p) => {
        this.lastProgress = p;
        opts.onProgress?.(p);
        this.deps.events.emit('jobs.progress', p);
      },
      onCaption: (photoId, text, model) => this.deps.events.emit('caption.added', { photoId, text, source: `model:${model}` }),
    });
    this.runner = runner;
    const precision = opts.precision ?? 'fp32';
    const expected = this.measuredRate.get(precision);
    try {
      const last = await runner.run({
        model: ref.name,
        modelDir: ref.dir,
        cacheDir: this.deps.modelCacheDir,
        settings: this.settings(opts.settings),
        precision,
        batchSize: Math.max(1, opts.batchSize ?? DEFAULT_CAPTION_BATCH_SIZE),
        threads: Math.max(1, opts.threads ?? defaultThreads()),
        ...(expected ? { expectedPhotosPerSec: expected } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (last.done >= 5 && last.photosPerSec > 0) this.measuredRate.set(precision, last.photosPerSec);
      return last;
    } finally {
      this.runner = null;
    }
  }

  /** The latest progress of the current or last run, for a UI that opens mid-run. */
  lastProgress: CaptionProgress | null = null;

  get running(): boolean {
    return this.runner !== null;
  }

  /**
   * Starts a run without waiting for it (the app's "Caption" button). If one is running for the same
   * model, the new jobs simply join its queue. Failures end up in the progress event, never unhandled.
   */
  startInBackground(opts: Omit<CaptionRunSettings, 'signal'>): void {
    if (this.runner) return;
    this.run(opts).catch((err: unknown) => {
      const failed = failedProgress(opts.model ?? opts.modelDir ?? DEFAULT_CAPTION_MODEL, err);
      this.lastProgress = failed;
      this.deps.events.emit('jobs.progress', failed);
    });
  }

  pause(): void {
    this.runner?.pause();
  }

  resume(): void {
    this.runner?.resume();
  }

  cancel(model?: string): void {
    if (this.runner && model) this.runner.cancel(model);
    else this.jobs.cancel(model);
  }

  /** The captioning process id while it runs. */
  get workerPid(): number | undefined {
    return this.client?.pid;
  }

  /** The inference process, started on first use and kept for later runs. */
  ensureClient(): InferenceClient {
    this.client ??= new InferenceClient(this.deps.spawnWorker);
    return this.client;
  }

  async close(): Promise<void> {
    this.runner?.pause();
    await this.client?.close();
    this.client = null;
  }
}

/** Physical cores (at most 8): see physical-cores.ts for why not logical ones. */
export function defaultThreads(): number {
  return Math.max(1, Math.min(8, physicalCores()));
}
