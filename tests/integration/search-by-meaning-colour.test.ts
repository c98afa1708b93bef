/**
 * Search quality on the shared fixture photos with the hand-set colour retrieval model (test-models/
 * colour-blip-retrieval.ts) running the real path: pack import, the inference process, compiled ITC/ITM graphs,
 * the embed job queue, the vector index and the fused ranking. A colour query finds the photo of that colour
 * although no caption, tag or name of it says the word.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { copyFixtures, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;
let photos: string;

beforeAll(async () => {
  tmp = tempDir('tandem-meaning-colour-');
  photos = copyFixtures(tmp.dir);
  // One plainly coloured photo beside the real ones, named and captioned without its colour.
  await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 30, g: 150, b: 40 } } }).jpeg().toFile(join(photos, 'real', 'meadow.jpg'));
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  await core.downloads.importFolder(await ensureTestModel('colour-retrieval'), 'blip-itm-base-coco');
  await core.library.addRoot(photos);
  await core.library.scan();
  core.captions.add(core.db.prepare("SELECT id FROM photos WHERE rel_path = 'real/meadow.jpg'").pluck().get() as number, 'user', 'an afternoon outside');
  expect(core.embeddings.enqueue({ kind: 'all' })).toBeGreaterThan(10);
  const run = await core.embeddings.run({ batchSize: 4, threads: 1 });
  expect(run).toMatchObject({ state: 'done', failed: 0 });
}, 300_000);

afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

describe('search by meaning with the colour retrieval model', () => {
  it('embeds every readable fixture photo, none of the broken ones', () => {
    const status = core.embeddings.status();
    expect(status.active).toBe(true);
    expect(status.embedded).toBe(status.photos);
    const broken = core.db.prepare("SELECT count(*) FROM photos WHERE status != 'ok'").pluck().get() as number;
    expect(broken).toBeGreaterThan(0);
    expect(core.embeddings.jobs.counts().failed).toBe(0);
  });

  it('finds the green photo for "green" although its caption and name lack the word', async () => {
    const words = await core.hybrid.search('green', {}, 0, 50, { wordsOnly: true });
    expect(words.total).toBe(0);
    const r = await core.hybrid.search('green', {}, 0, 50);
    expect(r.items[0]).toMatchObject({ relPath: 'real/meadow.jpg', matchedBy: 'meaning' });
    expect(r.items[0]!.similarity).toBeGreaterThan(0.5);
  });

  it('finds the brown coffee photos for "brown", ahead of the grey and dark ones', async () => {
    const r = await core.hybrid.search('brown', {}, 0, 50);
    const top = r.items.slice(0, 3).map((h) => h.fileName).sort();
    expect(top).toEqual(['coffee-gps-caption.jpg', 'coffee.png', 'coffee.webp']);
    expect(r.items.map((h) => h.relPath)).not.toContain('real/meadow.jpg');
  });

  it('re-ranks with the matching head and finds similar photos by image embedding', async () => {
    const reranked = await core.hybrid.search('a green field outside', {}, 0, 10, { rerank: true });
    expect(reranked.items[0]!.relPath).toBe('real/meadow.jpg');
    expect(reranked.items[0]!.matchProbability).toBeGreaterThan(0.5);
    const coffee = core.db.prepare("SELECT id FROM photos WHERE rel_path = 'real/coffee.png'").pluck().get() as number;
    const similar = await core.hybrid.similar(coffee, {}, 0, 5);
    // The same picture in other formats looks the most alike.
    expect(similar.items.slice(0, 2).map((h) => h.fileName).sort()).toEqual(['coffee-gps-caption.jpg', 'coffee.webp']);
  });
});
