import { transposeMatrix } from '../onnx/blocks';
import type { LayerNormParams, LinearParams } from '../onnx/blocks';
import type { GraphBuilder } from '../onnx/graph-builder';
import type { CheckpointTensors } from './checkpoint-tensors';

/** Registers a PyTorch Linear (weight [out, in]) as an [in, out] initializer for MatMul, plus its bias. */
export function linearParams(g: GraphBuilder, w: CheckpointTensors, prefix: string, out: number, inp: number): LinearParams {
  const data = transposeMatrix(w.float(`${prefix}.weight`, [out, inp]), out, inp);
  const weight = g.initializer(`${prefix}.weight`, { type: 'float32', data, dims: [inp, out] });
  const bias = g.initializer(`${prefix}.bias`, { type: 'float32', data: w.float(`${prefix}.bias`, [out]), dims: [out] });
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
