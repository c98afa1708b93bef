/** BlipForQuestionAnswering: question encoder + answer decoder, random tiny and hand-set colour models. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlipEngine } from '../../src/main/core/blip/blip-engine';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { beamSearch } from '../../src/main/core/blip/generate';
import { preprocessBlipImage } from '../../src/main/core/blip/preprocess';
import { BlipReference } from '../../test-models/blip-reference';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { readSafetensors } from '../../src/main/core/weights/safetensors';
import { maxAbsDiff, patternPng, ReferenceStepModel, solidPng } from './blip-helpers';

let vqa: BlipEngine;
let colourVqa: BlipEngine;
let ref: BlipReference;
let cacheDir: string;
let images: Buffer[];
const questions = ['what is in the photo?', 'is it red?', 'how many dogs are there?'];

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'tandem-blip-vqa-'));
  const dir = await ensureTestModel('tiny-vqa');
  vqa = await loadBlipEngine({ modelDir: dir, cacheDir, threads: 1 });
  ref = new BlipReference(vqa.spec, await readSafetensors(join(dir, 'model.safetensors')));
  colourVqa = await loadBlipEngine({ modelDir: await ensureTestModel('colour-vqa'), cacheDir, threads: 1 });
  images = [await solidPng([255, 0, 0]), await solidPng([0, 255, 0]), await solidPng([0, 0, 255]), await patternPng(4), await solidPng([255, 255, 255])];
});

afterAll(async () => {
  await vqa?.dispose();
  await colourVqa?.dispose();
  await rm(cacheDir, { recursive: true, force: true });
});

/** Reference question states for [CLS] q [SEP] with an all-ones mask. */
async function refQuestion(img: Buffer, question: string): Promise<{ states: Float64Array<ArrayBuffer>; mask: number[] }> {
  const image = ref.vision(await preprocessBlipImage(img, vqa.imageConfig));
  const ids = vqa.tokenizer.encode(question);
  const mask = ids.map(() => 1);
  return { states: ref.questionStates(ids, mask, image), mask };
}

describe('tiny random VQA vs the reference', () => {
  it('has a question encoder and refuses to caption', async () => {
    expect(vqa.architecture).toBe('vqa');
    await expect(vqa.caption([images[0]!])).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('answer-decoder logits over the question states match to 1e-4', async () => {
    const ids = [vqa.spec.text.bosTokenId, 55, 116, 132];
    const logits = await vqa.logitsFor(images[3]!, ids, { question: questions[0]! });
    const q = await refQuestion(images[3]!, questions[0]!);
    const expected = ref.decoderLogits(ids, q.states, q.mask);
    const V = vqa.spec.text.vocabSize;
    logits.forEach((row, t) => expect(maxAbsDiff(row, expected.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-4));
  });

  it('greedy answers start at bos, equal reference decoding, and stop at eos', async () => {
    const sep = vqa.spec.text.sepTokenId;
    let stoppedWithWords = 0;
    for (const img of images) {
      for (const question of questions) {
        const out = await vqa.answer(img, question);
        const q = await refQuestion(img, question);
        const expected = ref.greedy([vqa.spec.text.bosTokenId], q.states, 20, q.mask);
        expect(out.tokenIds).toEqual(expected.ids);
        expect(out.tokenIds[0]).toBe(vqa.spec.text.bosTokenId);
        const last = out.tokenIds.at(-1);
        expect(last === sep || out.tokenIds.length === 20).toBe(true);
        if (last === sep && out.text.length > 0) stoppedWithWords++;
      }
    }
    expect(stoppedWithWords).toBeGreaterThan(0);
  });

  it('beam search answers match beam search over the reference', async () => {
    const q = await refQuestion(images[3]!, questions[1]!);
    const [theirs] = await beamSearch(new ReferenceStepModel(ref, [q.states], [q.mask]), [[vqa.spec.text.bosTokenId]], {
      maxLength: 8,
      minLength: 0,
      numBeams: 3,
      lengthPenalty: 1,
      earlyStopping: false,
      repetitionPenalty: 1,
      noRepeatNgramSize: 0,
      eosTokenId: vqa.spec.text.sepTokenId,
      padTokenId: 0,
    });
    const ours = await vqa.answer(images[3]!, questions[1]!, { numBeams: 3, maxLength: 8 });
    expect(ours.tokenIds).toEqual(theirs!.tokenIds);
  });
});

describe('colour VQA', () => {
  it('answers with the photo’s colour and stops at eos', async () => {
    for (const [img, word] of [
      [images[0]!, 'red'],
      [images[1]!, 'green'],
      [images[2]!, 'blue'],
      [images[4]!, 'white'],
    ] as const) {
      const out = await colourVqa.answer(img, 'what colour is this photo?');
      expect(out.text).toBe(word);
      expect(out.tokenIds).toEqual([colourVqa.spec.text.bosTokenId, colourVqa.tokenizer.tokenToId(word), colourVqa.spec.text.sepTokenId]);
    }
  });
});
