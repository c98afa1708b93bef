/**
 * The language model as two graphs with transformers.js' LLaVA names:
 *  - embed_tokens: input_ids [b, s] → inputs_embeds [b, s, hidden];
 *  - decoder_model_merged: inputs_embeds, attention_mask [b, past + s], position_ids [b, s],
 *    past_key_values.{i}.key|value [b, kv_heads, past, head_dim] → logits [b, s, vocab], present.{i}.key|value
 *    (or, with io 'kv-append', logits [b, 1, vocab] and appended.{i}.key|value; see DecoderIo).
 * The decoder follows transformers' LlamaModel / Qwen2Model: RMSNorm (x · rsqrt(mean(x²) + eps) · w),
 * rotary embeddings from position_ids with rope_theta (rotate_half convention), each KV head shared by its
 * group of query heads, scores · head_dim^-0.5 with a causal + padding mask, SwiGLU MLP, final norm, lm_head
 * (the embedding matrix when tied). Qwen2 has q/k/v biases; Llama has them, and o_proj's, only with
 * attention_bias.
 */
import { activation, mergeHeads, splitHeads } from '../onnx/blocks';
import { attr, GraphBuilder } from '../onnx/graph-builder';
import type { LlavaCheckpoint } from './checkpoint-reader';
import { llavaNames as N } from './checkpoint-names';
import { GraphWeights, type LinearPrecision, type Q4Options } from './linear-weights';
import type { LlavaTextSpec } from './llava-config';

export type EmbeddingPrecision = 'fp32' | 'int8';

/**
 * The decoder's cache interface:
 *  - 'transformers.js': present.{i}.key|value = past ⧺ new, logits for every fed position (what transformers.js
 *    and the compiler's fidelity tests feed and read);
 *  - 'kv-append': outputs only the fed positions' keys/values as appended.{i}.key|value [b, kv_heads, s, head_dim]
 *    and the last position's logits [b, 1, vocab]. The caller keeps the cache in buffers that grow by whole
 *    blocks and passes them back as past_key_values with their unused tail masked out (attention_mask 0), so
 *    a step copies neither the cache in the graph nor out of it; the attention reads past and new keys
 *    side by side instead of concatenating them.
 */
export type DecoderIo = 'transformers.js' | 'kv-append';

/** The embedding matrix [vocab, hidden], read once and shared by embed_tokens and a tied lm_head. */
export function readEmbeddings(t: LlavaTextSpec, ckpt: LlavaCheckpoint): Promise<Float32Array> {
  return ckpt.float(N.embedTokens, [t.vocabSize, t.hiddenSize]);
}

