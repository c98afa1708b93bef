/**
 * A tiny random BlipForImageTextRetrieval in the exact Hugging Face layout, seeded so the same call always
 * writes the same bytes. Vision (48), text (32) and ITC (24) widths differ on purpose, so a mixed-up dimension
 * cannot go unnoticed.
 */
import type { WeightFormat } from './blip-pack-files';
import type { BlipRetrievalPackConfig } from './blip-retrieval-pack';
import { randomRetrievalWeights, writeBlipRetrievalPack } from './blip-retrieval-pack';
import { tinyVocab } from './tiny-vocab';

export function tinyRetrievalConfig(): BlipRetrievalPackConfig {
  const vocab = tinyVocab();
  return {
    vision: { hiddenSize: 48, intermediateSize: 96, numHiddenLayers: 2, numAttentionHeads: 4, imageSize: 32, patchSize: 8 },
    text: {
      vocabSize: vocab.length + 2,
      bosTokenId: vocab.length,
      sepTokenId: vocab.indexOf('[SEP]'),
      padTokenId: vocab.indexOf('[PAD]'),
      hiddenSize: 32,
      encoderHiddenSize: 48,
      intermediateSize: 64,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      maxPositionEmbeddings: 64,
    },
    imageTextHiddenSize: 24,
  };
}

export const TINY_RETRIEVAL_SEED = 2468;

export async function writeTinyBlipRetrieval(dir: string, options: { format?: WeightFormat; seed?: number } = {}): Promise<void> {
  const config = tinyRetrievalConfig();
  await writeBlipRetrievalPack(dir, config, tinyVocab(), randomRetrievalWeights(config, options.seed ?? TINY_RETRIEVAL_SEED), options.format);
}
