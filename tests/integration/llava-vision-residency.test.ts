/**
 * The vision tower on demand (the default): loaded to read a new photo and let go right after, so a chat's prefill
 * and answer run without its weights. The answers must be exactly those of a tower kept loaded, photo after photo.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileLlavaToFolder } from '../../src/main/core/llava-compiler/compile-llava';
import { chooseLlavaDtypes } from '../../src/main/core/llava/llava-dtypes';
import { LlavaEngine, type LlavaAnswer } from '../../src/main/core/llava/llava-engine';
import { chooseVisionResidency, LlavaSessions, visionResidencyFor } from '../../src/main/core/llava/llava-sessions';
import { TINY_LLAVA_15_SHAPE, writeTinyLlavaHf } from '../../test-models/tiny-llava-hf';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let dir: string;
const photos: string[] = [];

beforeAll(async () => {
  tmp = tempDir('tandem-llava-vision-');
  for (const [i, seed] of [7, 29, 113].entries()) {
    const raw = Buffer.alloc(48 * 40 * 3);
    for (let j = 0; j < raw.length; j++) raw[j] = (j * seed + (j >> 6) * 5) % 256;
    const p = join(tmp.dir, `photo-${i}.png`);
    await sharp(raw, { raw: { width: 48, height: 40, channels: 3 } }).png().toFile(p);
    photos.push(p);
  }
  const src = join(tmp.dir, 'hf');
  dir = join(tmp.dir, 'pack');
  await writeTinyLlavaHf(src, TINY_LLAVA_15_SHAPE);
  await compileLlavaToFolder(src, dir, { decoderPrecision: 'fp32', decoderIo: 'kv-append' });
}, 120_000);
afterAll(() => tmp?.cleanup());

async function load(vision?: 'resident' | 'on-demand'): Promise<LlavaEngine> {
  return LlavaEngine.load({ modelDir: dir, dtypes: await chooseLlavaDtypes(dir), threads: 1, maxContextTokens: 512, ...(vision ? { vision } : {}) });
}

const sampling = { temperature: 0, topP: 1, maxNewTokens: 6 };
function ask(engine: LlavaEngine, imagePath: string, turns: { role: 'user' | 'assistant'; text: string }[]): Promise<LlavaAnswer> {
  return engine.generate({ imagePath, system: '', turns, sampling }, () => {}, { interrupted: false });
}

describe('LLaVA vision tower residency', () => {
  it('automatic: loaded per photo where the tower is smaller than the language model, kept where it is larger', async () => {
    expect(visionResidencyFor(1.2e9, 3.7e9)).toBe('on-demand'); // LLaVA-1.5-7B
    expect(visionResidencyFor(1.6e9, 0.3e9)).toBe('resident'); // llava-interleave-qwen-0.5b
    const dtypes = await chooseLlavaDtypes(dir);
    const bytes = (f: string) => statSync(join(dir, 'onnx', f)).size + (statSync(join(dir, 'onnx', `${f}_data`), { throwIfNoEntry: false })?.size ?? 0);
    const expected = visionResidencyFor(bytes('vision_encoder.onnx'), bytes('decoder_model_merged.onnx'));
    expect(await chooseVisionResidency(dir, dtypes, 'auto')).toBe(expected);
    expect(await chooseVisionResidency(dir, dtypes, 'resident')).toBe('resident');
    expect(await chooseVisionResidency(dir, dtypes, 'on-demand')).toBe('on-demand');
    const engine = await load();
    try {
      expect(engine.vision).toBe(expected);
    } finally {
      await engine.dispose();
    }
  });

  it('on demand: let go after each new photo, loaded again for the next, same answers as kept loaded', async () => {
    const onDemand = await load('on-demand');
    const resident = await load('resident');
    try {
      expect(onDemand.visionLoaded).toBe(true); // opened at load, so a broken graph is refused there
      const q = [{ role: 'user' as const, text: 'What is in the picture?' }];
      for (const photo of photos) {
        const a = await ask(onDemand, photo, q);
        expect(onDemand.visionLoaded).toBe(false);
        const b = await ask(resident, photo, q);
        expect(resident.visionLoaded).toBe(true);
        expect(a.imageCached).toBe(false);
        expect(a.tokenIds).toEqual(b.tokenIds);
        expect(a.tokenIds.length).toBeGreaterThan(0);
        // A follow-up reads no photo, so the tower stays unloaded.
        const f = await ask(onDemand, photo, [...q, { role: 'assistant', text: a.text }, { role: 'user', text: 'And then?' }]);
        expect(f.imageMs).toBe(0);
        expect(onDemand.visionLoaded).toBe(false);
      }
      // The photos differ, so identical answers are not a constant.
      const answers = await Promise.all(photos.map(async (p) => (await ask(resident, p, q)).tokenIds.join(',')));
      expect(new Set(answers).size).toBeGreaterThan(1);
    } finally {
      await onDemand.dispose();
      await resident.dispose();
    }
  }, 120_000);

  it("a new photo that loads the tower again first lets go of the last conversation's buffers; kept loaded, they are reused", async () => {
    const reserve = vi.spyOn(LlavaSessions.prototype, 'reserve');
    const q = [{ role: 'user' as const, text: 'What is in the picture?' }];
    const pastCapacities = async (engine: LlavaEngine): Promise<number[]> => {
      await ask(engine, photos[0]!, q);
      reserve.mockClear();
      await ask(engine, photos[1]!, q); // a new photo: the tower is loaded again when on demand
      return reserve.mock.calls.map(([past]) => past.capacity);
    };
    const onDemand = await load('on-demand');
    const resident = await load('resident');
    try {
      const dropped = await pastCapacities(onDemand);
      const reused = await pastCapacities(resident);
      expect(dropped.length).toBeGreaterThan(0);
      expect(dropped[0]).toBe(0); // written into a fresh cache
      expect(reused[0]).toBeGreaterThan(0); // written into the last conversation's emptied buffers
    } finally {
      reserve.mockRestore();
      await onDemand.dispose();
      await resident.dispose();
    }
  }, 120_000);
});
