import type { EmbeddingStore } from './embedding-store';
import { Int8VectorMatrix, type VectorScan } from './int8-vector-matrix';
import type { VectorHit } from './vector-matrix';

/** How the last load went, for the bench and diagnostics. */
export interface VectorIndexStats {
  model: string;
  photos: number;
  dims: number;
  bytes: number;
  loadMs: number;
}

/**
 * Embeddings read per slice while loading; between slices the event loop runs (IPC, the UI's other requests).
 * 5,000 rows are ~5 MB and ~30 ms of reading.
 */
const LOAD_SLICE = 5000;

/**
 * The main process's in-memory copy of a model's photo embeddings, loaded on the first query (not at start-up:
 * a library that never searches by meaning never pays for it) and kept in step as embeddings are added. A rescan
 * can move, change or remove many photos at once: it invalidates the copy and the next query reloads it.
 * Loading 100k photos reads ~100 MB from SQLite (about a second on a busy machine), in slices, so the main process
 * keeps answering meanwhile; concurrent queries wait for the same load.
 */
export class VectorIndex {
  private matrix: VectorScan | null = null;
  private loadedModel: string | null = null;
  private loading: { model: string; generation: number; promise: Promise<VectorScan | null> } | null = null;
  /** Bumped by invalidate(): a load that started before it is not kept. */
  private generation = 0;
  private lastStats: VectorIndexStats | null = null;

  constructor(private readonly store: EmbeddingStore) {}

  /** Drops the loaded vectors; the next query reads them again. */
  invalidate(): void {
    this.matrix = null;
    this.loadedModel = null;
    this.loading = null;
    this.generation++;
  }

  /** The loaded matrix for a model, reading it from the database if needed; null when no photo has an embedding. */
  async ready(model: string): Promise<VectorScan | null> {
    if (this.matrix && this.loadedModel === model) return this.matrix;
    if (this.loading && this.loading.model === model && this.loading.generation === this.generation) return this.loading.promise;
    const generation = this.generation;
    const promise = this.read(model).then((matrix) => {
      if (generation !== this.generation) return this.ready(model);
      this.matrix = matrix;
      this.loadedModel = matrix ? model : null;
      this.loading = null;
      return matrix;
    });
    this.loading = { model, generation, promise };
    return promise;
  }

  private async read(model: string): Promise<VectorScan | null> {
    const started = performance.now();
    const stats = this.store.stats(model);
    if (stats.dims === null || stats.photos === 0) return null;
    // int8 in memory, float32 from SQLite for the few candidates rescored (int8-vector-matrix.ts says why).
    const matrix = new Int8VectorMatrix(stats.dims, stats.photos, (ids) => this.store.vectorsForPhotos(model, ids));
    for (let after: number | null = 0; after !== null; ) {
      const slice = this.store.photoVectorSlice(model, after, LOAD_SLICE);
      // A model whose size changed between runs leaves vectors of the old size: they cannot be compared, skip them.
      for (const { photoId, vector } of slice.vectors) if (vector.length === stats.dims) matrix.set(photoId, vector);
      after = slice.next;
      if (after !== null) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.lastStats = { model, photos: matrix.size, dims: matrix.dims, bytes: matrix.bytes, loadMs: performance.now() - started };
    return matrix;
  }

  /** New embeddings while the copy is loaded: added in place, no reload. */
  add(model: string, photoIds: readonly number[], vector: Float32Array): void {
    if (!this.matrix || this.loadedModel !== model || vector.length !== this.matrix.dims) {
      // Not loaded (a load in progress reads it from the database) or a different size (reload everything).
      if (this.matrix && this.loadedModel === model) this.invalidate();
      return;
    }
    for (const id of photoIds) this.matrix.set(id, vector);
  }

  async search(model: string, query: Float32Array, k: number, allow?: (photoId: number) => boolean): Promise<VectorHit[]> {
    const matrix = await this.ready(model);
    return matrix ? matrix.search(query, k, allow) : [];
  }

  /** The stored float32 vector of one photo (memory holds int8 only). */
  vectorOf(model: string, photoId: number): Float32Array | null {
    return this.store.forPhoto(photoId, model);
  }

  get stats(): VectorIndexStats | null {
    return this.lastStats;
  }
}
