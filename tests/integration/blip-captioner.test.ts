/**
 * The tiny random captioner through the real path (files → compile → onnxruntime → generation), held against
 * the independent float64 reference of modeling_blip*.py.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlipEngine } from '../../src/main/core/blip/blip-engine';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { BlipSessions } from '../../src/main/core/blip/blip-sessions';
import { compileBlip } from '../../src/main/core/blip/compile-blip';
import { beamSearch } from '../../src/main/core/blip/generate';
import { preprocessBlipImage } from '../../src/main/core/blip/preprocess';
import { BlipReference } from '../../test-models/blip-reference';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { readSafetensors } from '../../src/main/core/weights/safetensors';
import { maxAbsDiff, patternPng, ReferenceStepModel, solidPng } from './blip-helpers';

let model: BlipEngine;
let ref: BlipReference;
let cacheDir: string;
let images: Buffer[];
const TOL = 1e-4;

beforeAll(async () => {
  const dir = await ensureTestModel('tiny-captioner');
  cacheDir = await mkdtemp(join(tmpdir(), 'tandem-blip-cap-'));
  model = await loadBlipEngine({ modelDir: dir, cacheDir, threads: 1 });
  ref = new BlipReference(model.spec, await readSafetensors(join(dir, 'model.safetensors')));
  images = [await patternPng(1), await solidPng([250, 20, 20]), await patternPng(2), await solidPng([10, 120, 240]), await patternPng(3)];
});

afterAll(async () => {
  await model?.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

async function refImage(img: Buffer): Promise<Float64Array<ArrayBuffer>> {
  return ref.vision(await preprocessBlipImage(img, model.imageConfig));
}

describe('tiny BLIP captioner vs the reference forward pass', () => {
  it('reads sizes and special ids from config.json', () => {
    expect(model.architecture).toBe('captioning');
    expect(model.spec.vision).toMatchObject({ hiddenSize: 48, numHiddenLayers: 2, imageSize: 32, patchSize: 8, layerNormEps: 1e-5, hiddenAct: 'gelu' });
    expect(model.spec.text).toMatchObject({ hiddenSize: 32, encoderHiddenSize: 48, layerNormEps: 1e-12, eosTokenId: 2 });
    expect(model.spec.text.bosTokenId).toBe(model.tokenizer.tokenToId('[DEC]'));
    expect(model.spec.text.sepTokenId).toBe(model.tokenizer.tokenToId('[SEP]'));
    expect(model.spec.generation.maxLength).toBe(20);
  });

  it('vision encoder: image embeds match to 1e-4', async () => {
    const out = await model.encodeImages(images.slice(0, 2));
    expect(out.dims).toEqual([2, 17, 48]);
    const per = 17 * 48;
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(out.data.subarray(i * per, (i + 1) * per), await refImage(images[i]!))).toBeLessThan(TOL);
  });

  it('decoder logits at every position match to 1e-4', async () => {
    const ids = [model.spec.text.bosTokenId, 17, 35, 20, 43, 91];
    const logits = await model.logitsFor(images[0]!, ids);
    const expected = ref.decoderLogits(ids, await refImage(images[0]!));
    const V = model.spec.text.vocabSize;
    logits.forEach((row, t) => expect(maxAbsDiff(row, expected.subarray(t * V, (t + 1) * V))).toBeLessThan(TOL));
  });

  it('greedy captions: same tokens and per-step logits (1e-4) as reference greedy decoding', async () => {
    for (const img of images.slice(0, 3)) {
      const [out] = await model.caption([img], { returnLogits: true });
      const expected = ref.greedy([model.spec.text.bosTokenId], await refImage(img), 20);
      expect(out!.tokenIds).toEqual(expected.ids);
      expect(out!.stepLogits).toHaveLength(expected.logits.length);
      out!.stepLogits!.forEach((row, t) => expect(maxAbsDiff(row, expected.logits[t]!)).toBeLessThan(TOL));
      expect(out!.text).toBe(model.tokenizer.decode(out!.tokenIds, { skipSpecialTokens: true }));
      expect(out!.text).not.toMatch(/\[DEC\]|\[SEP\]/);
    }
  });

  it('cross-attention over the encoder states honours a padded encoder mask per row (1e-4 against the reference)', async () => {
    // The decoder reads the encoder states themselves (key/value projections moved to the query side); masked
    // positions must drop out of each row's softmax exactly as in transformers, whatever the other rows hold.
    const sessions = await BlipSessions.open(await compileBlip(await ensureTestModel('tiny-captioner'), cacheDir), { intraOpThreads: 1 });
    try {
      const pixels = [await preprocessBlipImage(images[0]!, model.imageConfig), await preprocessBlipImage(images[2]!, model.imageConfig)];
      const embeds = await sessions.encodeImages(Float32Array.from([...pixels[0]!, ...pixels[1]!]), 2);
      const encSeq = embeds.dims[1] as number;
      const masks = [Array.from({ length: encSeq }, (_, j) => (j < encSeq - 6 ? 1 : 0)), Array.from({ length: encSeq }, (_, j) => (j % 3 === 1 ? 0 : 1))];
      const state = sessions.decoderState(sessions.crossAttention(embeds, BigInt64Array.from(masks.flat(), (m) => BigInt(m))));
      const ids = [model.spec.text.bosTokenId, 17, 35, 20];
      await state.step([ids, ids]);
      const V = model.spec.text.vocabSize;
      const got = state.lastLogits!.data;
      for (let r = 0; r < 2; r++) {
        const expected = ref.decoderLogits(ids, await refImage(r === 0 ? images[0]! : images[2]!), masks[r]);
        const unmasked = ref.decoderLogits(ids, await refImage(r === 0 ? images[0]! : images[2]!));
        const row = got.subarray(r * ids.length * V, (r + 1) * ids.length * V);
        expect(maxAbsDiff(row, expected)).toBeLessThan(TOL);
        // and the mask matters: the hidden positions would have changed these logits
        expect(maxAbsDiff(expected, unmasked)).toBeGreaterThan(100 * TOL);
      }
    } finally {
      await sessions.dispose();
    }
  });

  it('KV-cache decoding gives the same tokens and logits (1e-4) as recomputing without a cache', async () => {
    const [cached] = await model.caption([images[2]!], { returnLogits: true, maxLength: 16 });
    const ids = cached!.tokenIds;
    const full = await model.logitsFor(images[2]!, ids.slice(0, -1));
    expect(full).toHaveLength(cached!.stepLogits!.length);
    full.forEach((row, t) => expect(maxAbsDiff(row, cached!.stepLogits![t]!)).toBeLessThan(TOL));
    // and the argmax of the uncached logits reproduces every generated token
    full.forEach((row, t) => expect(row.indexOf(Math.max(...row))).toBe(ids[t + 1]));
  });

  it('beam search with one beam equals greedy', async () => {
    for (const img of images.slice(0, 3)) {
      const [greedy] = await model.caption([img]);
      const [beam] = await model.caption([img], { numBeams: 1, forceBeamSearch: true });
      expect(beam!.tokenIds).toEqual(greedy!.tokenIds);
    }
  });

  it('a batch of 4 equals 4 single runs (greedy and beam search)', async () => {
    const four = images.slice(0, 4);
    for (const opts of [{ returnLogits: true }, { numBeams: 3, maxLength: 12 }]) {
      const batch = await model.caption(four, { ...opts, batchSize: 4 });
      for (let i = 0; i < 4; i++) {
        const [single] = await model.caption([four[i]!], opts);
        expect(batch[i]!.tokenIds).toEqual(single!.tokenIds);
        expect(batch[i]!.text).toBe(single!.text);
        if (single!.stepLogits) single!.stepLogits.forEach((row, t) => expect(maxAbsDiff(row, batch[i]!.stepLogits![t]!)).toBeLessThan(TOL));
      }
    }
    // batches split by batchSize give the same answers too
    const split = await model.caption(four, { batchSize: 3 });
    const whole = await model.caption(four, { batchSize: 8 });
    expect(split.map((o) => o.tokenIds)).toEqual(whole.map((o) => o.tokenIds));
  });

  it('beam search over the compiled graphs matches beam search over the reference', async () => {
    for (const [i, numBeams] of [
      [0, 3],
      [1, 2],
      [4, 4],
    ] as const) {
      const settings = { maxLength: 10, minLength: 0, numBeams, lengthPenalty: 1, earlyStopping: false as const, repetitionPenalty: 1, noRepeatNgramSize: 0, eosTokenId: model.spec.text.sepTokenId, padTokenId: 0 };
      const [ours] = await model.caption([images[i]!], { numBeams, maxLength: 10 });
      const [theirs] = await beamSearch(new ReferenceStepModel(ref, [await refImage(images[i]!)], [undefined]), [[model.spec.text.bosTokenId]], settings);
      expect(ours!.tokenIds).toEqual(theirs!.tokenIds);
    }
  });

  it('repetition penalty and min length change greedy output as the reference says', async () => {
    const img = images[1]!;
    const plain = await model.caption([img]);
    const penalised = await model.caption([img], { repetitionPenalty: 1.8 });
    expect(penalised[0]!.tokenIds).not.toEqual(plain[0]!.tokenIds);
    const settings = { maxLength: 20, minLength: 0, numBeams: 1, lengthPenalty: 1, earlyStopping: false as const, repetitionPenalty: 1.8, noRepeatNgramSize: 0, eosTokenId: model.spec.text.sepTokenId, padTokenId: 0 };
    const { greedySearch } = await import('../../src/main/core/blip/generate');
    const [theirs] = await greedySearch(new ReferenceStepModel(ref, [await refImage(img)], [undefined]), [[model.spec.text.bosTokenId]], settings);
    expect(penalised[0]!.tokenIds).toEqual(theirs!.tokenIds);
  });

  it('prompt: tokenized, first token replaced by bos, trailing [SEP] dropped; text includes the prompt', async () => {
    const prompt = 'a photography of';
    const [out] = await model.caption([images[0]!], { prompt, returnLogits: true });
    const promptIds = model.tokenizer.encode(prompt);
    const expectedPrefix = [model.spec.text.bosTokenId, ...promptIds.slice(1, -1)];
    expect(out!.tokenIds.slice(0, expectedPrefix.length)).toEqual(expectedPrefix);
    expect(out!.text.startsWith(prompt)).toBe(true);
    const expected = ref.greedy(expectedPrefix, await refImage(images[0]!), 20);
    expect(out!.tokenIds).toEqual(expected.ids);
    expect(out!.tokenIds.length).toBeLessThanOrEqual(20);
  });

  it('file paths give the same captions as buffers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-blip-img-'));
    try {
      const p = join(dir, 'pattern.png');
      await writeFile(p, images[0]!);
      const [fromPath] = await model.caption([p]);
      const [fromBuffer] = await model.caption([images[0]!]);
      expect(fromPath!.tokenIds).toEqual(fromBuffer!.tokenIds);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cancellation: an aborted signal rejects, captioning a question-answering call is refused', async () => {
    const ac = new AbortController();
    ac.abort(new Error('user cancelled'));
    await expect(model.caption([images[0]!], { signal: ac.signal })).rejects.toThrow('user cancelled');
    await expect(model.answer(images[0]!, 'what is it?')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(model.caption([images[0]!], { maxLength: 1000 })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(await model.caption([])).toEqual([]);
  });
});
