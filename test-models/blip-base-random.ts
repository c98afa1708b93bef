/**
 * A BLIP model with exactly the shapes of Salesforce/blip-image-captioning-base (ViT-B/16 at 384 px, BERT-base
 * decoder, vocab 30524) and seeded random weights, for benchmarks: compute and memory are real, words are not.
 * About 1 GB on disk; generate it on demand into a git-ignored cache, never commit it.
 */
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import type { BlipPackConfig } from './blip-pack-files';
import { blipTensorShapes, writeBlipPack } from './blip-pack-files';
import { SeededRandom } from './seeded-random';
import { tinyVocab } from './tiny-vocab';

export function blipBaseConfig(): BlipPackConfig {
  return {
    architecture: 'BlipForConditionalGeneration',
    vision: { hiddenSize: 768, intermediateSize: 3072, numHiddenLayers: 12, numAttentionHeads: 12, imageSize: 384, patchSize: 16 },
    text: {
      vocabSize: 30524,
      hiddenSize: 768,
      encoderHiddenSize: 768,
      intermediateSize: 3072,
      numHiddenLayers: 12,
      numAttentionHeads: 12,
      maxPositionEmbeddings: 512,
      bosTokenId: 30522,
      sepTokenId: 3,
      padTokenId: 0,
    },
  };
}

/** The small real vocabulary padded with placeholder pieces to bert-base's 30522 entries. */
export function blipBaseVocab(): string[] {
  const vocab = tinyVocab();
  for (let i = vocab.length; i < 30522; i++) vocab.push(`[unused${i}]`);
  return vocab;
}

/**
 * Uniform weights with the variance of transformers' init (std 0.02 → a = 0.02·√3), LayerNorms at one, so
 * activations have realistic magnitudes.
 */
export function blipBaseRandomWeights(seed = 7): WeightMap {
  return initLikeWeights(blipTensorShapes(blipBaseConfig()), seed);
}

/** The init-like uniform weights above for any BLIP-family tensor list (the retrieval model's too). */
export function initLikeWeights(shapes: Map<string, number[]>, seed: number): WeightMap {
  const rng = new SeededRandom(seed);
  const weights: WeightMap = new Map();
  const a = 0.02 * Math.sqrt(3);
  for (const [name, shape] of shapes) {
    const n = shape.reduce((x, y) => x * y, 1);
    let data: Float32Array;
    if (/(LayerNorm|layer_norm\d|post_layernorm)\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = rng.uniforms(n, a);
    weights.set(name, { storedDType: 'float32', shape, data });
  }
  return weights;
}

export async function writeBlipBaseRandom(dir: string): Promise<void> {
  await writeBlipPack(dir, blipBaseConfig(), blipBaseVocab(), blipBaseRandomWeights());
}
