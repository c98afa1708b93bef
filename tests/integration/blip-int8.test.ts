/** The int8 variant: a separate cache entry, close logits, and the colour model still names colours. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { patternPng, solidPng } from './blip-helpers';

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'tandem-blip-int8-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('int8 BLIP', () => {
  it('compiles to its own entry with logits close to float32', async () => {
    const dir = await ensureTestModel('tiny-captioner');
    const fp = await loadBlipEngine({ modelDir: dir, cacheDir, threads: 1 });
    const q = await loadBlipEngine({ modelDir: dir, cacheDir, threads: 1, quantization: 'int8' });
    try {
      expect(basename(q.compiledDir)).toMatch(/^blip-int8-/);
      expect(q.compiledDir).not.toBe(fp.compiledDir);
      const img = await patternPng(5);
      const ids = [fp.spec.text.bosTokenId, 17, 35, 20];
      const a = await fp.logitsFor(img, ids);
      const b = await q.logitsFor(img, ids);
      let num = 0;
      let den = 0;
      a.forEach((row, t) => row.forEach((v, i) => ((num += (v - b[t]![i]!) ** 2), (den += v * v))));
      const rel = Math.sqrt(num / den);
      expect(rel).toBeGreaterThan(0); // really quantised
      expect(rel).toBeLessThan(0.05);
    } finally {
      await fp.dispose();
      await q.dispose();
    }
  });

  it('the colour model still names colours', async () => {
    const q = await loadBlipEngine({ modelDir: await ensureTestModel('colour'), cacheDir, threads: 1, quantization: 'int8' });
    try {
      const out = await q.caption([await solidPng([255, 0, 0]), await solidPng([0, 255, 0]), await solidPng([0, 0, 255])]);
      expect(out.map((o) => o.text)).toEqual(['a photo of red', 'a photo of green', 'a photo of blue']);
    } finally {
      await q.dispose();
    }
  });
});
