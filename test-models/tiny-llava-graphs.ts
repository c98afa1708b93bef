/**
 * LLaVA (SigLIP vision tower + projector, Qwen2 language model) as the three ONNX graphs of the transformers.js
 * layout, with the input and output names its LlavaForConditionalGeneration feeds:
 *  - vision_encoder:       pixel_values [batch, 3, H, W] → image_features [batch, patches, text_hidden]
 *  - embed_tokens:         input_ids [batch, seq] → inputs_embeds [batch, seq, text_hidden]
 *  - decoder_model_merged: inputs_embeds, attention_mask [batch, past+seq], position_ids [batch, seq],
 *                          past_key_values.{i}.key|value [batch, kv_heads, past, head_dim]
 *                          → logits [batch, seq, vocab], present.{i}.key|value
 * The math follows transformers' SiglipVisionModel (hidden_states[-1], no post-layernorm, for
 * vision_feature_layer -1), LlavaMultiModalProjector and Qwen2 (RMSNorm, RoPE, grouped KV heads, SwiGLU,
 * tied lm_head). Weights are [in, out] matrices; 'q4' linears run as onnxruntime's MatMulNBits, as the
 * `_q4` files transformers.js loads do.
 */
import { activation, layerNorm, mergeHeads, scaledDotProductAttention, splitHeads, transposeMatrix } from '../src/main/core/onnx/blocks';
import { attr, GraphBuilder } from '../src/main/core/onnx/graph-builder';
import type { NdArray } from '../src/main/core/onnx/nd-array';

export interface LlavaShape {
  vision: { hidden: number; intermediate: number; heads: number; layers: number; imageSize: number; patchSize: number; eps: number };
  text: { hidden: number; intermediate: number; heads: number; kvHeads: number; layers: number; vocab: number; ropeTheta: number; eps: number };
}

/** Weight source: a named [in, out] matrix or vector of the given shape, filled by the caller (seeded random). */
export type WeightSource = (name: string, dims: number[], kind: 'matrix' | 'bias' | 'norm' | 'embedding') => Float32Array;

export type LinearDType = 'fp32' | 'q4';

const Q4_BLOCK = 32;

function f32(data: Float32Array, dims: number[]): NdArray {
  return { type: 'float32', data, dims };
}

/**
 * Symmetric 4-bit blocks along K for MatMulNBits: per output column n, K/32 blocks of 16 bytes (two values
 * per byte, low nibble first), one float scale per block, implicit zero point 8.
 */
export function quantizeQ4(w: Float32Array, k: number, n: number): { packed: Uint8Array; scales: Float32Array } {
  const blocks = Math.ceil(k / Q4_BLOCK);
  const blob = Q4_BLOCK / 2;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const amax = new Float32Array(n);
  // Row-major passes over each block of 32 rows: w is [k, n], and lm_head's n is 152 000 columns wide.
  for (let b = 0; b < blocks; b++) {
    const r0 = b * Q4_BLOCK;
    const r1 = Math.min(k, r0 + Q4_BLOCK);
    amax.fill(0);
    for (let i = r0; i < r1; i++) {
      const row = i * n;
      for (let col = 0; col < n; col++) {
        const a = Math.abs(w[row + col] as number);
        if (a > (amax[col] as number)) amax[col] = a;
      }
    }
    for (let col = 0; col < n; col++) scales[col * blocks + b] = (amax[col] as number) > 0 ? (amax[col] as number) / 7 : 1;
    for (let i = r0; i < r1; i++) {
      const j = i - r0;
      const row = i * n;
      const shift = j & 1 ? 4 : 0;
      for (let col = 0; col < n; col++) {
        const q = Math.max(-8, Math.min(7, Math.round((w[row + col] as number) / (scales[col * blocks + b] as number)))) + 8;
        const at = (col * blocks + b) * blob + (j >> 1);
        packed[at] = (packed[at] as number) | (q << shift);
      }
    }
    // Rows past k (a partial last block) hold the zero point, 8.
    for (let j = r1 - r0; j < Q4_BLOCK; j++) {
      for (let col = 0; col < n; col++) {
        const at = (col * blocks + b) * blob + (j >> 1);
        packed[at] = (packed[at] as number) | (8 << (j & 1 ? 4 : 0));
      }
    }
  }
  return { packed, scales };
}

