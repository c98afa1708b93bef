/** The hand-set colour captioner through the whole path: image file → preprocessing → graphs → text. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlipEngine } from '../../src/main/core/blip/blip-engine';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { expectedColourWord } from '../../test-models/colour-blip';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { solidPng } from './blip-helpers';

let model: BlipEngine;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-blip-colour-'));
  model = await loadBlipEngine({ modelDir: await ensureTestModel('colour'), cacheDir: join(work, 'cache'), threads: 1 });
});

afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('colour BLIP', () => {
  it('captions solid red, green and blue images with their colour', async () => {
    const out = await model.caption([await solidPng([255, 0, 0]), await solidPng([0, 255, 0]), await solidPng([0, 0, 255])]);
    expect(out.map((o) => o.text)).toEqual(['a photo of red', 'a photo of green', 'a photo of blue']);
    for (const o of out) expect(o.tokenIds.at(-1)).toBe(model.spec.text.sepTokenId);
  });

  it('captions PNG and JPEG files on disk, in batches', async () => {
    const colours: Array<[number, number, number]> = [
      [230, 20, 30],
      [20, 160, 40],
      [30, 40, 200],
      [250, 240, 10],
      [255, 255, 255],
      [5, 5, 5],
      [128, 128, 128],
    ];
    const paths: string[] = [];
    for (const [i, c] of colours.entries()) {
      const p = join(work, `photo-${i}.${i % 2 ? 'jpg' : 'png'}`);
      const img = sharp({ create: { width: 120, height: 80, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } });
      await writeFile(p, i % 2 ? await img.jpeg({ quality: 95 }).toBuffer() : await img.png().toBuffer());
      paths.push(p);
    }
    const out = await model.caption(paths, { batchSize: 3 });
    expect(out.map((o) => o.text)).toEqual(colours.map((c) => `a photo of ${expectedColourWord(c)}`));
    expect(out.map((o) => o.text)).toEqual([
      'a photo of red',
      'a photo of green',
      'a photo of blue',
      'a photo of yellow',
      'a photo of white',
      'a photo of black',
      'a photo of gray',
    ]);
  });

  it('names the colour nearest the photo’s mean colour', async () => {
    // 7/8 red and 1/8 blue: the mean stays red; half and half averages to purple.
    const twoColour = (redColumns: number): Promise<Buffer> => {
      const raw = Buffer.alloc(64 * 64 * 3);
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) raw.set(x < redColumns ? [240, 10, 10] : [10, 10, 240], (y * 64 + x) * 3);
      return sharp(raw, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    };
    const out = await model.caption([await twoColour(56), await twoColour(32)]);
    expect(out.map((o) => o.text)).toEqual(['a photo of red', 'a photo of purple']);
  });

  it('continues a prompt and beam search agrees', async () => {
    const red = await solidPng([255, 0, 0]);
    expect((await model.caption([red], { prompt: 'a photography of' }))[0]!.text).toBe('a photography of red');
    expect((await model.caption([red], { numBeams: 3 }))[0]!.text).toBe('a photo of red');
  });
});
