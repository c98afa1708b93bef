/**
 * 'match' in the inference process: one vision pass per photo gives the ITM probabilities and the ITC vector
 * (the cosine `tandem match` prints), and a photo matched again comes from the kept embeds without a pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FromWorker } from '../../src/main/core/inference/protocol';
import { RetrievalHandler } from '../../src/main/core/inference/retrieval-handler';
import { loadRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { ensureTestModel } from '../../test-models/test-model-cache';

let tmp: string;
let modelDir: string;
let photo: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tandem-match-handler-'));
  modelDir = await ensureTestModel('tiny-retrieval', { format: 'bin' });
  photo = join(tmp, 'orange.png');
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#e08020' } }).png().toFile(photo);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('RetrievalHandler match', () => {
  it('answers probabilities and the ITC vector from one vision pass, then from the kept embeds', async () => {
    const sent: FromWorker[] = [];
    const handler = new RetrievalHandler((m) => sent.push(m), async (dir) => join(dir, 'pytorch_model.bin'));
    const direct = await loadRetrievalEngine({ modelDir, cacheDir: join(tmp, 'direct'), model: 'x', threads: 1 });
    // Every engine is of the same class: counting its vision passes counts the handler's too.
    const passes = vi.spyOn(Object.getPrototypeOf(direct) as typeof direct, 'encodeImages');
    try {
      await handler.handle({ type: 'load-retrieval', id: 1, model: 'tiny', modelDir, cacheDir: join(tmp, 'cache'), threads: 1 })();
      passes.mockClear();
      await handler.handle({ type: 'match', id: 2, path: photo, texts: ['an orange wall', 'a dog'] })();
      expect(passes).toHaveBeenCalledTimes(1);
      const first = sent.find((m) => m.type === 'matched' && m.id === 2);
      if (first?.type !== 'matched') throw new Error(`no reply: ${JSON.stringify(sent.at(-1))}`);
      expect(first.probabilities).toHaveLength(2);
      const [want] = await direct.embedImages([photo]);
      expect(first.vector).toHaveLength(want!.length);
      first.vector.forEach((v, i) => expect(v).toBeCloseTo(want![i]!, 5));
      expect(first.probabilities).toEqual(await direct.matchProbabilities(photo, ['an orange wall', 'a dog']).then((p) => p.map((x) => expect.closeTo(x, 6))));

      passes.mockClear();
      await handler.handle({ type: 'match', id: 3, path: photo, texts: ['an orange wall'] })();
      expect(passes).not.toHaveBeenCalled();
      const again = sent.find((m) => m.type === 'matched' && m.id === 3);
      if (again?.type !== 'matched') throw new Error('no second reply');
      expect(again.vector).toEqual(first.vector);
    } finally {
      passes.mockRestore();
      await handler.dispose();
      await direct.dispose();
    }
  }, 120_000);
});
