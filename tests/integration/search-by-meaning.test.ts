import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import type { SearchHit, SearchResult } from '../../src/shared/api';
import { colourEmbeddingBackend, type ColourBackend } from '../support/colour-embedding-backend';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;
let backend: ColourBackend;
let photos: string;

const RED = '#d02020';
const GREEN = '#20b030';
const BLUE = '#2040d0';

async function solid(path: string, colour: string, width = 64): Promise<void> {
  await sharp({ create: { width, height: 48, channels: 3, background: colour } }).jpeg().toFile(path);
}

function id(relPath: string): number {
  return core.db.prepare('SELECT id FROM photos WHERE rel_path = ?').pluck().get(relPath) as number;
}

function byPath(r: SearchResult): { path: string; by: string | undefined }[] {
  return r.items.map((h) => ({ path: h.relPath, by: h.matchedBy }));
}

beforeAll(async () => {
  tmp = tempDir();
  photos = join(tmp.dir, 'photos');
  mkdirSync(join(photos, 'sub'), { recursive: true });
  // File names say nothing about colour, so only captions (words) or pixels (meaning) can find a colour.
  await solid(join(photos, 'a.jpg'), RED);
  await solid(join(photos, 'b.jpg'), GREEN);
  await solid(join(photos, 'c.jpg'), BLUE);
  await solid(join(photos, 'sub', 'd.jpg'), RED, 70);
  await solid(join(photos, 'e.jpg'), BLUE, 72);
  await solid(join(photos, 'f.jpg'), RED, 74);
  backend = colourEmbeddingBackend();
  core = openCore({ dataDir: join(tmp.dir, 'data'), retrieval: { backend, locateModel: () => join(tmp.dir, 'fake-pack') } });
  await core.library.addRoot(photos);
  await core.library.scan();
  // Captions: e's words say "red" although it is blue; f is red and says so.
  core.captions.add(id('e.jpg'), 'user', 'a red barn at dusk');
  core.captions.add(id('f.jpg'), 'user', 'a red car');
});
afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

describe('embedding jobs', () => {
  it('embeds every readable photo once, storing each vector with its job', async () => {
    expect(core.embeddings.status().active).toBe(false);
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(6);
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(0);
    const result = await core.embeddings.run({ batchSize: 2 });
    expect(result).toMatchObject({ state: 'done', done: 6, failed: 0 });
    expect(backend.embedded).toHaveLength(6);
    const status = core.embeddings.status();
    expect(status).toMatchObject({ enabled: true, installed: true, active: true, photos: 6, embedded: 6 });
    expect(status.cost).toMatch(/one more vision pass per photo/i);
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(0);
    // Caption-only paths stay caption-only: the embed jobs are not caption work.
    expect(core.captioning.jobs.counts()).toEqual({ queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 });
  });

  it('does not embed a moved file or a duplicate again, and embeds a changed file', async () => {
    const before = backend.embedded.length;
    mkdirSync(join(photos, 'moved'));
    renameSync(join(photos, 'b.jpg'), join(photos, 'moved', 'b.jpg'));
    copyFileSync(join(photos, 'a.jpg'), join(photos, 'a-copy.jpg'));
    await solid(join(photos, 'c.jpg'), GREEN, 66);
    await core.library.scan();
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(1);
    await core.embeddings.run();
    expect(backend.embedded.slice(before)).toEqual([join(photos, 'c.jpg')]);
    // The moved photo and the copy are found by meaning from their content's embedding.
    const green = await core.hybrid.search('green', {}, 0, 10);
    expect(byPath(green).map((h) => h.path).sort()).toEqual(['c.jpg', 'moved/b.jpg']);
    const red = await core.hybrid.search('red', { folder: '' }, 0, 20);
    expect(red.items.map((h) => h.relPath)).toContain('a-copy.jpg');
  });

  it('puts the jobs of a crashed inference process back in the queue and finishes them', async () => {
    for (let i = 0; i < 4; i++) await solid(join(photos, `new${i}.jpg`), i % 2 ? RED : BLUE, 90 + i);
    await core.library.scan();
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(4);
    backend.crashNext();
    const result = await core.embeddings.run({ batchSize: 2 });
    expect(result.state).toBe('done');
    expect(result.failed).toBe(0);
    expect(result.message).toMatch(/went back to the queue/);
    expect(core.embeddings.jobs.counts()).toMatchObject({ queued: 0, running: 0, failed: 0 });
    expect(core.embeddings.status().embedded).toBe(core.embeddings.status().photos);
  });

  it('leaves caption jobs alone when cancelling and recovering embed jobs', async () => {
    const photoId = id('a.jpg');
    core.captioning.jobs.enqueueCaptions([photoId], 'blip-itm-base-coco', '{}');
    await solid(join(photos, 'late.jpg'), GREEN, 99);
    await core.library.scan();
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(1);
    expect(core.captioning.jobs.claim('blip-itm-base-coco', 10).map((j) => j.kind)).toEqual(['caption']);
    expect(core.embeddings.jobs.cancel()).toBe(1);
    expect(core.captioning.jobs.counts()).toMatchObject({ running: 1, cancelled: 0 });
    core.captioning.jobs.cancel();
    expect(core.embeddings.jobs.counts().cancelled).toBe(1);
    // Cancelled embeddings are queued again by the next "embed what is missing".
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(1);
    await core.embeddings.run();
  });
});

