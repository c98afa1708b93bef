/**
 * BlipForQuestionAnswering's `text_encoder`: a bidirectional BlipTextModel over the question ids with a
 * padding mask, cross-attending to the image embeds. Its last hidden state is what the answer decoder
 * cross-attends to.
 */
import { GraphBuilder } from '../onnx/graph-builder';
import type { BlipTextSpec } from './blip-config';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import type { TextGraphContext } from './text-layers';
import { crossAttentionBlock, crossKeyValue, feedForwardBlock, selfAttentionBlock, textEmbeddings } from './text-layers';

export const ENCODER_INPUT_IDS = 'input_ids';
export const ENCODER_ATTENTION_MASK = 'attention_mask';
export const ENCODER_IMAGE_EMBEDS = 'encoder_hidden_states';
export const ENCODER_OUTPUT = 'last_hidden_state';

export function buildTextEncoderGraph(spec: BlipTextSpec, w: CheckpointTensors, quantization: Quantization = 'none', prefix = 'text_encoder'): GraphBuilder {
  const g = new GraphBuilder('blip_text_encoder');
  const ctx: TextGraphContext = { g, w, spec, prefix, quantization };
  const ids = g.input(ENCODER_INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(ENCODER_ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const image = g.input(ENCODER_IMAGE_EMBEDS, 'float32', ['batch', 'img_seq', spec.encoderHiddenSize]);

  const seqLen = g.squeeze(g.dim(ids, 1), [0]);
  const positions = g.range(g.scalarInt64(0), seqLen, g.scalarInt64(1), 'position_ids');
  // Padding mask as get_extended_attention_mask builds it for an encoder: (1 − mask) · −10000, [b, 1, 1, s].
  const maskF = g.cast(mask, 'float32');
  const additive = g.unsqueeze(g.mul(g.sub(g.scalarFloat(1), maskF), g.scalarFloat(-10000)), [1, 2], 'extended_mask');

  let h = textEmbeddings(ctx, ids, positions).hidden;
  for (let i = 0; i < spec.numHiddenLayers; i++) {
    const sa = selfAttentionBlock(ctx, i, h, { mask: additive });
    // The image mask is all ones, so the cross-attention needs no mask.
    const ca = crossAttentionBlock(ctx, i, sa.out, crossKeyValue(ctx, i, image));
    h = feedForwardBlock(ctx, i, ca);
  }
  g.output(h, ENCODER_OUTPUT, 'float32', ['batch', 'seq', spec.hiddenSize]);
  return g;
}
