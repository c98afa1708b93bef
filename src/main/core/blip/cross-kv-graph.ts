/**
 * The decoder's cross-attention keys and values for every layer, computed once per image (or per question
 * for VQA) instead of at every generated token. Keys are [b, heads, hd, enc], pre-scaled by 1/√hd, values
 * [b, heads, enc, hd] (crossKeyValueScaled).
 */
import { GraphBuilder } from '../onnx/graph-builder';
import type { BlipTextSpec } from './blip-config';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import { crossKey, crossValue } from './text-decoder-graph';
import { crossKeyValueScaled } from './text-layers';

export const CROSS_KV_INPUT = 'encoder_hidden_states';

export function buildCrossKvGraph(spec: BlipTextSpec, w: CheckpointTensors, quantization: Quantization = 'none', prefix = 'text_decoder'): GraphBuilder {
  const g = new GraphBuilder('blip_cross_kv');
  const heads = spec.numAttentionHeads;
  const hd = spec.hiddenSize / heads;
  const states = g.input(CROSS_KV_INPUT, 'float32', ['batch', 'enc_seq', spec.encoderHiddenSize]);
  const ctx = { g, w, spec, prefix: `${prefix}.bert`, quantization };
  for (let i = 0; i < spec.numHiddenLayers; i++) {
    const kv = crossKeyValueScaled(ctx, i, states);
    g.output(kv.key, crossKey(i), 'float32', ['batch', heads, hd, 'enc_seq']);
    g.output(kv.value, crossValue(i), 'float32', ['batch', heads, 'enc_seq', hd]);
  }
  return g;
}