describe('automatic embedding (the app)', () => {
  it('reads new photos after each scan while the setting is on, and not when it is off', async () => {
    const stop = core.embeddings.embedAutomatically(() => ({ batchSize: 2 }));
    try {
      await solid(join(photos, 'auto.jpg'), GREEN, 101);
      await core.library.scan();
      await expect.poll(() => core.embeddings.status().embedded, { timeout: 10_000 }).toBe(core.embeddings.status().photos);
      expect(backend.embedded.at(-1)).toBe(join(photos, 'auto.jpg'));
      core.settings.set({ searchByMeaning: false });
      await solid(join(photos, 'auto-off.jpg'), GREEN, 102);
      await core.library.scan();
      expect(core.embeddings.running).toBe(false);
      expect(core.embeddings.jobs.counts().queued).toBe(0);
    } finally {
      stop();
      core.settings.set({ searchByMeaning: true });
    }
    expect(core.embeddings.enqueue({ kind: 'all' })).toBe(1);
    await core.embeddings.run();
  });
});

describe('hybrid search', () => {
  it('finds a photo by meaning although its caption lacks the word, and says why each hit matched', async () => {
    const r = await core.hybrid.search('red', {}, 0, 50);
    const hits = byPath(r);
    // f is red and captioned "red": both lists agree, so it comes first.
    expect(hits[0]).toEqual({ path: 'f.jpg', by: 'both' });
    // e is only captioned "red"; a, d and the copy are red without the word.
    expect(hits).toContainEqual({ path: 'e.jpg', by: 'words' });
    for (const p of ['a.jpg', 'sub/d.jpg', 'a-copy.jpg']) expect(hits).toContainEqual({ path: p, by: 'meaning' });
    // Blue and green photos are not "red" by meaning.
    expect(hits.map((h) => h.path)).not.toContain('moved/b.jpg');
    expect(r.total).toBe(r.items.length);
    const meaningHit = r.items.find((h) => h.relPath === 'a.jpg')!;
    expect(meaningHit.similarity).toBeGreaterThan(0.9);
    expect(meaningHit.highlight).toBeNull();
  });

  it('applies the filters to the meaning side too', async () => {
    const r = await core.hybrid.search('red', { folder: 'sub' }, 0, 50);
    expect(byPath(r)).toEqual([{ path: 'sub/d.jpg', by: 'meaning' }]);
    const captioned = await core.hybrid.search('red', { captioned: 'yes' }, 0, 50);
    expect(captioned.items.map((h) => h.relPath).sort()).toEqual(['e.jpg', 'f.jpg']);
  });

  it('keeps excluded words out of the meaning side too', async () => {
    // f is red and captioned "a red car": "-car" drops it from both lists; the other red photos stay.
    const r = await core.hybrid.search('red -car', {}, 0, 50);
    const paths = r.items.map((h) => h.relPath);
    expect(paths).not.toContain('f.jpg');
    expect(paths).toContain('a.jpg');
  });

  it('answers from words alone when the text embedding is late or fails, and says so', async () => {
    const { EmbeddingService } = await import('../../src/main/core/retrieval/embedding-service');
    const { HybridSearch } = await import('../../src/main/core/search/hybrid-search');
    let fail = false;
    const slow = {
      ...backend,
      embedTexts: (texts: readonly string[]) =>
        fail ? Promise.reject(new Error('the pack is broken')) : new Promise<Float32Array[]>((r) => setTimeout(() => void backend.embedTexts(texts).then(r), 300)),
    };
    const embeddings = new EmbeddingService({ db: core.db, photos: core.photos, settings: core.settings, events: core.events, backend: slow, locateModel: () => tmp.dir });
    const hybrid = new HybridSearch({ db: core.db, words: core.search, embeddings, photos: core.photos });
    const busy = await hybrid.search('red', {}, 0, 50, { meaningWaitMs: 50 });
    expect(busy.items.map((h) => h.relPath).sort()).toEqual(['e.jpg', 'f.jpg']);
    expect(busy.notice).toMatch(/busy.*words only/);
    // The late embedding was kept: the same words a moment later match by meaning.
    await new Promise((r) => setTimeout(r, 400));
    const later = await hybrid.search('red', {}, 0, 50, { meaningWaitMs: 50 });
    expect(later.items.some((h) => h.matchedBy === 'meaning')).toBe(true);
    fail = true;
    const failed = await hybrid.search('green', {}, 0, 50);
    expect(failed.notice).toMatch(/Search by meaning failed \(the pack is broken\)/);
  });

  it('searches words only when asked, or when the setting is off', async () => {
    const words = await core.hybrid.search('red', {}, 0, 50, { wordsOnly: true });
    expect(words.items.map((h) => h.relPath).sort()).toEqual(['e.jpg', 'f.jpg']);
    expect(words.items[0]!.matchedBy).toBeUndefined();
    core.settings.set({ searchByMeaning: false });
    try {
      expect(core.embeddings.status().active).toBe(false);
      expect((await core.hybrid.search('red', {}, 0, 50)).items.map((h) => h.relPath).sort()).toEqual(['e.jpg', 'f.jpg']);
    } finally {
      core.settings.set({ searchByMeaning: true });
    }
  });

  it('re-ranks the top hits of a long query with the matching head', async () => {
    const plain = await core.hybrid.search('red barn at dusk', {}, 0, 50);
    // Without ITM, the blue photo captioned "red barn" ranks first on its words.
    expect(plain.items[0]!.relPath).toBe('e.jpg');
    const reranked = await core.hybrid.search('red barn at dusk', {}, 0, 50, { rerank: true });
    expect(reranked.items[0]!.matchProbability).toBeGreaterThan(0.5);
    const e = reranked.items.findIndex((h) => h.relPath === 'e.jpg');
    const reds = ['a.jpg', 'sub/d.jpg', 'f.jpg'].map((p) => reranked.items.findIndex((h) => h.relPath === p));
    for (const r of reds) expect(r).toBeLessThan(e);
    // Short queries are not re-ranked (ITM costs a vision pass per photo).
    const short = await core.hybrid.search('red', {}, 0, 50, { rerank: true });
    expect(short.items.every((h) => h.matchProbability === null)).toBe(true);
  });

  it('finds similar photos, the photo itself left out, most similar first', async () => {
    const r = await core.hybrid.similar(id('a.jpg'), {}, 0, 50);
    const paths = r.items.map((h) => h.relPath);
    expect(paths).not.toContain('a.jpg');
    // The other red photos first (the copy, d, f and the two red ones added later), then the rest.
    expect(new Set(paths.slice(0, 5))).toEqual(new Set(['a-copy.jpg', 'sub/d.jpg', 'f.jpg', 'new1.jpg', 'new3.jpg']));
    expect(r.items.every((h) => h.matchedBy === undefined && typeof h.similarity === 'number')).toBe(true);
    expect(r.items[0]!.similarity).toBeGreaterThan(r.items.at(-1)!.similarity!);
    expect((await core.hybrid.similar(id('a.jpg'), { folder: 'sub' }, 0, 50)).items.map((h) => h.relPath)).toEqual(['sub/d.jpg']);
  });

  it('answers the same through the IPC channels', async () => {
    const { createCoreHandlers, dispatch } = await import('../../src/main/core/api-handlers');
    const handlers = createCoreHandlers(core);
    const search = await dispatch(handlers, 'search.query', { query: 'red', filters: { folder: 'sub' } });
    expect(search).toMatchObject({ ok: true, value: { items: [{ relPath: 'sub/d.jpg', matchedBy: 'meaning' }] } });
    const similar = await dispatch(handlers, 'search.similar', { photoId: id('sub/d.jpg') });
    expect(similar.ok).toBe(true);
    const status = await dispatch(handlers, 'embeddings.status', {});
    expect(status).toMatchObject({ ok: true, value: { active: true, model: 'blip-itm-base-coco' } });
  });
});

