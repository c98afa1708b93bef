/**
 * BlipForImageTextRetrieval as two ONNX graphs (modeling_blip.py, BlipForImageTextRetrieval.forward):
 *
 * - image: BlipVisionModel → image_embeds [b, tokens, Dv]; vision_proj(image_embeds[:, 0]) L2-normalised →
 *   image_feat [b, E]. The image embeds are an output too: the text graph's ITM path cross-attends to them.
 * - text, both heads of the text side:
 *   ITC (use_itm_head=False): text_encoder WITHOUT encoder_hidden_states, so no layer cross-attends;
 *   text_proj(last_hidden_state[:, 0]) L2-normalised → text_feat [b, E].
 *   ITM (use_itm_head=True): text_encoder cross-attending to the image embeds (all-ones image mask);
 *   itm_head(last_hidden_state[:, 0]) → itm_logits [b, 2], softmax(·)[:, 1] → itm_probability [b].
 *
 * Token 0 is whatever the tokenizer put first ([CLS]): transformers' retrieval forward does not swap in
 * [ENC] the way Salesforce's original ITM code did, so neither do we. Self-attention uses BERT's encoder mask,
 * (1 − attention_mask) · −10000. The projections and the ITM head stay float32 even in int8 builds: they are
 * tiny, and an embedding's direction is the whole result.
 */
import { attr, GraphBuilder } from '../onnx/graph-builder';
import { linear } from '../onnx/blocks';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import { linearParams } from './graph-params';
import type { BlipRetrievalSpec } from './retrieval-config';
import type { TextGraphContext } from './text-layers';
import { crossAttentionBlock, crossKeyValue, feedForwardBlock, selfAttentionBlock, textEmbeddings } from './text-layers';
import { buildVisionGraph, VISION_INPUT, VISION_OUTPUT } from './vision-graph';

export const RETRIEVAL_PIXELS = VISION_INPUT;
export const RETRIEVAL_IMAGE_EMBEDS = VISION_OUTPUT;
export const RETRIEVAL_IMAGE_FEAT = 'image_feat';
export const RETRIEVAL_INPUT_IDS = 'input_ids';
export const RETRIEVAL_ATTENTION_MASK = 'attention_mask';
export const RETRIEVAL_TEXT_FEAT = 'text_feat';
export const RETRIEVAL_ITM_IMAGE = 'encoder_hidden_states';
export const RETRIEVAL_USE_IMAGE = 'use_image';
export const RETRIEVAL_ITM_LOGITS = 'itm_logits';
export const RETRIEVAL_ITM_PROBABILITY = 'itm_probability';

/** torch.nn.functional.normalize's default eps: x / max(‖x‖₂, 1e-12). */
export const NORMALIZE_EPS = 1e-12;

function l2Normalize(g: GraphBuilder, x: string): string {
  const norm = g.op('ReduceL2', [x], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  return g.div(x, g.op('Max', [norm, g.scalarFloat(NORMALIZE_EPS)]));
}

/** Row 0 along the sequence axis: [b, s, D] → [b, D]. */
function firstToken(g: GraphBuilder, x: string): string {
  return g.gather(x, g.scalarInt64(0), 1);
}

export function buildRetrievalImageGraph(spec: BlipRetrievalSpec, w: CheckpointTensors, quantization: Quantization = 'none'): GraphBuilder {
  const g = buildVisionGraph(spec.vision, w, quantization);
  const E = spec.imageTextHiddenSize;
  const proj = linear(g, firstToken(g, VISION_OUTPUT), linearParams(g, w, 'vision_proj', E, spec.vision.hiddenSize));
  g.output(l2Normalize(g, proj), RETRIEVAL_IMAGE_FEAT, 'float32', ['batch', E]);
  return g;
}

/**
 * text_encoder's last hidden state at token 0. Every layer computes its cross-attention to `image`, and `useImage`
 * (a bool scalar) picks per layer either that output (ITM) or the self-attention output unchanged (ITC, exactly
 * the encoder without cross-attention): one copy of the encoder's weights serves both paths, about 0.4 GB less at
 * base than two graphs. On the ITC path the caller passes a one-token dummy image, so the branch it throws away
 * costs two small projections per layer.
 */
function textEncoderFirstToken(ctx: TextGraphContext, ids: string, mask: string, image: string, useImage: string): string {
  const { g, spec } = ctx;
  const positions = g.range(g.scalarInt64(0), g.squeeze(g.dim(ids, 1), [0]), g.scalarInt64(1), 'position_ids');
  // BlipTextModel.get_extended_attention_mask for an encoder: (1 − mask) · −10000, broadcast as [b, 1, 1, s].
  const additive = g.unsqueeze(g.mul(g.sub(g.scalarFloat(1), g.cast(mask, 'float32')), g.scalarFloat(-10000)), [1, 2], 'extended_mask');
  let h = textEmbeddings(ctx, ids, positions).hidden;
  for (let i = 0; i < spec.numHiddenLayers; i++) {
    const sa = selfAttentionBlock(ctx, i, h, { mask: additive });
    // image_atts is all ones, so the cross-attention needs no mask (invert_attention_mask of ones adds 0).
    const ca = crossAttentionBlock(ctx, i, sa.out, crossKeyValue(ctx, i, image));
    h = feedForwardBlock(ctx, i, g.where(useImage, ca, sa.out));
  }
  return firstToken(g, h);
}

/**
 * The text side of both heads: text_feat (ITC, `use_image` false) and itm_logits / itm_probability (ITM,
 * `use_image` true). The image embeds are [1 or b, tokens, Dv]: MatMul broadcasts one image row to every text
 * row, so its cross-attention keys and values are computed once per layer, not once per text.
 */
export function buildRetrievalTextGraph(spec: BlipRetrievalSpec, w: CheckpointTensors, quantization: Quantization = 'none'): GraphBuilder {
  const g = new GraphBuilder('blip_retrieval_text');
  const ctx: TextGraphContext = { g, w, spec: spec.text, prefix: 'text_encoder', quantization };
  const ids = g.input(RETRIEVAL_INPUT_IDS, 'int64', ['batch', 'seq']);
  const mask = g.input(RETRIEVAL_ATTENTION_MASK, 'int64', ['batch', 'seq']);
  const image = g.input(RETRIEVAL_ITM_IMAGE, 'float32', ['image_batch', 'image_tokens', spec.text.encoderHiddenSize]);
  const useImage = g.input(RETRIEVAL_USE_IMAGE, 'bool', []);
  const cls = textEncoderFirstToken(ctx, ids, mask, image, useImage);
  const E = spec.imageTextHiddenSize;
  const proj = linear(g, cls, linearParams(g, w, 'text_proj', E, spec.text.hiddenSize));
  g.output(l2Normalize(g, proj), RETRIEVAL_TEXT_FEAT, 'float32', ['batch', E]);
  const logits = linear(g, cls, linearParams(g, w, 'itm_head', 2, spec.text.hiddenSize));
  g.output(logits, RETRIEVAL_ITM_LOGITS, 'float32', ['batch', 2]);
  const probability = g.gather(g.softmax(logits, -1), g.scalarInt64(1), 1);
  g.output(probability, RETRIEVAL_ITM_PROBABILITY, 'float32', ['batch']);
  return g;
}
