/**
 * The decoder's keys and values: per layer one key and one value tensor [1, kv_heads, capacity, head_dim] of
 * which the first `length` positions are filled.
 *
 * For a transformers.js-layout decoder the capacity is the length: the tensors are exactly the `present.*`
 * outputs of the last step, handed back as the next step's `past_key_values.*` without a copy on the
 * JavaScript side. For a kv-append decoder (llama-decoder-graph.ts) the buffers are bigger than the length and
 * each step's new keys/values are written into their tail (`append`), growing the buffers by whole blocks:
 * onnxruntime-node reads CPU inputs in place, so a step then copies only its own positions.
 */
import type { NdFloat32 } from '../onnx/nd-array';

export interface KvLayer {
  key: NdFloat32;
  value: NdFloat32;
}

/** Positions a kv-append cache grows by: big enough that growing (a copy of the cache) is rare, small enough that the masked tail costs little attention. */
export const KV_GROWTH = 64;

function dimsOf(t: NdFloat32): { heads: number; capacity: number; dim: number } {
  const [, heads = 0, capacity = 0, dim = 0] = t.dims;
  return { heads, capacity, dim };
}

/** `t`'s first `n` positions in a [1, heads, capacity, dim] tensor (heads are outermost: one run per head). */
function copyInto(t: NdFloat32, n: number, capacity: number): NdFloat32 {
  const { heads, capacity: from, dim } = dimsOf(t);
  const out = new Float32Array(heads * capacity * dim);
  for (let h = 0; h < heads; h++) out.set(t.data.subarray(h * from * dim, (h * from + n) * dim), h * capacity * dim);
  return { type: 'float32', data: out, dims: [1, heads, capacity, dim] };
}

export class KvCache {
  constructor(
    readonly layers: readonly KvLayer[],
    /** Positions held. */
    readonly length: number,
  ) {}

  static empty(layers: number, kvHeads: number, headDim: number): KvCache {
    const none = (): NdFloat32 => ({ type: 'float32', data: new Float32Array(0), dims: [1, kvHeads, 0, headDim] });
    return new KvCache(
      Array.from({ length: layers }, () => ({ key: none(), value: none() })),
      0,
    );
  }

  /** Positions the buffers have room for (≥ length). */
  get capacity(): number {
    const first = this.layers[0];
    return first ? dimsOf(first.key).capacity : 0;
  }

  /** Bytes held, for logs and benchmarks. */
  get bytes(): number {
    return this.layers.reduce((n, l) => n + l.key.data.byteLength + l.value.data.byteLength, 0);
  }

  /**
   * The first `n` positions. An exact-size cache is copied (a transformers.js decoder needs past tensors of
   * exactly the past length); a kv-append cache shares its buffers, so appending to the prefix overwrites
   * this cache's positions from `n` on: use one or the other afterwards, not both.
   */
  prefix(n: number): KvCache {
    if (n === this.length) return this;
    if (n > this.length || n < 0) throw new RangeError(`a cache of ${this.length} positions has no prefix of ${n}`);
    if (this.capacity > this.length) return new KvCache(this.layers, n);
    return new KvCache(
      this.layers.map((l) => ({ key: copyInto(l.key, n, n), value: copyInto(l.value, n, n) })),
      n,
    );
  }

  /**
   * This cache with room for `positions` and a growth block more, unless it already has room for `positions`
   * (a follow-up usually fits in what its conversation left spare). An empty cache allocates
   * once instead of growing, and copying, with every prefill chunk: a growth holds the old and the new buffers
   * at once (1.3 GB at LLaVA-1.5-7B's prompt length). Consumes this cache: use the returned one.
   */
  reserve(positions: number): KvCache {
    if (positions <= this.capacity) return this;
    const capacity = Math.ceil((positions + KV_GROWTH) / KV_GROWTH) * KV_GROWTH;
    const n = this.length;
    return new KvCache(
      this.layers.map((l) => ({ key: copyInto(l.key, n, capacity), value: copyInto(l.value, n, capacity) })),
      n,
    );
  }

  /**
   * This cache with `added[i]` ([1, heads, s, dim] per layer) written after its positions, in place when the
   * buffers have room, else in new buffers with room to spare. Consumes this cache: use the returned one.
   */
  append(added: readonly KvLayer[], s: number): KvCache {
    const n = this.length;
    let layers = this.layers;
    if (n + s > this.capacity) {
      const capacity = Math.ceil((n + s + KV_GROWTH) / KV_GROWTH) * KV_GROWTH;
      layers = layers.map((l) => ({ key: copyInto(l.key, n, capacity), value: copyInto(l.value, n, capacity) }));
    }
    layers.forEach((l, i) => {
      const a = added[i];
      if (!a) throw new RangeError(`no new keys/values for layer ${i}`);
      writeTail(l.key, a.key, n, s);
      writeTail(l.value, a.value, n, s);
    });
    return new KvCache(layers, n + s);
  }
}

function writeTail(into: NdFloat32, added: NdFloat32, at: number, s: number): void {
  const { heads, capacity, dim } = dimsOf(into);
  if (added.data.length !== heads * s * dim) throw new RangeError(`expected ${heads}×${s}×${dim} new values, got ${added.data.length}`);
  for (let h = 0; h < heads; h++) into.data.set(added.data.subarray(h * s * dim, (h + 1) * s * dim), (h * capacity + at) * dim);
}
