import { quantizeColumnsInt8, transposeMatrix } from '../onnx/blocks';
import type { LayerNormParams, LinearParams } from '../onnx/blocks';
import type { GraphBuilder } from '../onnx/graph-builder';
import type { CheckpointTensors } from './checkpoint-tensors';

/** How linear layers are stored: float32, or int8 weights with dynamically quantised activations. */
export type Quantization = 'none' | 'int8';

/**
 * Registers a PyTorch Linear (weight [out, in]) as an [in, out] initializer for MatMul, plus its bias;
 * quantised per output column when asked.
 */
export function linearParams(g: GraphBuilder, w: CheckpointTensors, prefix: string, out: number, inp: number, quantization: Quantization = 'none'): LinearParams {
  return linearFromData(g, prefix, w.float(`${prefix}.weight`, [out, inp]), w.float(`${prefix}.bias`, [out]), out, inp, quantization);
}

/**
 * As linearParams, from a PyTorch [out, in] weight and its bias already in memory (e.g. a row block of a fused
 * [q; k; v] projection), registered under `prefix`.
 */
export function linearFromData(
  g: GraphBuilder,
  prefix: string,
  weightOutIn: Float32Array,
  biasData: Float32Array | undefined,
  out: number,
  inp: number,
  quantization: Quantization = 'none',
): LinearParams {
  const data = transposeMatrix(weightOutIn, out, inp);
  const bias = biasData && g.initializer(`${prefix}.bias`, { type: 'float32', data: biasData, dims: [out] });
  if (quantization === 'int8') {
    const { q, scale } = quantizeColumnsInt8(data, inp, out);
    return {
      kind: 'int8',
      weight: g.initializer(`${prefix}.weight_int8`, { type: 'int8', data: q, dims: [inp, out] }),
      scale: g.initializer(`${prefix}.weight_scale`, { type: 'float32', data: scale, dims: [out] }),
      zeroPoint: g.initializer(`${prefix}.weight_zero_point`, { type: 'int8', data: new Int8Array(out), dims: [out] }),
      bias,
    };
  }
  const weight = g.initializer(`${prefix}.weight`, { type: 'float32', data, dims: [inp, out] });
  return { weight, bias };
}

export function layerNormParams(g: GraphBuilder, w: CheckpointTensors, prefix: string, size: number, epsilon: number): LayerNormParams {
  const scale = g.initializer(`${prefix}.weight`, { type: 'float32', data: w.float(`${prefix}.weight`, [size]), dims: [size] });
  const bias = g.initializer(`${prefix}.bias`, { type: 'float32', data: w.float(`${prefix}.bias`, [size]), dims: [size] });
  return { scale, bias, epsilon };
}

/** A float tensor registered under its checkpoint name after a shape check. */
export function tensorParam(g: GraphBuilder, w: CheckpointTensors, name: string, dims: number[]): string {
  return g.initializer(name, { type: 'float32', data: w.float(name, dims), dims });
}
