/**
 * Registers checkpoint tensors as graph initializers, one tensor at a time, in the precision asked for:
 *  - 'fp32': MatMul with the weight transposed to [in, out];
 *  - 'int8': DynamicQuantizeMatMul, int8 columns (blocks.ts' pattern);
 *  - 'q4':   MatMulNBits straight from PyTorch's [out, in] rows.
 */
import { linear, quantizeColumnsInt8, transposeMatrix } from '../onnx/blocks';
import { attr, type GraphBuilder } from '../onnx/graph-builder';
import type { LlavaCheckpoint } from './checkpoint-reader';
import { quantizeRowsQ4, type Q4BlockSize } from './q4-quantize';

export type LinearPrecision = 'fp32' | 'int8' | 'q4';

/**
 * MatMulNBits' accuracy_level: the lowest precision its kernel may use for the activations. 0 keeps them
 * float32; 4 lets CPUs with int8 dot products quantise activations to int8 per block (faster, less exact).
 */
export type Q4AccuracyLevel = 0 | 1 | 2 | 3 | 4;

/** How 'q4' linears are built: MatMulNBits' accuracy_level and the quantisation block size. */
export interface Q4Options {
  accuracyLevel: Q4AccuracyLevel;
  blockSize: Q4BlockSize;
}

export const Q4_EXACT_BLOCK32: Q4Options = { accuracyLevel: 0, blockSize: 32 };

export class GraphWeights {
  constructor(
    readonly g: GraphBuilder,
    private readonly ckpt: LlavaCheckpoint,
    private readonly precision: LinearPrecision,
    private readonly q4: Q4Options = Q4_EXACT_BLOCK32,
    /** called after each tensor is registered: a streaming writer moves it to disk there */
    private readonly spill: () => Promise<void> = async () => {},
  ) {}

  /** A float tensor under its checkpoint name, reshaped to `dims` when given (same element count). */
  async tensor(name: string, shape: number[], dims: number[] = shape): Promise<string> {
    const data = await this.ckpt.float(name, shape);
    const out = this.g.initializer(name, { type: 'float32', data, dims });
    await this.spill();
    return out;
  }

  /** x @ Wᵀ (+ b) for a PyTorch Linear named `prefix` with weight [n, k]. */
  async linear(x: string, prefix: string, k: number, n: number, bias: boolean): Promise<string> {
    const w = await this.ckpt.float(`${prefix}.weight`, [n, k]);
    const b = bias ? await this.tensor(`${prefix}.bias`, [n]) : undefined;
    const y = this.linearFrom(x, prefix, w, k, n, b);
    await this.spill();
    return y;
  }

  /**
   * Several Linears of the same input (q/k/v, gate/up) as one matmul over their stacked rows, split back into
   * one output each: fewer, wider kernels, and the input is read (and, for int8 compute, quantised) once. Each
   * output column is the same dot product as in its own Linear, and q4/int8 quantise per row/column, so the
   * weights are exactly those of the separate Linears.
   */
  async linearGroup(x: string, prefixes: readonly string[], k: number, ns: readonly number[], bias: boolean): Promise<string[]> {
    if (prefixes.length === 1) return [await this.linear(x, prefixes[0] as string, k, ns[0] as number, bias)];
    const total = ns.reduce((a, b) => a + b, 0);
    const rows = new Float32Array(total * k);
    const biases = bias ? new Float32Array(total) : undefined;
    let at = 0;
    for (let i = 0; i < prefixes.length; i++) {
      const n = ns[i] as number;
      rows.set(await this.ckpt.float(`${prefixes[i]}.weight`, [n, k]), at * k);
      if (biases) biases.set(await this.ckpt.float(`${prefixes[i]}.bias`, [n]), at);
      at += n;
    }
    const name = groupName(prefixes);
    const b = biases ? this.g.initializer(`${name}.bias`, { type: 'float32', data: biases, dims: [total] }) : undefined;
    const y = this.linearFrom(x, name, rows, k, total, b);
    await this.spill();
    return this.g.node('Split', [y, this.g.int64s([...ns])], { axis: attr.int(-1) }, { outputs: prefixes.length, name: `${name}_split` });
  }

  /** Same as `linear` for a weight already in memory as [n, k] rows (a tied lm_head reuses the embeddings). */
  linearFrom(x: string, prefix: string, rows: Float32Array, k: number, n: number, bias?: string): string {
    const g = this.g;
    if (this.precision === 'q4') {
      const q = quantizeRowsQ4(rows, n, k, this.q4.blockSize);
      const pw = g.initializer(`${prefix}.weight_Q4`, { type: 'uint8', data: q.packed, dims: [n, q.blocks, q.blockSize / 2] });
      const sc = g.initializer(`${prefix}.weight_scales`, { type: 'float32', data: q.scales, dims: [n * q.blocks] });
      const attrs = { K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(q.blockSize), accuracy_level: attr.int(this.q4.accuracyLevel) };
      const [y] = g.node('MatMulNBits', [x, pw, sc], attrs, { domain: 'com.microsoft', name: `${prefix}_q4` }) as [string];
      return bias ? g.add(y, bias, prefix) : y;
    }
    const cols = transposeMatrix(rows, n, k);
    if (this.precision === 'int8') {
      const { q, scale } = quantizeColumnsInt8(cols, k, n);
      return linear(g, x, {
        kind: 'int8',
        weight: g.initializer(`${prefix}.weight_int8`, { type: 'int8', data: q, dims: [k, n] }),
        scale: g.initializer(`${prefix}.weight_scale`, { type: 'float32', data: scale, dims: [n] }),
        zeroPoint: g.initializer(`${prefix}.weight_zero_point`, { type: 'int8', data: new Int8Array(n), dims: [n] }),
        ...(bias ? { bias } : {}),
      }, prefix);
    }
    return linear(g, x, { weight: g.initializer(`${prefix}.weight`, { type: 'float32', data: cols, dims: [k, n] }), ...(bias ? { bias } : {}) }, prefix);
  }
}

/** 'a.b.q_proj' + 'a.b.k_proj' → 'a.b.q_proj+k_proj': the shared prefix once, then each Linear's own name. */
function groupName(prefixes: readonly string[]): string {
  const first = prefixes[0] as string;
  const dot = first.lastIndexOf('.');
  const head = first.slice(0, dot + 1);
  return head + prefixes.map((p) => (p.startsWith(head) ? p.slice(head.length) : p)).join('+');
}
