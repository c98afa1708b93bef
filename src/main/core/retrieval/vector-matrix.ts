import { SIMD_LANES, simdScoresKernel, type ScoresKernel } from './simd-dot-kernel';
import { TopK } from './top-k';
import { wasm, type WasmMemory } from './wasm-api';

/** A scored row of the matrix, by photo id. */
export interface VectorHit {
  photoId: number;
  /** cosine similarity (the vectors are L2-normalised) */
  score: number;
}

const PAGE = 65536;

/**
 * Unit vectors in one contiguous block of float32 (row-major, rows padded to a multiple of 8 floats) with the photo
 * id of each row: a query is one pass over memory with no per-row objects. The block lives in WebAssembly memory so
 * the SIMD kernel (simd-dot-kernel.ts) scores every row in place; the plain loop below is the fallback where
 * WebAssembly SIMD is missing, and the reference the kernel is tested against.
 */
export class VectorMatrix {
  /** Floats per row: dims rounded up to the kernel's 8-float steps (the padding stays zero). */
  readonly stride: number;
  private readonly memory: WasmMemory;
  private readonly kernel: ScoresKernel | null;
  /** Byte offsets in memory: the query (stride floats at 0), the rows, then one score per row. */
  private readonly dataOffset: number;
  private capacity: number;
  private floats: Float32Array;
  private ids: Int32Array;
  private rowOf = new Map<number, number>();
  private count = 0;

  constructor(
    readonly dims: number,
    capacity = 1024,
    opts: { simd?: boolean } = {},
  ) {
    this.stride = Math.ceil(dims / SIMD_LANES) * SIMD_LANES;
    this.dataOffset = Math.ceil((this.stride * 4) / 16) * 16;
    this.capacity = Math.max(1, capacity);
    this.memory = new wasm.Memory({ initial: Math.ceil(this.bytesFor(this.capacity) / PAGE) });
    this.kernel = opts.simd === false ? null : simdScoresKernel(this.memory);
    this.floats = new Float32Array(this.memory.buffer);
    this.ids = new Int32Array(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Whether queries run on the WebAssembly SIMD kernel (else the plain loop). */
  get simd(): boolean {
    return this.kernel !== null;
  }

  /** Bytes held by the matrix (its memory, for the capacity, not just the rows in use). */
  get bytes(): number {
    return this.memory.buffer.byteLength + this.ids.byteLength;
  }

  has(photoId: number): boolean {
    return this.rowOf.has(photoId);
  }

  /** Adds or replaces the row of a photo. */
  set(photoId: number, vector: Float32Array): void {
    if (vector.length !== this.dims) throw new Error(`Expected a ${this.dims}-dimensional vector, got ${vector.length}.`);
    let row = this.rowOf.get(photoId);
    if (row === undefined) {
      if (this.count === this.capacity) this.grow();
      row = this.count++;
      this.ids[row] = photoId;
      this.rowOf.set(photoId, row);
    }
    this.floats.set(vector, this.rowStart(row));
  }

  /** The stored vector of a photo (a view into the matrix: copy it before the matrix changes). */
  get(photoId: number): Float32Array | null {
    const row = this.rowOf.get(photoId);
    if (row === undefined) return null;
    const start = this.rowStart(row);
    return this.floats.subarray(start, start + this.dims);
  }

  /**
   * The k rows most similar to `query`, best first. `allow` (by photo id) keeps only rows a filter admits;
   * it is only called for rows that would enter the top k, so a selective filter costs little.
   */
  search(query: Float32Array, k: number, allow?: (photoId: number) => boolean): VectorHit[] {
    if (query.length !== this.dims) throw new Error(`Expected a ${this.dims}-dimensional query, got ${query.length}.`);
    const n = this.count;
    const f = this.floats;
    f.fill(0, 0, this.stride);
    f.set(query, 0);
    const outStart = (this.dataOffset >> 2) + this.capacity * this.stride;
    if (this.kernel) this.kernel(this.dataOffset, 0, n, this.stride, outStart * 4);
    else this.scoreRows(outStart);
    const top = new TopK(k);
    const ids = this.ids;
    for (let r = 0; r < n; r++) {
      const score = f[outStart + r]!;
      if (score <= top.threshold) continue;
      if (allow && !allow(ids[r]!)) continue;
      top.push(r, score);
    }
    return top.sorted().map((h) => ({ photoId: ids[h.row]!, score: h.score }));
  }

  /** The plain loop: the same scores as the kernel, one row at a time. */
  private scoreRows(outStart: number): void {
    const f = this.floats;
    const d = this.stride;
    // Four accumulators break the add chain's dependency (d is a multiple of 8).
    for (let r = 0, base = this.dataOffset >> 2; r < this.count; r++, base += d) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < d; j += 4) {
        s0 += f[base + j]! * f[j]!;
        s1 += f[base + j + 1]! * f[j + 1]!;
        s2 += f[base + j + 2]! * f[j + 2]!;
        s3 += f[base + j + 3]! * f[j + 3]!;
      }
      f[outStart + r] = s0 + s1 + s2 + s3;
    }
  }

  private rowStart(row: number): number {
    return (this.dataOffset >> 2) + row * this.stride;
  }

  private bytesFor(capacity: number): number {
    return this.dataOffset + capacity * this.stride * 4 + capacity * 4;
  }

  /** Doubles the capacity. Rows stay where they are (the scores area after them moves), so nothing is copied. */
  private grow(): void {
    const capacity = this.capacity * 2;
    const needed = Math.ceil(this.bytesFor(capacity) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) this.memory.grow(needed);
    // Growing detaches the old views.
    this.floats = new Float32Array(this.memory.buffer);
    const ids = new Int32Array(capacity);
    ids.set(this.ids);
    this.ids = ids;
    this.capacity = capacity;
  }
}