describe('paging past the fused window', () => {
  it('lists every hit once, in pages, and a meaning hit whose words match further down says so', async () => {
    core.captions.add(id('new1.jpg'), 'user', 'red one');
    core.captions.add(id('new3.jpg'), 'user', 'red two');
    core.captions.add(id('sub/d.jpg'), 'user', 'red three');
    const full = await core.hybrid.search('red', {}, 0, 100);
    // Only the best word hit is fused; the other word hits come after the window, in the words' order.
    const pages: SearchHit[] = [];
    for (let offset = 0; offset < 40; offset += 2) pages.push(...(await core.hybrid.search('red', {}, offset, 2, { fuseDepth: 1 })).items);
    const narrow = await core.hybrid.search('red', {}, 0, 2, { fuseDepth: 1 });
    expect(narrow.total).toBe(full.total);
    expect(pages.map((h) => h.id).sort()).toEqual(full.items.map((h) => h.id).sort());
    expect(new Set(pages.map((h) => h.id)).size).toBe(pages.length);
    // d is red and captioned "red three": found by meaning inside the window, and by words although past it.
    const d = pages.find((h) => h.relPath === 'sub/d.jpg')!;
    expect(d.matchedBy).toBe('both');
    expect(d.highlight).toBe('\u0001red\u0002 three');
    // e is blue: a words-only hit, listed once where the words' order continues.
    expect(pages.filter((h) => h.relPath === 'e.jpg').map((h) => h.matchedBy)).toEqual(['words']);
  });
});
