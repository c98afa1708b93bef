import { simdInt8ScoresKernel, type ScoresKernel } from './simd-dot-kernel';
import { TopK } from './top-k';
import type { VectorHit } from './vector-matrix';
import { wasm, type WasmMemory } from './wasm-api';

/** What the vector index searches: rows by photo id, the k best for a query. */
export interface VectorScan {
  readonly dims: number;
  readonly size: number;
  /** Bytes held in memory. */
  readonly bytes: number;
  set(photoId: number, vector: Float32Array): void;
  search(query: Float32Array, k: number, allow?: (photoId: number) => boolean): VectorHit[];
}

/** The float32 vectors of some photos (those it still has), for exact rescoring. */
export type ExactVectors = (photoIds: readonly number[]) => Map<number, Float32Array>;

/** Candidates of the int8 scan rescored exactly: at least this many, and never fewer than 4 × k. */
export const RESCORE_CANDIDATES = 400;

/** int8 units per 1.0: unit vectors' components are within ±1. */
const SCALE = 127;
const PAGE = 65536;

/**
 * The matrix the app searches: unit vectors quantised to int8 (a quarter of float32's memory, and of the bytes each
 * query reads, which is what a scan of 100k rows waits on), scored by the int8 SIMD kernel; the best
 * `max(4k, RESCORE_CANDIDATES)` rows are then scored exactly from their float32 vectors (`exact`, read from SQLite),
 * so scores and order are float32's. Measured against the float32 SIMD matrix (`npm run bench -- retrieval`): twice
 * as fast at 100k and 1M photos, the same top 48 on every query (README, "Search by meaning: the library side").
 */
export class Int8VectorMatrix implements VectorScan {
  /** Bytes per row: dims rounded up to the kernel's 16-byte steps (the padding stays zero). */
  readonly stride: number;
  private readonly memory: WasmMemory;
  private readonly kernel: ScoresKernel | null;
  /** Byte offsets: the query (int16 × stride at 0), the rows, then one float32 score per row. */
  private readonly dataOffset: number;
  private capacity: number;
  private ids: Int32Array;
  private rowOf = new Map<number, number>();
  private count = 0;

  constructor(
    readonly dims: number,
    capacity: number,
    private readonly exact: ExactVectors,
    opts: { simd?: boolean } = {},
  ) {
    this.stride = Math.ceil(dims / 16) * 16;
    this.dataOffset = Math.ceil((this.stride * 2) / 16) * 16;
    this.capacity = Math.max(1, capacity);
    this.memory = new wasm.Memory({ initial: Math.ceil(this.bytesFor(this.capacity) / PAGE) });
    this.kernel = opts.simd === false ? null : simdInt8ScoresKernel(this.memory);
    this.ids = new Int32Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  get simd(): boolean {
    return this.kernel !== null;
  }

  get bytes(): number {
    return this.memory.buffer.byteLength + this.ids.byteLength;
  }

  set(photoId: number, vector: Float32Array): void {
    if (vector.length !== this.dims) throw new Error(`Expected a ${this.dims}-dimensional vector, got ${vector.length}.`);
    let row = this.rowOf.get(photoId);
    if (row === undefined) {
      if (this.count === this.capacity) this.grow();
      row = this.count++;
      this.ids[row] = photoId;
      this.rowOf.set(photoId, row);
    }
    const bytes = new Int8Array(this.memory.buffer, this.dataOffset + row * this.stride, this.dims);
    for (let j = 0; j < this.dims; j++) bytes[j] = Math.max(-SCALE, Math.min(SCALE, Math.round(vector[j]! * SCALE)));
  }

  search(query: Float32Array, k: number, allow?: (photoId: number) => boolean): VectorHit[] {
    if (query.length !== this.dims) throw new Error(`Expected a ${this.dims}-dimensional query, got ${query.length}.`);
    const n = this.count;
    const q = new Int16Array(this.memory.buffer, 0, this.stride);
    q.fill(0);
    for (let j = 0; j < this.dims; j++) q[j] = Math.round(query[j]! * SCALE);
    const scoresOffset = this.dataOffset + this.capacity * this.stride;
    if (this.kernel) this.kernel(this.dataOffset, 0, n, this.stride, scoresOffset);
    else this.scoreRows(q, scoresOffset);
    const scores = new Float32Array(this.memory.buffer, scoresOffset, n);
    const top = new TopK(Math.max(4 * k, RESCORE_CANDIDATES));
    const ids = this.ids;
    for (let r = 0; r < n; r++) {
      const score = scores[r]!;
      if (score <= top.threshold) continue;
      if (allow && !allow(ids[r]!)) continue;
      top.push(r, score);
    }
    const candidates = top.sorted().map((c) => ({ photoId: ids[c.row]!, approx: c.score / (SCALE * SCALE) }));
    const vectors = this.exact(candidates.map((c) => c.photoId));
    const hits = candidates.map(({ photoId, approx }): VectorHit => {
      const v = vectors.get(photoId);
      if (!v) return { photoId, score: approx };
      let s = 0;
      for (let j = 0; j < this.dims; j++) s += v[j]! * query[j]!;
      return { photoId, score: s };
    });
    return hits.sort((a, b) => b.score - a.score || a.photoId - b.photoId).slice(0, k);
  }

  /** The plain loop where WebAssembly SIMD is missing: the same integer dot products. */
  private scoreRows(q: Int16Array, scoresOffset: number): void {
    const rows = new Int8Array(this.memory.buffer, this.dataOffset, this.count * this.stride);
    const out = new Float32Array(this.memory.buffer, scoresOffset, this.count);
    for (let r = 0, base = 0; r < this.count; r++, base += this.stride) {
      let s = 0;
      for (let j = 0; j < this.dims; j++) s += rows[base + j]! * q[j]!;
      out[r] = s;
    }
  }

  private bytesFor(capacity: number): number {
    return this.dataOffset + capacity * this.stride + capacity * 4;
  }

  /** Doubles the capacity: rows stay where they are (the scores after them are scratch), so nothing is copied. */
  private grow(): void {
    const capacity = this.capacity * 2;
    const needed = Math.ceil(this.bytesFor(capacity) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) this.memory.grow(needed);
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    this.capacity = capacity;
  }
}
