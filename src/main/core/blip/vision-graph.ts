/**
 * BlipVisionModel as an ONNX graph: patch Conv2d, class token, position embeddings, pre-LN encoder layers
 * with a fused [q;k;v] projection, then post_layernorm on every token (BLIP's image embeds).
 * Follows modeling_blip.py (BlipVisionEmbeddings, BlipAttention, BlipMLP, BlipEncoderLayer).
 */
import { activation, layerNorm, linear, mergeHeads, scaledDotProductAttention } from '../onnx/blocks';
import { GraphBuilder } from '../onnx/graph-builder';
import type { BlipVisionSpec } from './blip-config';
import type { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import { layerNormParams, linearParams } from './graph-params';

export const VISION_INPUT = 'pixel_values';
export const VISION_OUTPUT = 'image_embeds';

/** Patches per side are floored, as nn.Conv2d with stride = kernel does. */
export function visionTokens(spec: BlipVisionSpec): number {
  return Math.floor(spec.imageSize / spec.patchSize) ** 2 + 1;
}

export function buildVisionGraph(spec: BlipVisionSpec, w: CheckpointTensors, quantization: Quantization = 'none', prefix = 'vision_model'): GraphBuilder {
  const g = new GraphBuilder('blip_vision');
  const D = spec.hiddenSize;
  const P = spec.patchSize;
  const S = spec.imageSize;
  const heads = spec.numAttentionHeads;
  const hd = D / heads;
  const tokens = visionTokens(spec);
  const pre = `${prefix}.embeddings`;

  const pixels = g.input(VISION_INPUT, 'float32', ['batch', spec.numChannels, S, S]);
  const convW = g.initializer(`${pre}.patch_embedding.weight`, {
    type: 'float32',
    data: w.float(`${pre}.patch_embedding.weight`, [D, spec.numChannels, P, P]),
    dims: [D, spec.numChannels, P, P],
  });
  const convB = g.initializer(`${pre}.patch_embedding.bias`, { type: 'float32', data: w.float(`${pre}.patch_embedding.bias`, [D]), dims: [D] });
  const patches = g.conv(pixels, convW, convB, { strides: [P, P], kernelShape: [P, P] }, 'patch_embeds');
  // [b, D, g, g] → [b, g·g, D]
  const patchSeq = g.transpose(g.reshape(patches, [0, D, -1]), [0, 2, 1]);
  const cls = g.initializer(`${pre}.class_embedding`, { type: 'float32', data: w.float(`${pre}.class_embedding`, [1, 1, D]), dims: [1, 1, D] });
  const clsShape = g.concat([g.dim(pixels, 0), g.int64s([1, D])], 0);
  const clsExpanded = g.expand(cls, clsShape);
  const pos = g.initializer(`${pre}.position_embedding`, {
    type: 'float32',
    data: w.float(`${pre}.position_embedding`, [1, tokens, D]),
    dims: [1, tokens, D],
  });
  let h = g.add(g.concat([clsExpanded, patchSeq], 1), pos, 'embeddings');

  // Standard ops on purpose. onnxruntime already fuses what pays here (erf-GELU with its bias into BiasGelu,
  // the score scale into the q·kᵀ MatMul); its MultiHeadAttention kernel (q, k, v projected separately) and a
  // Conv-free patch embedding used ~7% less CPU time per image but ran up to 22% slower in wall time on
  // 2 cores (the kernel parallelises worse), and SkipLayerNormalization was ~3× slower than Add + LayerNorm.
  for (let i = 0; i < spec.numHiddenLayers; i++) {
    const lp = `${prefix}.encoder.layers.${i}`;
    const residual = h;
    const x = layerNorm(g, h, layerNormParams(g, w, `${lp}.layer_norm1`, D, spec.layerNormEps));
    const qkv = linear(g, x, linearParams(g, w, `${lp}.self_attn.qkv`, 3 * D, D, quantization));
    // [b, n, 3D] → [3, b, heads, n, hd]: rows of the fused weight are [q; k; v], each split into heads.
    const split = g.transpose(g.reshape(qkv, [0, 0, 3, heads, hd]), [2, 0, 3, 1, 4]);
    const q = g.gather(split, g.scalarInt64(0), 0);
    const k = g.gather(split, g.scalarInt64(1), 0);
    const v = g.gather(split, g.scalarInt64(2), 0);
    const ctx = scaledDotProductAttention(g, q, k, v, { scale: { op: 'mul', value: hd ** -0.5 } });
    const attn = linear(g, mergeHeads(g, ctx, D), linearParams(g, w, `${lp}.self_attn.projection`, D, D, quantization));
    h = g.add(attn, residual);
    const residual2 = h;
    const y = layerNorm(g, h, layerNormParams(g, w, `${lp}.layer_norm2`, D, spec.layerNormEps));
    const fc1 = linear(g, y, linearParams(g, w, `${lp}.mlp.fc1`, spec.intermediateSize, D, quantization));
    const fc2 = linear(g, activation(g, fc1, spec.hiddenAct), linearParams(g, w, `${lp}.mlp.fc2`, D, spec.intermediateSize, quantization));
    h = g.add(fc2, residual2, `layer_${i}_out`);
  }
  const out = layerNorm(g, h, layerNormParams(g, w, `${prefix}.post_layernorm`, D, spec.layerNormEps));
  g.output(out, VISION_OUTPUT, 'float32', ['batch', tokens, D]);
  return g;
}
