/**
 * One decoding step of BlipTextLMHeadModel with a KV cache: new token ids go in with the cached self-attention
 * keys/values of earlier positions and the encoder states the cross-attention reads (as they are and
 * transposed; crossAttentionOverStatesBlock); logits for the new positions and the extended cache come out.
 * With an empty cache and the whole sequence as input it computes the same as transformers without a cache.
 */
import { GraphBuilder } from '../onnx/graph-builder';
import type { BlipTextSpec } from './blip-config';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import type { EncoderStates, KeyValue, TextGraphContext } from './text-layers';
import { crossAttentionOverStatesBlock, FLOAT32_MIN, feedForwardBlock, lmHead, selfAttentionBlock, textEmbeddings } from './text-layers';

export const DECODER_INPUT_IDS = 'input_ids';
export const DECODER_ENCODER_MASK = 'encoder_attention_mask';
export const DECODER_LOGITS = 'logits';
export const pastKey = (i: number): string => `past_key.${i}`;
export const pastValue = (i: number): string => `past_value.${i}`;
export const presentKey = (i: number): string => `present_key.${i}`;
export const presentValue = (i: number): string => `present_value.${i}`;
export const DECODER_ENCODER_STATES = 'encoder_hidden_states';
export const DECODER_ENCODER_STATES_T = 'encoder_hidden_states_t';

export function buildTextDecoderGraph(spec: BlipTextSpec, w: CheckpointTensors, quantization: Quantization = 'none', prefix = 'text_decoder'): GraphBuilder {
  const g = new GraphBuilder('blip_text_decoder');
  const ctx: TextGraphContext = { g, w, spec, prefix: `${prefix}.bert`, quantization };
  const heads = spec.numAttentionHeads;
  const hd = spec.hiddenSize / heads;
  const L = spec.numHiddenLayers;

  const ids = g.input(DECODER_INPUT_IDS, 'int64', ['batch', 'seq']);
  const past: KeyValue[] = [];
  for (let i = 0; i < L; i++) {
    past.push({
      key: g.input(pastKey(i), 'float32', ['batch', heads, 'past_seq', hd]),
      value: g.input(pastValue(i), 'float32', ['batch', heads, 'past_seq', hd]),
    });
  }
  const enc: EncoderStates = {
    states: g.input(DECODER_ENCODER_STATES, 'float32', ['batch', 'enc_seq', spec.encoderHiddenSize]),
    statesT: g.input(DECODER_ENCODER_STATES_T, 'float32', ['batch', spec.encoderHiddenSize, 'enc_seq']),
  };
  const encMask = g.input(DECODER_ENCODER_MASK, 'int64', ['batch', 'enc_seq']);

  // Positions continue after the cached ones: past_len … past_len + seq − 1.
  const toScalar = (v: string): string => g.squeeze(v, [0]);
  const one = g.scalarInt64(1);
  const pastLen = L > 0 ? toScalar(g.dim(past[0]!.key, 2)) : g.scalarInt64(0);
  const seqLen = toScalar(g.dim(ids, 1));
  const total = g.add(pastLen, seqLen);
  const qPos = g.range(pastLen, total, one, 'position_ids');
  const kPos = g.range(g.scalarInt64(0), total, one);

  // Causal mask as transformers builds it: (1 − allowed) · −10000, added to the scores.
  const allowed = g.lessOrEqual(g.unsqueeze(kPos, [0]), g.unsqueeze(qPos, [1]));
  const causal = g.where(allowed, g.scalarFloat(0), g.scalarFloat(-10000), 'causal_mask');
  // Encoder mask: (1 − mask) · finfo.min, as invert_attention_mask; [b, enc, 1] for the transposed scores.
  const encF = g.cast(encMask, 'float32');
  const encAdd = g.unsqueeze(g.mul(g.sub(g.scalarFloat(1), encF), g.scalarFloat(FLOAT32_MIN)), [2], 'encoder_mask');

  const { hidden, wordEmbeddings } = textEmbeddings(ctx, ids, qPos);
  let h = hidden;
  for (let i = 0; i < L; i++) {
    const sa = selfAttentionBlock(ctx, i, h, { past: past[i], mask: causal, presentNames: { key: presentKey(i), value: presentValue(i) } });
    g.output(sa.present.key, presentKey(i), 'float32', ['batch', heads, 'total_seq', hd]);
    g.output(sa.present.value, presentValue(i), 'float32', ['batch', heads, 'total_seq', hd]);
    const ca = crossAttentionOverStatesBlock(ctx, i, sa.out, enc, encAdd);
    h = feedForwardBlock(ctx, i, ca);
  }
  const logits = lmHead(ctx, h, `${prefix}.cls.predictions`, wordEmbeddings);
  g.output(logits, DECODER_LOGITS, 'float32', ['batch', 'seq', spec.vocabSize]);
  return g;
}
