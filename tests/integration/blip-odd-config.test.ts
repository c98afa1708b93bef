/**
 * A config in the style of transformers' own test suite: sizes that divide nothing evenly, an image size the
 * patch size does not divide, sep outside the vocabulary, tanh GELU, large eps (a wrong eps would show), float16 weights, and
 * generation defaults carried in text_config. Everything still matches the reference.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlipEngine } from '../../src/main/core/blip/blip-engine';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { preprocessBlipImage } from '../../src/main/core/blip/preprocess';
import type { BlipPackConfig } from '../../test-models/blip-pack-files';
import { writeBlipPack } from '../../test-models/blip-pack-files';
import { BlipReference } from '../../test-models/blip-reference';
import { randomBlipWeights } from '../../test-models/tiny-blip';
import { tinyVocab } from '../../test-models/tiny-vocab';
import { readSafetensors } from '../../src/main/core/weights/safetensors';
import { maxAbsDiff, patternPng } from './blip-helpers';

const config: BlipPackConfig = {
  architecture: 'BlipForConditionalGeneration',
  vision: { hiddenSize: 24, intermediateSize: 37, numHiddenLayers: 2, numAttentionHeads: 3, imageSize: 31, patchSize: 4, layerNormEps: 0.05 },
  text: {
    vocabSize: 99,
    hiddenSize: 20,
    encoderHiddenSize: 24,
    intermediateSize: 37,
    numHiddenLayers: 3,
    numAttentionHeads: 5,
    maxPositionEmbeddings: 40,
    hiddenAct: 'gelu_new',
    layerNormEps: 0.02,
    bosTokenId: 98,
    sepTokenId: 102,
    padTokenId: 0,
  },
  textGeneration: { max_length: 12 },
};

let work: string;
let model: BlipEngine;
let ref: BlipReference;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-blip-odd-'));
  const dir = join(work, 'model');
  const weights = randomBlipWeights(config, 77);
  for (const t of weights.values()) t.storedDType = 'float16';
  await writeBlipPack(dir, config, tinyVocab(), weights);
  model = await loadBlipEngine({ modelDir: dir, cacheDir: join(work, 'cache'), threads: 1 });
  ref = new BlipReference(model.spec, await readSafetensors(join(dir, 'model.safetensors')));
});

afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('odd BLIP config', () => {
  it('reads the config as transformers would', () => {
    expect(model.spec.vision).toMatchObject({ imageSize: 31, patchSize: 4, layerNormEps: 0.05 });
    expect(model.spec.text).toMatchObject({ hiddenAct: 'gelu_new', layerNormEps: 0.02, sepTokenId: 102, vocabSize: 99 });
    expect(model.spec.generation.maxLength).toBe(12);
  });

  it('floors the patch grid, and embeds/logits/greedy tokens match the reference', async () => {
    const img = await patternPng(9);
    const pixels = await preprocessBlipImage(img, model.imageConfig);
    const embeds = await model.encodeImages([img]);
    expect(embeds.dims).toEqual([1, 7 * 7 + 1, 24]);
    const refEmbeds = ref.vision(pixels);
    expect(maxAbsDiff(embeds.data, refEmbeds)).toBeLessThan(1e-4);

    const [out] = await model.caption([img], { returnLogits: true });
    // sep (102) can never be produced, so the caption runs to text_config.max_length
    expect(out!.tokenIds).toHaveLength(12);
    const expected = ref.greedy([98], refEmbeds, 12);
    expect(out!.tokenIds).toEqual(expected.ids);
    out!.stepLogits!.forEach((row, t) => expect(maxAbsDiff(row, expected.logits[t]!)).toBeLessThan(1e-4));
  });
});
