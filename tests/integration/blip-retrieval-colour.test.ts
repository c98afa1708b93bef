/**
 * The hand-set colour retrieval model (test-models/colour-blip-retrieval.ts) through the whole path: image file
 * → preprocessing → compiled graphs → cosine and match probability. Colour words and photos of that colour must
 * agree; texts without a colour word must match nothing.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preprocessBlipImage } from '../../src/main/core/blip/preprocess';
import type { BlipRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { loadRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { loadCheckpoint } from '../../src/main/core/weights/load-checkpoint';
import { BlipRetrievalReference } from '../../test-models/blip-retrieval-reference';
import { expectedColourWord } from '../../test-models/colour-blip-retrieval';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { COLOUR_WORDS } from '../../test-models/tiny-vocab';

let engine: BlipRetrievalEngine;
let work: string;
let modelDir: string;

/** Photos as the fixtures and a camera give them: not the prototypes, in PNG and JPEG. */
const PHOTOS: Array<[number, number, number]> = [
  [230, 20, 30],
  [20, 160, 40],
  [30, 40, 200],
  [250, 240, 10],
  [255, 255, 255],
  [5, 5, 5],
  [128, 128, 128],
  [250, 140, 10],
];
let paths: string[];

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-retrieval-colour-'));
  modelDir = await ensureTestModel('colour-retrieval');
  engine = await loadRetrievalEngine({ modelDir, cacheDir: join(work, 'cache'), model: 'colour-itm', threads: 1 });
  paths = [];
  for (const [i, c] of PHOTOS.entries()) {
    const p = join(work, `photo-${i}.${i % 2 ? 'jpg' : 'png'}`);
    const img = sharp({ create: { width: 120, height: 80, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } });
    await writeFile(p, i % 2 ? await img.jpeg({ quality: 95 }).toBuffer() : await img.png().toBuffer());
    paths.push(p);
  }
}, 120_000);

afterAll(async () => {
  await engine?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('colour retrieval model', () => {
  it('each photo’s best colour word is its colour, by cosine and by match probability', async () => {
    const images = await engine.embedImages(paths);
    const words = await engine.embedTexts([...COLOUR_WORDS]);
    expect(PHOTOS.map(expectedColourWord)).toEqual(['red', 'green', 'blue', 'yellow', 'white', 'black', 'gray', 'orange']);
    for (const [i, rgb] of PHOTOS.entries()) {
      const cos = words.map((w) => dot(images[i]!, w));
      const best = COLOUR_WORDS[cos.indexOf(Math.max(...cos))];
      expect(best).toBe(expectedColourWord(rgb));
      expect(Math.max(...cos)).toBeGreaterThan(0.95);
      const probs = await engine.matchProbabilities(paths[i]!, [...COLOUR_WORDS]);
      for (const [k, word] of COLOUR_WORDS.entries()) {
        if (word === expectedColourWord(rgb)) expect(probs[k]).toBeGreaterThan(0.9);
        else expect(probs[k]).toBeLessThan(0.2);
      }
    }
  });

  it('a colour query ranks the photo of that colour first, also inside a longer text', async () => {
    const images = await engine.embedImages(paths);
    const queries = ['red', 'a photo of a green field', 'the blue sea', 'yellow', 'a white wall', 'black', 'gray sky', 'orange'];
    const q = await engine.embedTexts(queries);
    queries.forEach((_, i) => {
      const scores = images.map((img) => dot(img, q[i]!));
      expect(scores.indexOf(Math.max(...scores))).toBe(i);
    });
  });

  it('a text without a colour word matches no photo', async () => {
    const [dog] = await engine.embedTexts(['a dog sitting on a couch']);
    for (const img of await engine.embedImages(paths)) expect(Math.abs(dot(img, dog!))).toBeLessThan(0.01);
    for (const p of await engine.matchProbabilities(paths[0]!, ['a dog sitting on a couch', 'two people'])) expect(p).toBeLessThan(0.01);
  });

  it('agrees with the float64 reference (hand-set weights are large; the graphs must still be exact)', async () => {
    const { weights } = await loadCheckpoint(modelDir);
    const ref = new BlipRetrievalReference(engine.spec, weights, engine.dimensions);
    const embeds = ref.imageEmbeds(await preprocessBlipImage(paths[0]!, engine.imageConfig));
    const [img] = await engine.embedImages([paths[0]!]);
    const texts = ['red', 'a photo of a green field', 'a dog'];
    const txt = await engine.embedTexts(texts);
    const probs = await engine.matchProbabilities(paths[0]!, texts);
    texts.forEach((t, i) => {
      const ids = engine.tokenize(t);
      expect(Math.abs(dot(img!, txt[i]!) - dot(ref.imageFeature(embeds), ref.textFeature(ids)))).toBeLessThan(1e-4);
      expect(Math.abs(probs[i]! - ref.itmProbability(ids, embeds))).toBeLessThan(1e-4);
    });
  });
});
