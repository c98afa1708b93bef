/**
 * Tiny random BLIP models (captioning and question answering) in the exact Hugging Face layout, seeded so
 * the same call always writes the same bytes. The words they produce are meaningless; shapes, wiring,
 * caching, batching and search are real.
 */
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import type { BlipPackConfig, WeightFormat } from './blip-pack-files';
import { blipTensorShapes, writeBlipPack } from './blip-pack-files';
import { SeededRandom } from './seeded-random';
import { tinyVocab } from './tiny-vocab';

export interface TinyBlipOptions {
  /** weight file format; default model.safetensors */
  format?: WeightFormat;
  seed?: number;
}

function tinyTextIds(vocab: readonly string[]): { bosTokenId: number; sepTokenId: number; padTokenId: number; vocabSize: number } {
  return { bosTokenId: vocab.length, sepTokenId: vocab.indexOf('[SEP]'), padTokenId: vocab.indexOf('[PAD]'), vocabSize: vocab.length + 2 };
}

/** Vision and text sizes differ on purpose so a mixed-up dimension cannot go unnoticed. */
export function tinyCaptionerConfig(): BlipPackConfig {
  const vocab = tinyVocab();
  return {
    architecture: 'BlipForConditionalGeneration',
    vision: { hiddenSize: 48, intermediateSize: 96, numHiddenLayers: 2, numAttentionHeads: 4, imageSize: 32, patchSize: 8 },
    text: {
      ...tinyTextIds(vocab),
      hiddenSize: 32,
      encoderHiddenSize: 48,
      intermediateSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      maxPositionEmbeddings: 64,
    },
  };
}

/** Question answering ties the sizes together: the answer decoder cross-attends to question states. */
export function tinyVqaConfig(): BlipPackConfig {
  const vocab = tinyVocab();
  return {
    architecture: 'BlipForQuestionAnswering',
    vision: { hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, imageSize: 32, patchSize: 8 },
    text: {
      ...tinyTextIds(vocab),
      hiddenSize: 32,
      encoderHiddenSize: 32,
      intermediateSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      maxPositionEmbeddings: 64,
    },
  };
}

/**
 * Random weights for every tensor of `config`. Scales keep activations O(1) through the layers, so logits are
 * well spread (no near-ties that float rounding could flip).
 */
export function randomBlipWeights(config: BlipPackConfig, seed: number): WeightMap {
  return randomBlipFamilyWeights(blipTensorShapes(config), seed);
}

/** The same scaled random weights for any BLIP-family tensor list (captioner, VQA, retrieval), by name. */
export function randomBlipFamilyWeights(shapes: Map<string, number[]>, seed: number): WeightMap {
  const rng = new SeededRandom(seed);
  const weights: WeightMap = new Map();
  for (const [name, shape] of [...shapes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (/LayerNorm\.weight$|layer_norm\d\.weight$|post_layernorm\.weight$/.test(name)) data = rng.normals(n, 0.1, 1);
    else if (name.endsWith('.bias')) data = rng.normals(n, 0.1);
    else if (name.endsWith('patch_embedding.weight')) data = rng.normals(n, 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)));
    else if (name.endsWith('word_embeddings.weight')) data = rng.normals(n, 1);
    else if (/position_embedding|class_embedding/.test(name)) data = rng.normals(n, 0.5);
    else if (shape.length === 2) data = rng.normals(n, 1 / Math.sqrt(shape[1] as number));
    else data = rng.normals(n, 0.1);
    weights.set(name, { storedDType: 'float32', shape, data });
  }
  return weights;
}

export async function writeTinyBlipCaptioner(dir: string, options: TinyBlipOptions = {}): Promise<void> {
  const config = tinyCaptionerConfig();
  await writeBlipPack(dir, config, tinyVocab(), randomBlipWeights(config, options.seed ?? 1234), options.format);
}

/** Raised [SEP] logit bias so that random answers end within a few tokens for many inputs, as real ones do. */
const VQA_SEP_BIAS = 7;

export function tinyVqaWeights(seed = 4321): WeightMap {
  const config = tinyVqaConfig();
  const weights = randomBlipWeights(config, seed);
  const bias = weights.get('text_decoder.cls.predictions.bias')?.data as Float32Array;
  bias[config.text.sepTokenId] = (bias[config.text.sepTokenId] as number) + VQA_SEP_BIAS;
  return weights;
}

export async function writeTinyBlipVqa(dir: string, options: TinyBlipOptions = {}): Promise<void> {
  await writeBlipPack(dir, tinyVqaConfig(), tinyVocab(), tinyVqaWeights(options.seed), options.format);
}
