/**
 * The compiled BlipForImageTextRetrieval graphs against the independent float64 reference
 * (test-models/blip-retrieval-reference.ts): ITC embeddings, the cosine matrix and ITM probabilities, plus
 * .bin = safetensors, batch = single, int8, and clear errors for the wrong kind of BLIP.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { preprocessBlipImage } from '../../src/main/core/blip/preprocess';
import { loadBlipTokenizer } from '../../src/main/core/blip/tokenizer';
import type { BlipRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { loadRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { loadCheckpoint } from '../../src/main/core/weights/load-checkpoint';
import { BlipRetrievalReference } from '../../test-models/blip-retrieval-reference';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { maxAbsDiff, patternPng, solidPng } from './blip-helpers';

const TOL = 1e-5;
const TEXTS = ['a red car on the street', 'dog', 'two people sitting on a bench near the sea', 'a photo of a cat', 'blue sky'];

let work: string;
let modelDir: string;
let engine: BlipRetrievalEngine;
let ref: BlipRetrievalReference;
let images: Buffer[];

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-retrieval-'));
  modelDir = await ensureTestModel('tiny-retrieval');
  engine = await loadRetrievalEngine({ modelDir, cacheDir: join(work, 'cache'), model: 'tiny-itm', threads: 1 });
  const { weights } = await loadCheckpoint(modelDir);
  ref = new BlipRetrievalReference(engine.spec, weights, engine.spec.imageTextHiddenSize);
  images = [await patternPng(1), await patternPng(2, 40, 70), await solidPng([200, 40, 30])];
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('BLIP retrieval engine (tiny random model)', () => {
  it('reads every size from the config', () => {
    expect(engine.spec.architecture).toBe('retrieval');
    expect(engine.dimensions).toBe(24);
    expect(engine.spec.vision.hiddenSize).toBe(48);
    expect(engine.spec.text.encoderHiddenSize).toBe(48);
    expect(engine.model).toBe('tiny-itm');
    // Token 0 is the tokenizer's [CLS]: transformers' retrieval forward does not replace it with [ENC].
    expect(engine.tokenize('dog')[0]).toBe(engine.tokenizer.tokenToId('[CLS]'));
    expect(engine.tokenize('dog').at(-1)).toBe(engine.tokenizer.tokenToId('[SEP]'));
  });

  it('tokenizer.json and vocab.txt alone give the same ids (both layouts exist on the hub)', async () => {
    const vocabOnly = join(work, 'vocab-only');
    await cp(modelDir, vocabOnly, { recursive: true });
    await rm(join(vocabOnly, 'tokenizer.json'));
    const fromVocab = await loadBlipTokenizer(vocabOnly);
    for (const text of [...TEXTS, 'Reddish SKY!', '']) expect(engine.tokenize(text)).toEqual(fromVocab.encode(text));
  });

  it('image embeddings match the float64 reference and are unit length', async () => {
    const ours = await engine.embedImages(images);
    expect(ours).toHaveLength(3);
    for (const [i, img] of images.entries()) {
      const pixels = await preprocessBlipImage(img, engine.imageConfig);
      const expected = ref.imageFeature(ref.imageEmbeds(pixels));
      expect(ours[i]).toHaveLength(24);
      expect(maxAbsDiff(ours[i]!, expected)).toBeLessThan(TOL);
      expect(Math.abs(Math.sqrt(dot(ours[i]!, ours[i]!)) - 1)).toBeLessThan(1e-6);
    }
  });

  it('text embeddings match the reference, with and without padding there', async () => {
    const ours = await engine.embedTexts(TEXTS);
    const longest = Math.max(...TEXTS.map((t) => engine.tokenize(t).length));
    for (const [i, text] of TEXTS.entries()) {
      const ids = engine.tokenize(text);
      expect(maxAbsDiff(ours[i]!, ref.textFeature(ids))).toBeLessThan(TOL);
      // What transformers computes in a padded batch (pad id, mask 0) is the same embedding.
      const pad = longest - ids.length;
      const padded = [...ids, ...new Array<number>(pad).fill(engine.spec.text.padTokenId)];
      const mask = [...ids.map(() => 1), ...new Array<number>(pad).fill(0)];
      expect(maxAbsDiff(ours[i]!, ref.textFeature(padded, mask))).toBeLessThan(TOL);
    }
    // Different texts give different embeddings (a graph that ignored the words would pass the rest).
    expect(maxAbsDiff(ours[0]!, ours[1]!)).toBeGreaterThan(0.05);
  });

  it('the cosine matrix (image_feat @ text_featᵀ) matches the reference', async () => {
    const imgs = await engine.embedImages(images);
    const txts = await engine.embedTexts(TEXTS);
    for (const [i, img] of images.entries()) {
      const refImg = ref.imageFeature(ref.imageEmbeds(await preprocessBlipImage(img, engine.imageConfig)));
      for (const [j, text] of TEXTS.entries()) {
        expect(Math.abs(dot(imgs[i]!, txts[j]!) - dot(refImg, ref.textFeature(engine.tokenize(text))))).toBeLessThan(TOL);
      }
    }
  });

  it('ITM logits and probabilities match the reference', async () => {
    for (const img of images.slice(0, 2)) {
      const embeds = ref.imageEmbeds(await preprocessBlipImage(img, engine.imageConfig));
      const probs = await engine.matchProbabilities(img, TEXTS);
      const logits = await engine.matchLogits(img, TEXTS);
      for (const [j, text] of TEXTS.entries()) {
        const ids = engine.tokenize(text);
        expect(maxAbsDiff(logits[j]!, ref.itmLogits(ids, embeds))).toBeLessThan(TOL);
        expect(Math.abs(probs[j]! - ref.itmProbability(ids, embeds))).toBeLessThan(TOL);
      }
    }
    // The image matters: the same text scores differently against another picture.
    const a = await engine.matchProbabilities(images[0]!, TEXTS);
    const b = await engine.matchProbabilities(images[1]!, TEXTS);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
  });

  it('a batch gives exactly what single runs give', async () => {
    const many = [...images, images[0]!, images[2]!];
    const batch = await engine.embedImages(many);
    for (const [i, img] of many.entries()) expect(batch[i]).toEqual((await engine.embedImages([img]))[0]);
    const texts = [...TEXTS, 'dog', 'a photo of a dog'];
    const tBatch = await engine.embedTexts(texts);
    for (const [i, t] of texts.entries()) expect(tBatch[i]).toEqual((await engine.embedTexts([t]))[0]);
    const pBatch = await engine.matchProbabilities(images[1]!, texts);
    for (const [i, t] of texts.entries()) expect(pBatch[i]).toBe((await engine.matchProbabilities(images[1]!, [t]))[0]);
    expect(await engine.embedImages([])).toEqual([]);
    expect(await engine.embedTexts([])).toEqual([]);
    expect(await engine.matchProbabilities(images[0]!, [])).toEqual([]);
  });

  it('pytorch_model.bin gives exactly what model.safetensors gives', async () => {
    const binDir = await ensureTestModel('tiny-retrieval', { format: 'bin' });
    const bin = await loadRetrievalEngine({ modelDir: binDir, cacheDir: join(work, 'cache'), model: 'tiny-itm', threads: 1 });
    try {
      expect(await bin.embedImages(images)).toEqual(await engine.embedImages(images));
      expect(await bin.embedTexts(TEXTS)).toEqual(await engine.embedTexts(TEXTS));
      expect(await bin.matchProbabilities(images[0]!, TEXTS)).toEqual(await engine.matchProbabilities(images[0]!, TEXTS));
    } finally {
      await bin.dispose();
    }
  });

  it('compiles once into the shared cache; int8 is a separate entry close to float32', async () => {
    const again = await loadRetrievalEngine({ modelDir, cacheDir: join(work, 'cache'), model: 'tiny-itm', threads: 1 });
    expect(again.compiled).toBe(false);
    expect(again.compiledDir).toBe(engine.compiledDir);
    await again.dispose();
    const int8 = await loadRetrievalEngine({ modelDir, cacheDir: join(work, 'cache'), model: 'tiny-itm', threads: 1, quantization: 'int8' });
    try {
      expect(int8.compiledDir).not.toBe(engine.compiledDir);
      const q = await int8.embedImages(images);
      const f = await engine.embedImages(images);
      for (let i = 0; i < images.length; i++) expect(dot(q[i]!, f[i]!)).toBeGreaterThan(0.98);
      expect(maxAbsDiff(q[0]!, f[0]!)).toBeGreaterThan(0);
      const qt = await int8.embedTexts(TEXTS);
      const ft = await engine.embedTexts(TEXTS);
      for (let i = 0; i < TEXTS.length; i++) expect(dot(qt[i]!, ft[i]!)).toBeGreaterThan(0.98);
    } finally {
      await int8.dispose();
    }
  });

  it('says which engine a captioner or a retrieval model belongs to', async () => {
    const captioner = await ensureTestModel('tiny-captioner');
    await expect(loadRetrievalEngine({ modelDir: captioner, cacheDir: join(work, 'cache'), model: 'x' })).rejects.toThrow(/BlipForImageTextRetrieval/);
    await expect(loadBlipEngine({ modelDir, cacheDir: join(work, 'cache') })).rejects.toThrow(/search by meaning/);
  });
});
