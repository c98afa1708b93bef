/**
 * A BlipForImageTextRetrieval with exactly the shapes of Salesforce/blip-itm-base-coco (ViT-B/16 at 384 px, a
 * BERT-base text encoder with cross-attention, 256-wide ITC space) and seeded random weights, for benchmarks:
 * compute and memory are real, scores are not. About 0.9 GB on disk; generated on demand into a git-ignored cache.
 */
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import { blipBaseConfig, blipBaseVocab, initLikeWeights } from './blip-base-random';
import type { BlipRetrievalPackConfig } from './blip-retrieval-pack';
import { retrievalTensorShapes, writeBlipRetrievalPack } from './blip-retrieval-pack';

export function blipItmBaseConfig(): BlipRetrievalPackConfig {
  const { vision, text } = blipBaseConfig();
  return { vision, text, imageTextHiddenSize: 256 };
}

/** Uniform weights with the variance of transformers' init (std 0.02), LayerNorms at one, biases at zero. */
export function blipItmBaseRandomWeights(seed = 11): WeightMap {
  return initLikeWeights(retrievalTensorShapes(blipItmBaseConfig()), seed);
}

export async function writeBlipItmBaseRandom(dir: string): Promise<void> {
  await writeBlipRetrievalPack(dir, blipItmBaseConfig(), blipBaseVocab(), blipItmBaseRandomWeights());
}
