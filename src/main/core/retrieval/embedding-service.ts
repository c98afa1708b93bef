import { basename, resolve } from 'node:path';
import type { EmbeddingStatus, JobProgress, PhotoFilters } from '../../../shared/api';
import type { EventBus } from '../event-bus';
import type { PhotoStore } from '../library/photo-store';
import { filterClauses } from '../search/search-service';
import type { SettingsStore } from '../settings/settings-store';
import type { Db } from '../store/database';
import { EmbedJobStore } from './embed-job-store';
import { EmbedRunner } from './embed-runner';
import type { EmbeddingBackend, RetrievalModelRef } from './embedding-backend';
import { EmbeddingStore } from './embedding-store';
import { VectorIndex } from './vector-index';
import { failedProgress } from '../jobs/run-control';

export const DEFAULT_RETRIEVAL_MODEL = 'blip-itm-base-coco';

/** What turning search by meaning on costs, as the settings page and `tandem status` say it. */
export const SEARCH_BY_MEANING_COST =
  'One more vision pass per photo (about as long as captioning it), once per photo content; about 1 KB per photo on disk and in memory while searching.';

export type EmbedScope = { kind: 'all' } | { kind: 'folder'; rootId?: number; folder: string } | { kind: 'roots'; rootIds: number[] } | { kind: 'photos'; photoIds: number[] };

export interface EmbeddingServiceDeps {
  db: Db;
  photos: PhotoStore;
  /** The folder of an installed retrieval pack; throws (saying how to install it) when it is not installed. */
  locateModel: (name: string) => string;
  settings: SettingsStore;
  events: EventBus;
  /** The retrieval model's runner: the inference process in the app and CLI, a fake in tests. */
  backend: EmbeddingBackend;
}

export interface EmbedRunSettings {
  /** A pack name, or a Hugging Face folder used directly. */
  model?: string;
  modelDir?: string;
  batchSize?: number;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (p: JobProgress) => void;
}


/** Query embeddings kept for as-you-type searches that come back to the same words. */
const QUERY_CACHE_SIZE = 64;

/**
 * Search by meaning's library side (issue 11): which photos need an embedding (jobs), making them through the
 * retrieval model, the in-memory vector index, and query embeddings. Search itself is hybrid-search.ts.
 */
export class EmbeddingService {
  readonly jobs: EmbedJobStore;
  readonly store: EmbeddingStore;
  readonly index: VectorIndex;
  private runner: EmbedRunner | null = null;
  private queryCache = new Map<string, Float32Array>();
  /**
   * Photos with an embedding, per model, for status(): counting them is a join of two 100k-row tables (50–600 ms),
   * so it is counted once, kept up by the runner, and counted again after a scan.
   */
  private embeddedCounts = new Map<string, number>();
  lastProgress: JobProgress | null = null;

  constructor(private readonly deps: EmbeddingServiceDeps) {
    this.jobs = new EmbedJobStore(deps.db);
    this.store = new EmbeddingStore(deps.db);
    this.index = new VectorIndex(this.store);
    // A previous run that was killed left jobs "running": they go back to the queue.
    this.jobs.recoverInterrupted();
    // A scan may have moved, changed or removed photos: the in-memory vectors are read again on the next query.
    deps.events.on('library.changed', () => {
      this.index.invalidate();
      this.embeddedCounts.clear();
    });
  }

  /** The retrieval pack the settings name (or the one given), with its folder; throws how to install it when missing. */
  resolveModel(opts: { model?: string; modelDir?: string } = {}): RetrievalModelRef {
    if (opts.modelDir) return { name: opts.model ?? basename(resolve(opts.modelDir)), dir: resolve(opts.modelDir) };
    const name = opts.model ?? this.modelName();
    return { name, dir: this.deps.locateModel(name) };
  }

  modelName(): string {
    return this.deps.settings.get().retrievalModel;
  }

  /** Whether the retrieval pack is installed (and usable). */
  installed(model = this.modelName()): boolean {
    try {
      this.deps.locateModel(model);
      return true;
    } catch {
      return false;
    }
  }

  /** Whether searches rank by meaning now: the setting is on and the model's embeddings exist (the pack is needed for the query). */
  active(): boolean {
    const model = this.modelName();
    return this.deps.settings.get().searchByMeaning && this.store.any(model) && this.installed(model);
  }

  status(): EmbeddingStatus {
    const model = this.modelName();
    const installed = this.installed(model);
    const enabled = this.deps.settings.get().searchByMeaning;
    let embedded = this.embeddedCounts.get(model);
    if (embedded === undefined) {
      embedded = this.store.stats(model).photos;
      this.embeddedCounts.set(model, embedded);
    }
    // photo_counts is kept by triggers: no count over the photos table.
    const photos = this.deps.db.prepare("SELECT coalesce(sum(n), 0) FROM photo_counts WHERE status = 'ok'").pluck().get() as number;
    return {
      enabled,
      model,
      installed,
      active: enabled && installed && embedded > 0,
      photos,
      embedded,
      counts: this.jobs.counts(model),
      progress: this.lastProgress,
      cost: SEARCH_BY_MEANING_COST,
    };
  }