class Weights {
  constructor(
    private readonly g: GraphBuilder,
    private readonly source: WeightSource,
    private readonly dtype: LinearDType,
  ) {}

  vector(name: string, dims: number[], kind: 'bias' | 'norm'): string {
    return this.g.initializer(name, f32(this.source(name, dims, kind), dims));
  }

  /** x @ W (+ b) with W [k, n]. */
  linear(x: string, name: string, k: number, n: number, bias: boolean): string {
    const w = this.source(`${name}.weight`, [k, n], 'matrix');
    let y: string;
    if (this.dtype === 'q4' && k % Q4_BLOCK === 0) {
      const { packed, scales } = quantizeQ4(w, k, n);
      const blocks = k / Q4_BLOCK;
      const pw = this.g.initializer(`${name}.weight_Q4`, { type: 'uint8', data: packed, dims: [n, blocks, Q4_BLOCK / 2] });
      const sc = this.g.initializer(`${name}.weight_scales`, f32(scales, [n * blocks]));
      [y] = this.g.node('MatMulNBits', [x, pw, sc], { K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(Q4_BLOCK) }, { domain: 'com.microsoft', name: `${name}_q4` }) as [string];
    } else {
      y = this.g.matmul(x, this.g.initializer(`${name}.weight`, f32(w, [k, n])), `${name}_mm`);
    }
    return bias ? this.g.add(y, this.vector(`${name}.bias`, [n], 'bias'), name) : y;
  }
}

/** SigLIP patches → encoder layers → LLaVA projector. */
export function visionEncoderGraph(shape: LlavaShape, source: WeightSource): GraphBuilder {
  const { vision: v, text: t } = shape;
  const g = new GraphBuilder('vision_encoder');
  const w = new Weights(g, source, 'fp32');
  const px = g.input('pixel_values', 'float32', ['batch_size', 3, v.imageSize, v.imageSize]);
  // A stride-p convolution over the image: 384 / 14 → 27 patches a side, the last 6 pixels unused (as SigLIP).
  const grid = Math.floor(v.imageSize / v.patchSize);
  const patches = grid * grid;
  const conv = g.conv(
    px,
    g.initializer('vision_tower.embeddings.patch_embedding.weight', f32(source('patch_embedding', [v.hidden, 3, v.patchSize, v.patchSize], 'matrix'), [v.hidden, 3, v.patchSize, v.patchSize])),
    w.vector('vision_tower.embeddings.patch_embedding.bias', [v.hidden], 'bias'),
    { strides: [v.patchSize, v.patchSize], kernelShape: [v.patchSize, v.patchSize] },
  );
  let x = g.transpose(g.reshape(conv, [0, v.hidden, patches]), [0, 2, 1]);
  x = g.add(x, g.initializer('vision_tower.embeddings.position_embedding.weight', f32(source('position_embedding', [patches, v.hidden], 'embedding'), [patches, v.hidden])));
  const hd = v.hidden / v.heads;
  for (let l = 0; l < v.layers; l++) {
    const p = `vision_tower.encoder.layers.${l}`;
    const ln = (name: string) => ({ scale: w.vector(`${p}.${name}.weight`, [v.hidden], 'norm'), bias: w.vector(`${p}.${name}.bias`, [v.hidden], 'bias'), epsilon: v.eps });
    const h = layerNorm(g, x, ln('layer_norm1'));
    const q = splitHeads(g, w.linear(h, `${p}.self_attn.q_proj`, v.hidden, v.hidden, true), v.heads, hd);
    const k = splitHeads(g, w.linear(h, `${p}.self_attn.k_proj`, v.hidden, v.hidden, true), v.heads, hd);
    const val = splitHeads(g, w.linear(h, `${p}.self_attn.v_proj`, v.hidden, v.hidden, true), v.heads, hd);
    const att = mergeHeads(g, scaledDotProductAttention(g, q, k, val, { scale: { op: 'mul', value: hd ** -0.5 } }), v.hidden);
    x = g.add(x, w.linear(att, `${p}.self_attn.out_proj`, v.hidden, v.hidden, true));
    const h2 = layerNorm(g, x, ln('layer_norm2'));
    const mlp = w.linear(activation(g, w.linear(h2, `${p}.mlp.fc1`, v.hidden, v.intermediate, true), 'gelu_pytorch_tanh'), `${p}.mlp.fc2`, v.intermediate, v.hidden, true);
    x = g.add(x, mlp);
  }
  const proj = w.linear(activation(g, w.linear(x, 'multi_modal_projector.linear_1', v.hidden, t.hidden, true), 'gelu'), 'multi_modal_projector.linear_2', t.hidden, t.hidden, true);
  g.output(proj, 'image_features', 'float32', ['batch_size', patches, t.hidden]);
  return g;
}

