/**
 * BERT-style post-LN pieces of BlipTextModel (modeling_blip_text.py): embeddings, self-attention (with an
 * optional KV cache), cross-attention, feed-forward and the LM prediction head.
 */
import { activation, layerNorm, linear, mergeHeads, quantizeColumnsInt8, scaledDotProductAttention, splitHeads, transposeMatrix } from '../onnx/blocks';
import type { GraphBuilder } from '../onnx/graph-builder';
import { attr } from '../onnx/graph-builder';
import type { BlipTextSpec } from './blip-config';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import { layerNormParams, linearParams, tensorParam } from './graph-params';

export interface TextGraphContext {
  g: GraphBuilder;
  w: CheckpointTensors;
  spec: BlipTextSpec;
  /** checkpoint prefix of the BlipTextModel, e.g. `text_decoder.bert` or `text_encoder` */
  prefix: string;
  /** how the layers' linear weights are stored; default float32 */
  quantization?: Quantization;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** torch.finfo(float32).min, what transformers' invert_attention_mask multiplies by. */
export const FLOAT32_MIN = -3.4028234663852886e38;

function heads(spec: BlipTextSpec): { n: number; hd: number } {
  return { n: spec.numAttentionHeads, hd: spec.hiddenSize / spec.numAttentionHeads };
}

/**
 * The word-embedding tensor. A checkpoint saved with tied weights may keep the shared tensor under the LM head's
 * name only (`text_decoder.cls.predictions.decoder.weight`), so that name is the fallback for the decoder.
 */
export function wordEmbeddingsName(ctx: TextGraphContext): string {
  const name = `${ctx.prefix}.embeddings.word_embeddings.weight`;
  if (ctx.w.has(name) || !ctx.prefix.endsWith('.bert')) return name;
  const tied = `${ctx.prefix.slice(0, -'.bert'.length)}.cls.predictions.decoder.weight`;
  return ctx.w.has(tied) ? tied : name;
}

/**
 * word_embeddings(ids) + position_embeddings(positions) → LayerNorm. `positions` is an int64 vector of
 * length seq (shared by the batch). Returns [b, s, D] plus the word-embedding initializer for tying.
 */
export function textEmbeddings(ctx: TextGraphContext, inputIds: string, positions: string): { hidden: string; wordEmbeddings: string } {
  const { g, w, spec, prefix } = ctx;
  const D = spec.hiddenSize;
  const wordEmbeddings = tensorParam(g, w, wordEmbeddingsName(ctx), [spec.vocabSize, D]);
  const posTable = tensorParam(g, w, `${prefix}.embeddings.position_embeddings.weight`, [spec.maxPositionEmbeddings, D]);
  const words = g.gather(wordEmbeddings, inputIds, 0, 'inputs_embeds');
  const pos = g.gather(posTable, positions, 0, 'position_embeds');
  const sum = g.add(words, pos);
  const hidden = layerNorm(g, sum, layerNormParams(g, w, `${prefix}.embeddings.LayerNorm`, D, spec.layerNormEps), 'embedding_output');
  return { hidden, wordEmbeddings };
}

/**
 * Projects encoder states to one cross-attention layer's key and value. The key comes out transposed,
 * [b, heads, hd, s_enc], ready for q·k, so a decoder reusing it at every step never transposes it again;
 * the value is [b, heads, s_enc, hd].
 */
export function crossKeyValue(ctx: TextGraphContext, layer: number, encoderStates: string): KeyValue {
  const { g, w, spec, prefix } = ctx;
  const { n, hd } = heads(spec);
  const D = spec.hiddenSize;
  const lp = `${prefix}.encoder.layer.${layer}.crossattention.self`;
  const keyFlat = linear(g, encoderStates, linearParams(g, w, `${lp}.key`, D, spec.encoderHiddenSize, ctx.quantization));
  const key = g.transpose(g.reshape(keyFlat, [0, 0, n, hd]), [0, 2, 3, 1]);
  const value = splitHeads(g, linear(g, encoderStates, linearParams(g, w, `${lp}.value`, D, spec.encoderHiddenSize, ctx.quantization)), n, hd);
  return { key, value };
}

/** The encoder states a decoder's cross-attention reads: [b, s_enc, De] and the same transposed, [b, De, s_enc]. */
export interface EncoderStates {
  states: string;
  statesT: string;
}

/**
 * Cross-attention sublayer computed over the encoder states themselves, with the key and value projections
 * moved to the query's side: q·(X·Wkᵀ + bk)ᵀ = (q·Wk)·Xᵀ + q·bk, and P·(X·Wvᵀ + bv) = (P·X)·Wvᵀ + bv because
 * each row of P sums to 1. q·bk is the same for every key of a row and head, so softmax cancels it exactly.
 * A decoder then needs no per-image keys and values (BLIP-base: 40 MiB per photo, 16 GFLOP to compute) at the
 * price of more work per step over the encoder states ([heads·s, De] × [De, s_enc] instead of [s, hd] × [hd,
 * s_enc] per head), which is cheaper for the short sequences BLIP generates (20 tokens: about 5.5 GFLOP).
 * The products are laid out so the encoder states are only ever the streamed operand of a MatMul (onnxruntime
 * packs the second operand: packing 1.8 MiB of states per row and layer at every step was slower than the
 * keys/values it replaces). The key weights carry 1/√hd, exact when √hd is a power of two (every BLIP: hd 64).
 * Weights stay float32 in every quantization: they are 2·D·De per layer and run on a few rows.
 */
export function crossAttentionOverStatesBlock(ctx: TextGraphContext, layer: number, x: string, enc: EncoderStates, mask?: string): string {
  const { g, w, spec, prefix } = ctx;
  const { n, hd } = heads(spec);
  const D = spec.hiddenSize;
  const De = spec.encoderHiddenSize;
  const lp = `${prefix}.encoder.layer.${layer}.crossattention`;
  const s = 1 / Math.sqrt(hd);
  // Torch's [D, De] key weight is [heads, hd, De] as it is: q_h · Wk_h for every head at once.
  const keyHeads = g.initializer(`${lp}.self.key.heads`, { type: 'float32', data: w.float(`${lp}.self.key.weight`, [D, De]).map((v) => v * s), dims: [n, hd, De] });
  const valueOutIn = w.float(`${lp}.self.value.weight`, [D, De]);
  const valueHeads = new Float32Array(n * De * hd);
  // Each head's [hd, De] row block of torch's value weight, transposed: [heads, De, hd].
  for (let h = 0; h < n; h++) transposeMatrix(valueOutIn.subarray(h * hd * De, (h + 1) * hd * De), hd, De, valueHeads.subarray(h * De * hd, (h + 1) * De * hd));
  const valueHeadsName = g.initializer(`${lp}.self.value.heads`, { type: 'float32', data: valueHeads, dims: [n, De, hd] });
  const valueBias = g.initializer(`${lp}.self.value.heads_bias`, { type: 'float32', data: w.float(`${lp}.self.value.bias`, [D]), dims: [n, 1, hd] });

  const q = linear(g, x, linearParams(g, w, `${lp}.self.query`, D, D, ctx.quantization)); // [b, s, D]
  const rows = g.dim(x, 0);
  const byHead = g.transpose(g.reshape(q, [-1, n, hd]), [1, 0, 2]); // [n, b·s, hd]
  const qk = g.matmul(byHead, keyHeads); // [n, b·s, De]
  const qkRows = g.reshape(g.transpose(qk, [1, 0, 2]), g.concat([rows, g.int64s([-1, De])], 0)); // [b, s·n, De]
  const [scoresT] = g.node('FusedMatMul', [enc.states, qkRows], { transB: attr.int(1) }, { domain: 'com.microsoft', name: `cross_scores_${layer}` }); // [b, s_enc, s·n]
  const masked = mask ? g.add(scoresT as string, mask) : (scoresT as string);
  const probsT = g.softmax(masked, 1);
  const mixedT = g.matmul(enc.statesT, probsT); // [b, De, s·n]
  const mixed = g.transpose(g.reshape(g.transpose(mixedT, [0, 2, 1]), [-1, n, De]), [1, 0, 2]); // [n, b·s, De]
  const context = g.add(g.matmul(mixed, valueHeadsName), valueBias); // [n, b·s, hd]
  const merged = g.reshape(g.transpose(context, [1, 0, 2]), g.shape(q)); // [b, s, D]
  return selfOutput(ctx, lp, merged, x);
}

/** dense → dropout(no-op) → LayerNorm(out + input): BlipTextSelfOutput. */
function selfOutput(ctx: TextGraphContext, lp: string, context: string, input: string): string {
  const { g, w, spec } = ctx;
  const D = spec.hiddenSize;
  const dense = linear(g, context, linearParams(g, w, `${lp}.output.dense`, D, D, ctx.quantization));
  return layerNorm(g, g.add(dense, input), layerNormParams(g, w, `${lp}.output.LayerNorm`, D, spec.layerNormEps));
}

/**
 * Self-attention sublayer. With `past`, new keys/values are appended to it along the sequence axis and the
 * concatenation is returned as `present` (named `presentNames` when given). `mask` is additive, broadcastable to [b, heads, q, k].
 */
export function selfAttentionBlock(
  ctx: TextGraphContext,
  layer: number,
  x: string,
  options: { past?: KeyValue; mask?: string; presentNames?: KeyValue },
): { out: string; present: KeyValue } {
  const { g, w, spec, prefix } = ctx;
  const { n, hd } = heads(spec);
  const D = spec.hiddenSize;
  const lp = `${prefix}.encoder.layer.${layer}.attention`;
  const q = splitHeads(g, linear(g, x, linearParams(g, w, `${lp}.self.query`, D, D, ctx.quantization)), n, hd);
  let k = splitHeads(g, linear(g, x, linearParams(g, w, `${lp}.self.key`, D, D, ctx.quantization)), n, hd);
  let v = splitHeads(g, linear(g, x, linearParams(g, w, `${lp}.self.value`, D, D, ctx.quantization)), n, hd);
  if (options.past) {
    // Named as the graph's outputs, the concatenations are written there directly (no Identity copy per step).
    k = g.concat([options.past.key, k], 2, options.presentNames?.key);
    v = g.concat([options.past.value, v], 2, options.presentNames?.value);
  }
  const ctxOut = scaledDotProductAttention(g, q, k, v, { scale: { op: 'div', value: Math.sqrt(hd) }, mask: options.mask });
  return { out: selfOutput(ctx, lp, mergeHeads(g, ctxOut, D), x), present: { key: k, value: v } };
}

/** Cross-attention sublayer over encoder keys ([b, heads, hd, s_enc], see crossKeyValue) and values. */
export function crossAttentionBlock(ctx: TextGraphContext, layer: number, x: string, kv: KeyValue, mask?: string): string {
  const { g, w, spec, prefix } = ctx;
  const { n, hd } = heads(spec);
  const D = spec.hiddenSize;
  const lp = `${prefix}.encoder.layer.${layer}.crossattention`;
  const q = splitHeads(g, linear(g, x, linearParams(g, w, `${lp}.self.query`, D, D, ctx.quantization)), n, hd);
  const ctxOut = scaledDotProductAttention(g, q, kv.key, kv.value, { scale: { op: 'div', value: Math.sqrt(hd) }, mask, keyTransposed: true });
  return selfOutput(ctx, lp, mergeHeads(g, ctxOut, D), x);
}

/** intermediate dense → activation → output dense → LayerNorm(out + input). */
export function feedForwardBlock(ctx: TextGraphContext, layer: number, x: string): string {
  const { g, w, spec, prefix } = ctx;
  const D = spec.hiddenSize;
  const lp = `${prefix}.encoder.layer.${layer}`;
  const inter = activation(g, linear(g, x, linearParams(g, w, `${lp}.intermediate.dense`, spec.intermediateSize, D, ctx.quantization)), spec.hiddenAct);
  const out = linear(g, inter, linearParams(g, w, `${lp}.output.dense`, D, spec.intermediateSize, ctx.quantization));
  return layerNorm(g, g.add(out, x), layerNormParams(g, w, `${lp}.output.LayerNorm`, D, spec.layerNormEps), `layer_${layer}_out`);
}

/**
 * BlipTextOnlyMLMHead: transform (dense, act, LayerNorm) then the vocabulary projection. The projection
 * weight is the word embedding matrix (transformers ties `cls.predictions.decoder.weight` to it) unless the
 * config unties them; the bias is `cls.predictions.bias` (`decoder.bias` is tied to it).
 * Returns logits shaped like x with the last axis = vocab.
 */
export function lmHead(ctx: TextGraphContext, x: string, headPrefix: string, wordEmbeddings: string): string {
  const { g, w, spec } = ctx;
  const D = spec.hiddenSize;
  const V = spec.vocabSize;
  const tp = `${headPrefix}.transform`;
  let h = linear(g, x, linearParams(g, w, `${tp}.dense`, D, D, ctx.quantization));
  h = activation(g, h, spec.hiddenAct);
  h = layerNorm(g, h, layerNormParams(g, w, `${tp}.LayerNorm`, D, spec.layerNormEps));
  const decoderName = `${headPrefix}.decoder.weight`;
  const untied = !spec.tieWordEmbeddings && w.has(decoderName) && decoderName !== wordEmbeddings;
  const biasName = w.has(`${headPrefix}.bias`) ? `${headPrefix}.bias` : `${headPrefix}.decoder.bias`;
  const bias = tensorParam(g, w, biasName, [V]);
  if (ctx.quantization === 'int8') {
    // Reading the float vocabulary matrix dominates a decoding step at batch 1; int8 reads a quarter of it.
    const source = untied ? decoderName : wordEmbeddings;
    const { q, scale } = quantizeColumnsInt8(transposeMatrix(w.float(source, [V, D]), V, D), D, V);
    return linear(
      g,
      h,
      {
        kind: 'int8',
        weight: g.initializer(`${headPrefix}.projection_int8`, { type: 'int8', data: q, dims: [D, V] }),
        scale: g.initializer(`${headPrefix}.projection_scale`, { type: 'float32', data: scale, dims: [V] }),
        zeroPoint: g.initializer(`${headPrefix}.projection_zero_point`, { type: 'int8', data: new Int8Array(V), dims: [V] }),
        bias,
      },
      'logits',
    );
  }
  // A tied projection gets its own copy of the table. Sharing one initializer made onnxruntime read the whole
  // memory-mapped table to pack it for Gemm, so the embedding lookup's copy stayed resident beside the packed
  // one (+89 MiB for BLIP-base); on its own, the lookup's table is paged in only where tokens are read.
  const projection = untied
    ? tensorParam(g, w, decoderName, [V, D])
    : g.initializer(`${headPrefix}.projection`, { type: 'float32', data: w.float(wordEmbeddings, [V, D]), dims: [V, D] });
  // Gemm needs 2-D input: [b·s, D] · Eᵀ + bias, then back to [b, s, V].
  const flat = g.reshape(h, [-1, D]);
  const logits2d = g.gemm(flat, projection, bias, { transB: true }, 'logits_2d');
  const outShape = g.concat([g.slice(g.shape(x), [0], [2], [0]), g.int64s([V])], 0);
  return g.reshape(logits2d, outShape, 'logits');
}
