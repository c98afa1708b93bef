import type { GraphBuilder } from './graph-builder';

/**
 * Transformer building blocks expressed with standard ONNX ops. They mirror PyTorch's formulas step by step
 * (same operation order, same constants) so the graphs agree with Hugging Face to float rounding.
 */

export interface FloatLinearParams {
  kind?: 'float';
  /** initializer holding the weight as [in, out] (PyTorch stores [out, in]; see `transposeMatrix`). */
  weight: string;
  bias?: string;
}

/** int8 weights [in, out] with one scale per output column (zero point 0), for DynamicQuantizeMatMul. */
export interface Int8LinearParams {
  kind: 'int8';
  weight: string;
  scale: string;
  zeroPoint: string;
  bias?: string;
}

export type LinearParams = FloatLinearParams | Int8LinearParams;

export interface LayerNormParams {
  scale: string;
  bias: string;
  epsilon: number;
}

/** Row-major [rows, cols] → [cols, rows]. */
export function transposeMatrix(data: Float32Array, rows: number, cols: number, out = new Float32Array(rows * cols)): Float32Array {
  // Blocked to stay cache-friendly on 768×3072 matrices.
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const src = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = data[src + c] as number;
      }
    }
  }
  return out;
}

/**
 * Symmetric per-column int8 quantisation of an [in, out] matrix. Values use ±63 (7 bits): with uint8
 * activations, AVX2's 16-bit pairwise multiply-add would saturate on full-range weights.
 */
export function quantizeColumnsInt8(w: Float32Array, inDim: number, outDim: number): { q: Int8Array; scale: Float32Array } {
  const QMAX = 63;
  const scale = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) scale[o] = Math.max(scale[o] as number, Math.abs(w[i * outDim + o] as number));
  }
  for (let o = 0; o < outDim; o++) scale[o] = (scale[o] as number) > 0 ? (scale[o] as number) / QMAX : 1;
  const q = new Int8Array(inDim * outDim);
  for (let i = 0; i < inDim; i++) {
    for (let o = 0; o < outDim; o++) q[i * outDim + o] = Math.round((w[i * outDim + o] as number) / (scale[o] as number));
  }
  return { q, scale };
}

/** x @ W + b, like torch.nn.Linear; int8 weights run as onnxruntime's DynamicQuantizeMatMul. */
export function linear(g: GraphBuilder, x: string, p: LinearParams, name?: string): string {
  if (p.kind === 'int8') {
    const inputs = [x, p.weight, p.scale, p.zeroPoint, ...(p.bias ? [p.bias] : [])];
    const [y] = g.node('DynamicQuantizeMatMul', inputs, {}, { domain: 'com.microsoft', name: name ?? 'qmatmul' });
    return y as string;
  }
  const y = g.matmul(x, p.weight, name ? `${name}_mm` : undefined);
  return p.bias ? g.add(y, p.bias, name) : y;
}

export function layerNorm(g: GraphBuilder, x: string, p: LayerNormParams, name?: string): string {
  return g.layerNormalization(x, p.scale, p.bias, p.epsilon, name);
}

/** Activation names as transformers' ACT2FN spells them. */
export const SUPPORTED_ACTIVATIONS = [
  'gelu',
  'gelu_python',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'relu',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
] as const;
export type ActivationName = (typeof SUPPORTED_ACTIVATIONS)[number];

export function isSupportedActivation(name: string): name is ActivationName {
  return (SUPPORTED_ACTIVATIONS as readonly string[]).includes(name);
}

/** Exact GELU: 0.5 · x · (1 + erf(x / √2)). */
export function geluErf(g: GraphBuilder, x: string): string {
  const e = g.erf(g.div(x, g.scalarFloat(Math.SQRT2)));
  return g.mul(g.mul(x, g.add(e, g.scalarFloat(1))), g.scalarFloat(0.5));
}

/** tanh approximation: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))). */
function geluTanh(g: GraphBuilder, x: string): string {
  const x3 = g.mul(g.mul(x, x), x);
  const inner = g.mul(g.add(x, g.mul(x3, g.scalarFloat(0.044715))), g.scalarFloat(Math.sqrt(2 / Math.PI)));
  return g.mul(g.mul(x, g.scalarFloat(0.5)), g.add(g.tanh(inner), g.scalarFloat(1)));
}

export function activation(g: GraphBuilder, x: string, name: ActivationName): string {
  switch (name) {
    case 'gelu':
    case 'gelu_python':
      return geluErf(g, x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh(g, x);
    case 'quick_gelu':
      return g.mul(x, g.sigmoid(g.mul(x, g.scalarFloat(1.702))));
    case 'relu':
      return g.relu(x);
    case 'silu':
    case 'swish':
      return g.mul(x, g.sigmoid(x));
    case 'tanh':
      return g.tanh(x);
    case 'sigmoid':
      return g.sigmoid(x);
  }
}

/** [b, s, heads·hd] → [b, heads, s, hd] */
export function splitHeads(g: GraphBuilder, x: string, heads: number, headDim: number): string {
  return g.transpose(g.reshape(x, [0, 0, heads, headDim]), [0, 2, 1, 3]);
}

/** [b, heads, s, hd] → [b, s, heads·hd] */
export function mergeHeads(g: GraphBuilder, x: string, hidden: number): string {
  return g.reshape(g.transpose(x, [0, 2, 1, 3]), [0, 0, hidden]);
}

export interface AttentionOptions {
  /**
   * How scores are scaled. BLIP's vision attention multiplies by hd^-0.5 while its BERT-style text attention
   * divides by √hd; the two round differently, so both are kept.
   */
  scale: { op: 'mul' | 'div'; value: number };
  /** additive mask broadcastable to [b, heads, q, k] */
  mask?: string;
  /** k is already [b, heads, hd, s_k] (cached cross-attention keys are stored that way) */
  keyTransposed?: boolean;
}

/** softmax(q·kᵀ scaled + mask) · v with q, k, v as [b, heads, s, hd]; returns [b, heads, q, hd]. */
export function scaledDotProductAttention(g: GraphBuilder, q: string, k: string, v: string, o: AttentionOptions): string {
  let scores = g.matmul(q, o.keyTransposed ? k : g.transpose(k, [0, 1, 3, 2]));
  const s = g.scalarFloat(o.scale.value);
  scores = o.scale.op === 'mul' ? g.mul(scores, s) : g.div(scores, s);
  if (o.mask) scores = g.add(scores, o.mask);
  return g.matmul(g.softmax(scores, -1), v);
}