/** 'int8' keeps one int8 row per token with its own scale (transformers.js' `_int8` embed_tokens layout). */
export function buildEmbedTokensGraph(t: LlavaTextSpec, table: Float32Array, precision: EmbeddingPrecision = 'fp32'): GraphBuilder {
  const { vocabSize: vocab, hiddenSize: hidden } = t;
  const g = new GraphBuilder('embed_tokens');
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  let out: string;
  if (precision === 'int8') {
    const q = new Int8Array(vocab * hidden);
    const scales = new Float32Array(vocab);
    for (let r = 0; r < vocab; r++) {
      let amax = 0;
      for (let c = 0; c < hidden; c++) amax = Math.max(amax, Math.abs(table[r * hidden + c] as number));
      const s = amax > 0 ? amax / 127 : 1;
      scales[r] = s;
      for (let c = 0; c < hidden; c++) q[r * hidden + c] = Math.round((table[r * hidden + c] as number) / s);
    }
    const rows = g.cast(g.gather(g.initializer('embed_tokens.weight_quantized', { type: 'int8', data: q, dims: [vocab, hidden] }), ids), 'float32');
    const rowScales = g.unsqueeze(g.gather(g.initializer('embed_tokens.weight_scale', { type: 'float32', data: scales, dims: [vocab] }), ids), [2]);
    out = g.mul(rows, rowScales);
  } else {
    out = g.gather(g.initializer(N.embedTokens, { type: 'float32', data: table, dims: [vocab, hidden] }), ids);
  }
  g.output(out, 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', hidden]);
  return g;
}

/**
 * Written as Pow → ReduceMean → Add → Sqrt → Div → Mul, the pattern onnxruntime's CPU optimiser fuses into
 * one SimplifiedLayerNormalization (five nodes fewer per norm; x · rsqrt(·) would not match it).
 */
function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const variance = g.op('ReduceMean', [g.op('Pow', [x, g.scalarFloat(2)])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  return g.mul(weight, g.div(x, g.sqrt(g.add(variance, g.scalarFloat(eps)))));
}

export interface DecoderGraphOptions {
  precision?: LinearPrecision;
  /** MatMulNBits settings for 'q4'; default accuracy_level 0, blocks of 32 */
  q4?: Q4Options;
  /** default 'transformers.js' */
  io?: DecoderIo;
  /** the embedding matrix, needed when lm_head is tied to it */
  embeddings?: Float32Array;
  onLayer?: (done: number, total: number) => void;
  /** the graph to build into (a streaming writer's); a new one by default */
  graph?: GraphBuilder;
  /** called after each tensor is added, to move it to disk */
  spill?: () => Promise<void>;
}

export async function buildDecoderGraph(t: LlavaTextSpec, ckpt: LlavaCheckpoint, options: DecoderGraphOptions = {}): Promise<GraphBuilder> {
  const hd = t.headDim;
  const H = t.hiddenSize;
  const qDim = t.numHeads * hd;
  const kvDim = t.numKvHeads * hd;
  const rep = t.numHeads / t.numKvHeads;
  const g = options.graph ?? new GraphBuilder('decoder_model_merged');
  const w = new GraphWeights(g, ckpt, options.precision ?? 'fp32', options.q4, options.spill);

  let x = g.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', H]);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past: [string, string][] = [];
  for (let l = 0; l < t.numLayers; l++) {
    past.push([
      g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', t.numKvHeads, 'past_sequence_length', hd]),
      g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', t.numKvHeads, 'past_sequence_length', hd]),
    ]);
  }

  // Key j is visible to query i (absolute position past + i) when j ≤ past + i and attention_mask[j] is 1.
  const pastLen = g.squeeze(g.dim(past[0]![0], 2), [0]);
  const seqLen = g.squeeze(g.dim(x, 1), [0]);
  const total = g.add(pastLen, seqLen);
  const one = g.scalarInt64(1);
  const qPos = g.range(pastLen, total, one);
  const kPos = g.range(g.scalarInt64(0), total, one);
  const causal = g.lessOrEqual(g.unsqueeze(kPos, [0]), g.unsqueeze(qPos, [1]));
  const allowed = g.op('And', [g.unsqueeze(causal, [0, 1]), g.unsqueeze(g.cast(mask, 'bool'), [1, 2])]);
  const minValue = g.scalarFloat(-3.4028234663852886e38);

  const io = options.io ?? 'transformers.js';
  // LlamaRotaryEmbedding: inv_freq[i] = θ^(−2i/d); emb = cat(freqs, freqs); q·cos + rotate_half(q)·sin.
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => 1 / t.ropeTheta ** ((2 * i) / hd));
  let cosSin: [string, string] | undefined;
  const cosSinOfPositions = (): [string, string] => {
    if (!cosSin) {
      const freqs = g.mul(g.unsqueeze(g.cast(positions, 'float32'), [2]), g.floats(invFreq));
      const emb = g.concat([freqs, freqs], -1);
      cosSin = [g.unsqueeze(g.op('Cos', [emb]), [1]), g.unsqueeze(g.op('Sin', [emb]), [1])];
    }
    return cosSin;
  };
  // kv-append graphs rotate with onnxruntime's RotaryEmbedding (com.microsoft) from cos/sin tables built here
  // in float64: one node instead of eight per tensor, and angles as exact as the reference's.
  const maxPositions = t.maxPositionEmbeddings;
  let ropeTables: [string, string] | undefined;
  const fusedRope = (v: string): string => {
    if (!ropeTables) {
      const half = hd / 2;
      const cosT = new Float32Array(maxPositions * half);
      const sinT = new Float32Array(maxPositions * half);
      for (let pos = 0; pos < maxPositions; pos++) {
        for (let i = 0; i < half; i++) {
          const angle = pos * (invFreq[i] as number);
          cosT[pos * half + i] = Math.cos(angle);
          sinT[pos * half + i] = Math.sin(angle);
        }
      }
      ropeTables = [
        g.initializer('rope_cos_cache', { type: 'float32', data: cosT, dims: [maxPositions, half] }),
        g.initializer('rope_sin_cache', { type: 'float32', data: sinT, dims: [maxPositions, half] }),
      ];
    }
    const [out] = g.node('RotaryEmbedding', [v, positions, ropeTables[0], ropeTables[1]], { interleaved: attr.int(0) }, { domain: 'com.microsoft', name: 'rope' });
    return out as string;
  };
  const rope = (v: string): string => {
    if (io === 'kv-append') return fusedRope(v);
    const x1 = g.slice(v, [0], [hd / 2], [3]);
    const x2 = g.slice(v, [hd / 2], [hd], [3]);
    const [cos, sin] = cosSinOfPositions();
    return g.add(g.mul(v, cos), g.mul(g.concat([g.op('Neg', [x2]), x1], 3), sin));
  };
  // repeat_kv without the copy: query heads kv·rep … kv·rep + rep − 1 share KV head kv, so [b, heads, s, d]
  // viewed as [b, kv, rep·s, d] multiplies each KV head once (repeat_kv's Expand would copy the whole cache
  // `rep` times every step). Reshapes only: the same dot products in the same order.
  const grouped = (v: string): string => (rep === 1 ? v : g.reshape(v, [0, t.numKvHeads, -1, 0]));
  const perHead = (v: string): string => (rep === 1 ? v : g.reshape(v, [0, t.numHeads, -1, 0]));
  const keysT = (k: string): string => g.transpose(k, [0, 1, 3, 2]);
  const pastEnd = g.dim(past[0]![0], 2);
  const end = g.int64s([Number.MAX_SAFE_INTEGER]);

  for (let l = 0; l < t.numLayers; l++) {
    const p = (rest: string) => N.textLayer(l, rest);
    const h = rmsNorm(g, x, await w.tensor(p('input_layernorm.weight'), [H]), t.rmsNormEps);
    const [qLin, kLin, vLin] = (await w.linearGroup(h, [p('self_attn.q_proj'), p('self_attn.k_proj'), p('self_attn.v_proj')], H, [qDim, kvDim, kvDim], t.qkvBias)) as [
      string,
      string,
      string,
    ];
    const q = rope(splitHeads(g, qLin, t.numHeads, hd));
    const k = rope(splitHeads(g, kLin, t.numKvHeads, hd));
    const v = splitHeads(g, vLin, t.numKvHeads, hd);
    let ctx: string;
    if (io === 'kv-append') {
      g.output(k, `appended.${l}.key`, 'float32', ['batch_size', t.numKvHeads, 'sequence_length', hd]);
      g.output(v, `appended.${l}.value`, 'float32', ['batch_size', t.numKvHeads, 'sequence_length', hd]);
      // Scores against past and new keys, side by side: the same row as against past ⧺ new.
      // The scale goes on q (onnxruntime folds it into the MatMul) rather than on the wider scores.
      const gq = grouped(g.mul(q, g.scalarFloat(hd ** -0.5)));
      const scores = perHead(g.concat([g.matmul(gq, keysT(past[l]![0])), g.matmul(gq, keysT(k))], 3));
      const probs = grouped(g.softmax(g.where(allowed, scores, minValue), -1));
      const fromPast = g.matmul(g.slice(probs, g.int64s([0]), pastEnd, [3]), past[l]![1]);
      ctx = perHead(g.add(fromPast, g.matmul(g.slice(probs, pastEnd, end, [3]), v)));
    } else {
      const keys = g.concat([past[l]![0], k], 2);
      const values = g.concat([past[l]![1], v], 2);
      g.output(keys, `present.${l}.key`, 'float32', ['batch_size', t.numKvHeads, 'total_sequence_length', hd]);
      g.output(values, `present.${l}.value`, 'float32', ['batch_size', t.numKvHeads, 'total_sequence_length', hd]);
      const scores = perHead(g.matmul(grouped(q), keysT(keys)));
      const probs = g.softmax(g.where(allowed, g.mul(scores, g.scalarFloat(hd ** -0.5)), minValue), -1);
      ctx = perHead(g.matmul(grouped(probs), values));
    }
    const att = mergeHeads(g, ctx, qDim);
    x = g.add(x, await w.linear(att, p('self_attn.o_proj'), qDim, H, t.oBias));
    const h2 = rmsNorm(g, x, await w.tensor(p('post_attention_layernorm.weight'), [H]), t.rmsNormEps);
    const [gate, up] = (await w.linearGroup(h2, [p('mlp.gate_proj'), p('mlp.up_proj')], H, [t.intermediateSize, t.intermediateSize], t.mlpBias)) as [string, string];
    x = g.add(x, await w.linear(g.mul(activation(g, gate, t.hiddenAct), up), p('mlp.down_proj'), t.intermediateSize, H, t.mlpBias), `layer_${l}_out`);
    options.onLayer?.(l + 1, t.numLayers);
  }
  // The caller of a kv-append graph only ever samples from the last position: the norm and lm_head (the
  // largest matmul of a prefill chunk) run on that row alone.
  if (io === 'kv-append') x = g.slice(x, [-1], [Number.MAX_SAFE_INTEGER], [1], 'last_position');
  x = rmsNorm(g, x, await w.tensor(N.text('norm.weight'), [H]), t.rmsNormEps);
  let logits: string;
  if (t.tiedEmbeddings) {
    const table = options.embeddings ?? (await readEmbeddings(t, ckpt));
    logits = w.linearFrom(x, 'lm_head', table, H, t.vocabSize);
  } else {
    logits = await w.linear(x, N.lmHead, H, t.vocabSize, false);
  }
  g.output(logits, 'logits', 'float32', ['batch_size', io === 'kv-append' ? 1 : 'sequence_length', t.vocabSize]);
  return g;
}