  /** Queues an embedding for every photo of the scope whose content has none yet. */
  enqueue(scope: EmbedScope, model = this.modelName(), opts: { retryFailed?: boolean } = {}): number {
    return this.jobs.enqueue(this.photoIds(scope), model, opts);
  }

  private photoIds(scope: EmbedScope): number[] {
    if (scope.kind === 'photos') return scope.photoIds;
    if (scope.kind === 'roots') return scope.rootIds.flatMap((rootId) => this.photoIds({ kind: 'folder', rootId, folder: '' }));
    const filters: PhotoFilters = { status: ['ok'], ...(scope.kind === 'folder' ? { folder: scope.folder, ...(scope.rootId !== undefined ? { rootId: scope.rootId } : {}) } : {}) };
    const w = filterClauses(filters);
    return this.deps.db.prepare(`SELECT p.id FROM photos p WHERE ${w.sql.join(' AND ')} ORDER BY p.id`).pluck().all(w.params) as number[];
  }

  /** Runs queued embedding jobs until none are left, or until paused, cancelled or aborted. */
  async run(opts: EmbedRunSettings = {}): Promise<JobProgress> {
    if (this.runner) throw new Error('An embedding run is already in progress.');
    const ref = this.resolveModel(opts);
    const runner = new EmbedRunner({
      jobs: this.jobs,
      store: this.store,
      photos: this.deps.photos,
      backend: this.deps.backend,
      onProgress: (p) => {
        this.lastProgress = p;
        opts.onProgress?.(p);
        this.deps.events.emit('embeddings.progress', p);
      },
      onEmbedded: (model, photoIds, vector) => {
        this.index.add(model, photoIds, vector);
        const counted = this.embeddedCounts.get(model);
        if (counted !== undefined) this.embeddedCounts.set(model, counted + photoIds.length);
      },
    });
    this.runner = runner;
    try {
      return await runner.run({
        model: ref,
        batchSize: Math.max(1, opts.batchSize ?? 4),
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } finally {
      this.runner = null;
    }
  }

  get running(): boolean {
    return this.runner !== null;
  }

  /** Starts a run without waiting (the app); failures end up in the progress event, never unhandled. */
  startInBackground(opts: Omit<EmbedRunSettings, 'signal'> = {}): void {
    if (this.runner) return;
    this.run(opts).catch((err: unknown) => {
      const failed = failedProgress(opts.model ?? this.modelName(), err);
      this.lastProgress = failed;
      this.deps.events.emit('embeddings.progress', failed);
    });
  }

  /** After captioning or a scan in the app: embed what is new when search by meaning is on and the pack is installed. */
  embedNewInBackground(opts: Omit<EmbedRunSettings, 'signal'> = {}): number {
    const model = opts.model ?? this.modelName();
    if (!this.deps.settings.get().searchByMeaning || !this.installed(model)) return 0;
    const queued = this.enqueue({ kind: 'all' }, model);
    if (queued > 0 || this.jobs.counts(model).queued > 0) this.startInBackground({ ...opts, model });
    return queued;
  }

  /**
   * The app's "on by default": new and changed photos are read after each scan, and what a closed app left is read
   * at start, while search by meaning is on and the pack installed. The CLI does not call this (`tandem embed` does
   * the work there). Returns the unsubscribe.
   */
  embedAutomatically(runSettings: () => Omit<EmbedRunSettings, 'signal'>): () => void {
    const embedNew = (): void => {
      try {
        this.embedNewInBackground(runSettings());
      } catch (err) {
        // A broken pack must not break scanning; the settings card and the next progress event tell the user.
        this.lastProgress = failedProgress(this.modelName(), err, this.lastProgress ?? undefined);
      }
    };
    embedNew();
    return this.deps.events.on('library.changed', ({ reason }) => {
      if (reason === 'scanned') embedNew();
    });
  }

  pause(): void {
    this.runner?.pause();
  }

  resume(): void {
    this.runner?.resume();
  }

  cancel(model = this.modelName()): void {
    if (this.runner) this.runner.cancel(model);
    else this.jobs.cancel(model);
  }

  /** The ITC embedding of a search text, cached for as-you-type searches that return to the same words. */
  async embedQuery(text: string, model = this.modelName()): Promise<Float32Array> {
    const key = `${model}\u0000${text}`;
    const hit = this.queryCache.get(key);
    if (hit) {
      // Most recently used last, so the oldest is the first key.
      this.queryCache.delete(key);
      this.queryCache.set(key, hit);
      return hit;
    }
    await this.deps.backend.load(this.resolveModel({ model }));
    const [vector] = await this.deps.backend.embedTexts([text]);
    if (!vector) throw new Error('The retrieval model returned no text embedding.');
    this.queryCache.set(key, vector);
    if (this.queryCache.size > QUERY_CACHE_SIZE) this.queryCache.delete(this.queryCache.keys().next().value!);
    return vector;
  }

  /** ITM match probabilities of one text against several photos' files, in order. */
  async matchProbabilities(paths: readonly string[], text: string, model = this.modelName()): Promise<number[]> {
    await this.deps.backend.load(this.resolveModel({ model }));
    const out: number[] = [];
    for (const path of paths) out.push((await this.deps.backend.match(path, [text]))[0] ?? 0);
    return out;
  }
}
