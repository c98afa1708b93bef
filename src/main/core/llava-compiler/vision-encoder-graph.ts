/**
 * The vision_encoder graph: pixel_values [b, C, H, W] → image_features [b, tokens, text_hidden].
 *
 * CLIP (transformers' CLIPVisionEmbeddings + CLIPEncoder): patch Conv2d without bias, the class embedding
 * prepended, position embeddings over patches + 1, `pre_layrnorm` before the encoder, then pre-LN layers.
 * SigLIP (SiglipVisionEmbeddings + SiglipEncoder): patch Conv2d with bias, no class token, no pre-layernorm.
 * LLaVA takes hidden_states[vision_feature_layer] (hidden_states[0] being the embeddings), so only the
 * layers up to that one are built and post_layernorm is never applied; strategy "default" then drops the
 * first token (the CLS token for CLIP), "full" keeps all. LlavaMultiModalProjector follows:
 * linear_1 → projector_hidden_act → linear_2.
 */
import { activation, layerNorm, mergeHeads, splitHeads } from '../onnx/blocks';
import { GraphBuilder } from '../onnx/graph-builder';
import type { LlavaCheckpoint } from './checkpoint-reader';
import { llavaNames as N } from './checkpoint-names';
import { GraphWeights, type LinearPrecision, type Q4Options } from './linear-weights';
import type { LlavaSpec } from './llava-config';

export interface VisionGraphOptions {
  precision?: LinearPrecision;
  /** MatMulNBits settings for 'q4'; default accuracy_level 0, blocks of 32 */
  q4?: Q4Options;
  onLayer?: (done: number, total: number) => void;
  /** the graph to build into (a streaming writer's); a new one by default */
  graph?: GraphBuilder;
  /** called after each tensor is added, to move it to disk */
  spill?: () => Promise<void>;
}

export async function buildVisionEncoderGraph(spec: LlavaSpec, ckpt: LlavaCheckpoint, options: VisionGraphOptions = {}): Promise<GraphBuilder> {
  const v = spec.vision;
  const g = options.graph ?? new GraphBuilder('vision_encoder');
  const w = new GraphWeights(g, ckpt, options.precision ?? 'fp32', options.q4, options.spill);
  const D = v.hiddenSize;
  const P = v.patchSize;
  const clip = v.kind === 'clip';
  const grid = Math.floor(v.imageSize / P);
  const patches = grid * grid;
  const positions = patches + (clip ? 1 : 0);

  const px = g.input('pixel_values', 'float32', ['batch_size', v.numChannels, v.imageSize, v.imageSize]);
  const convShape = [D, v.numChannels, P, P];
  const convW = await w.tensor(N.vision('embeddings.patch_embedding.weight'), convShape);
  const convB = clip ? undefined : await w.tensor(N.vision('embeddings.patch_embedding.bias'), [D]);
  // stride = kernel: pixels past the last whole patch are ignored, as nn.Conv2d does.
  const conv = g.conv(px, convW, convB, { strides: [P, P], kernelShape: [P, P] }, 'patch_embeds');
  let x = g.transpose(g.reshape(conv, [0, D, patches]), [0, 2, 1]);
  if (clip) {
    const cls = await w.tensor(N.vision('embeddings.class_embedding'), [D], [1, 1, D]);
    const clsRows = g.expand(cls, g.concat([g.dim(px, 0), g.int64s([1, D])], 0));
    x = g.concat([clsRows, x], 1);
  }
  x = g.add(x, await w.tensor(N.vision('embeddings.position_embedding.weight'), [positions, D]), 'embeddings');
  if (clip) {
    x = layerNorm(g, x, {
      scale: await w.tensor(N.vision('pre_layrnorm.weight'), [D]),
      bias: await w.tensor(N.vision('pre_layrnorm.bias'), [D]),
      epsilon: v.layerNormEps,
    });
  }

  const hd = D / v.numHeads;
  const layers = spec.visionLayersUsed;
  for (let l = 0; l < layers; l++) {
    const p = (rest: string) => N.visionLayer(l, rest);
    const ln = async (name: string) => ({ scale: await w.tensor(p(`${name}.weight`), [D]), bias: await w.tensor(p(`${name}.bias`), [D]), epsilon: v.layerNormEps });
    const h = layerNorm(g, x, await ln('layer_norm1'));
    const q = splitHeads(g, await w.linear(h, p('self_attn.q_proj'), D, D, true), v.numHeads, hd);
    const k = splitHeads(g, await w.linear(h, p('self_attn.k_proj'), D, D, true), v.numHeads, hd);
    const val = splitHeads(g, await w.linear(h, p('self_attn.v_proj'), D, D, true), v.numHeads, hd);
    // eager_attention_forward: (q · kᵀ) · scaling, softmax, · v, with the scaling moved onto q: onnxruntime
    // folds it into the MatMul instead of making a pass over the 729×729 scores per head (float rounding only).
    const scores = g.matmul(g.mul(q, g.scalarFloat(hd ** -0.5)), g.transpose(k, [0, 1, 3, 2]));
    const ctx = g.matmul(g.softmax(scores, -1), val);
    x = g.add(x, await w.linear(mergeHeads(g, ctx, D), p('self_attn.out_proj'), D, D, true));
    const h2 = layerNorm(g, x, await ln('layer_norm2'));
    const fc1 = await w.linear(h2, p('mlp.fc1'), D, v.intermediateSize, true);
    x = g.add(x, await w.linear(activation(g, fc1, v.hiddenAct), p('mlp.fc2'), v.intermediateSize, D, true), `vision_layer_${l}_out`);
    options.onLayer?.(l + 1, layers);
  }
  if (spec.featureSelectStrategy === 'default') x = g.slice(x, [1], [positions], [1], 'selected_features');

  const T = spec.text.hiddenSize;
  const bias = spec.projectorBias;
  const p1 = await w.linear(x, N.projector('linear_1'), D, T, bias);
  const features = await w.linear(activation(g, p1, spec.projectorAct), N.projector('linear_2'), T, T, bias);
  g.output(features, 'image_features', 'float32', ['batch_size', spec.imageTokens, T]);
  return g;
}