/** Token ids → embeddings; 'int8' stores the table as int8 rows with one scale each (transformers.js' `_int8`). */
export function embedTokensGraph(shape: LlavaShape, table: Float32Array, dtype: 'fp32' | 'int8' = 'fp32'): GraphBuilder {
  const { vocab, hidden } = shape.text;
  const g = new GraphBuilder('embed_tokens');
  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  let out: string;
  if (dtype === 'int8') {
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
    const rowScales = g.unsqueeze(g.gather(g.initializer('embed_tokens.weight_scale', f32(scales, [vocab])), ids), [2]);
    out = g.mul(rows, rowScales);
  } else {
    out = g.gather(g.initializer('embed_tokens.weight', f32(table, [vocab, hidden])), ids);
  }
  g.output(out, 'inputs_embeds', 'float32', ['batch_size', 'sequence_length', hidden]);
  return g;
}

function rmsNorm(g: GraphBuilder, x: string, weight: string, eps: number): string {
  const variance = g.op('ReduceMean', [g.mul(x, x)], { axes: attr.ints([-1]), keepdims: attr.int(1) });
  return g.mul(g.div(x, g.sqrt(g.add(variance, g.scalarFloat(eps)))), weight);
}

/** The Qwen2 decoder with its KV cache, one merged graph for the prompt and for each new token. */
export function decoderGraph(shape: LlavaShape, source: WeightSource, table: Float32Array, dtype: LinearDType = 'fp32'): GraphBuilder {
  const t = shape.text;
  const hd = t.hidden / t.heads;
  const rep = t.heads / t.kvHeads;
  const g = new GraphBuilder('decoder_model_merged');
  const w = new Weights(g, source, dtype);
  let x = g.input('inputs_embeds', 'float32', ['batch_size', 'sequence_length', t.hidden]);
  const mask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positions = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  const past: [string, string][] = [];
  for (let l = 0; l < t.layers; l++) {
    past.push([
      g.input(`past_key_values.${l}.key`, 'float32', ['batch_size', t.kvHeads, 'past_sequence_length', hd]),
      g.input(`past_key_values.${l}.value`, 'float32', ['batch_size', t.kvHeads, 'past_sequence_length', hd]),
    ]);
  }
  // Causal mask over [past + new] keys, combined with the padding mask: [batch, 1, seq, total].
  const pastLen = g.squeeze(g.dim(past[0]![0], 2), [0]);
  const seqLen = g.squeeze(g.dim(x, 1), [0]);
  const total = g.add(pastLen, seqLen);
  const one = g.scalarInt64(1);
  const qPos = g.range(pastLen, total, one);
  const kPos = g.range(g.scalarInt64(0), total, one);
  const causal = g.lessOrEqual(g.unsqueeze(kPos, [0]), g.unsqueeze(qPos, [1]));
  const allowed = g.op('And', [g.unsqueeze(causal, [0, 1]), g.unsqueeze(g.cast(mask, 'bool'), [1, 2])]);
  // Rotary embeddings from position_ids.
  const invFreq = Float32Array.from({ length: hd / 2 }, (_, i) => 1 / t.ropeTheta ** ((2 * i) / hd));
  const freqs = g.mul(g.unsqueeze(g.cast(positions, 'float32'), [2]), g.floats([...invFreq]));
  const emb = g.concat([freqs, freqs], -1);
  const cos = g.unsqueeze(g.op('Cos', [emb]), [1]);
  const sin = g.unsqueeze(g.op('Sin', [emb]), [1]);
  const rotate = (v: string): string => {
    const x1 = g.slice(v, [0], [hd / 2], [3]);
    const x2 = g.slice(v, [hd / 2], [hd], [3]);
    return g.mul(g.concat([g.op('Neg', [x2]), x1], 3), sin);
  };
  const rope = (v: string): string => g.add(g.mul(v, cos), rotate(v));
  const repeatKv = (v: string): string => {
    if (rep === 1) return v;
    const s = g.shape(v);
    const target = g.concat([g.slice(s, [0], [2], [0]), g.int64s([rep]), g.slice(s, [2], [4], [0])], 0);
    return g.reshape(g.expand(g.unsqueeze(v, [2]), target), [0, t.heads, -1, hd]);
  };
  const minValue = g.scalarFloat(-3.4028234663852886e38);
  for (let l = 0; l < t.layers; l++) {
    const p = `model.layers.${l}`;
    const h = rmsNorm(g, x, w.vector(`${p}.input_layernorm.weight`, [t.hidden], 'norm'), t.eps);
    const q = rope(splitHeads(g, w.linear(h, `${p}.self_attn.q_proj`, t.hidden, t.hidden, true), t.heads, hd));
    const k = rope(splitHeads(g, w.linear(h, `${p}.self_attn.k_proj`, t.hidden, t.kvHeads * hd, true), t.kvHeads, hd));
    const v = splitHeads(g, w.linear(h, `${p}.self_attn.v_proj`, t.hidden, t.kvHeads * hd, true), t.kvHeads, hd);
    const keys = g.concat([past[l]![0], k], 2);
    const values = g.concat([past[l]![1], v], 2);
    g.output(keys, `present.${l}.key`, 'float32', ['batch_size', t.kvHeads, 'total_sequence_length', hd]);
    g.output(values, `present.${l}.value`, 'float32', ['batch_size', t.kvHeads, 'total_sequence_length', hd]);
    let scores = g.mul(g.matmul(q, g.transpose(repeatKv(keys), [0, 1, 3, 2])), g.scalarFloat(hd ** -0.5));
    scores = g.where(allowed, scores, minValue);
    const att = mergeHeads(g, g.matmul(g.softmax(scores, -1), repeatKv(values)), t.hidden);
    x = g.add(x, w.linear(att, `${p}.self_attn.o_proj`, t.hidden, t.hidden, false));
    const h2 = rmsNorm(g, x, w.vector(`${p}.post_attention_layernorm.weight`, [t.hidden], 'norm'), t.eps);
    const gate = w.linear(h2, `${p}.mlp.gate_proj`, t.hidden, t.intermediate, false);
    const up = w.linear(h2, `${p}.mlp.up_proj`, t.hidden, t.intermediate, false);
    x = g.add(x, w.linear(g.mul(activation(g, gate, 'silu'), up), `${p}.mlp.down_proj`, t.intermediate, t.hidden, false));
  }
  x = rmsNorm(g, x, w.vector('model.norm.weight', [t.hidden], 'norm'), t.eps);
  // Tied lm_head: logits = x · Eᵀ.
  const transposed = transposeMatrix(table, t.vocab, t.hidden);
  const lmHead = new Weights(g, () => transposed, dtype);
  g.output(lmHead.linear(x, 'lm_head', t.hidden, t.vocab, false), 'logits', 'float32', ['batch_size', 'sequence_length', t.vocab]);
  return g;
}
