/**
 * A BlipForImageTextRetrieval with exactly the shapes of Salesforce/blip-itm-base-coco (ViT-B/16 at 384 px, a
 * BERT-base text encoder with cross-attention, 256-wide ITC space) and seeded random weights, for benchmarks:
 * compute and memory are real, scores are not. About 0.9 GB on disk; generated on demand into a git-ignored cache.
 */
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import { blipBaseConfig, blipBaseVocab } from './blip-base-random';
import type { BlipRetrievalPackConfig } from './blip-retrieval-pack';
import { retrievalTensorShapes, writeBlipRetrievalPack } from './blip-retrieval-pack';
import { SeededRandom } from './seeded-random';

export function blipItmBaseConfig(): BlipRetrievalPackConfig {
  const { vision, text } = blipBaseConfig();
  return { vision, text, imageTextHiddenSize: 256 };
}

/** Uniform weights with the variance of transformers' init (std 0.02), LayerNorms at one, biases at zero. */
export function blipItmBaseRandomWeights(seed = 11): WeightMap {
  const rng = new SeededRandom(seed);
  const weights: WeightMap = new Map();
  const a = 0.02 * Math.sqrt(3);
  for (const [name, shape] of retrievalTensorShapes(blipItmBaseConfig())) {
    const n = shape.reduce((x, y) => x * y, 1);
    let data: Float32Array;
    if (/(LayerNorm|layer_norm\d|post_layernorm)\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else data = rng.uniforms(n, a);
    weights.set(name, { storedDType: 'float32', shape, data });
  }
  return weights;
}

export async function writeBlipItmBaseRandom(dir: string): Promise<void> {
  await writeBlipRetrievalPack(dir, blipItmBaseConfig(), blipBaseVocab(), blipItmBaseRandomWeights());
}
