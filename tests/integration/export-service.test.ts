import { readFileSync, rmSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportProgress } from '../../src/shared/api';
import { MAX_KEYWORD_CHARS, MAX_KEYWORDS_PER_PHOTO } from '../../src/shared/text-limits';
import { createCoreHandlers, dispatch } from '../../src/main/core/api-handlers';
import { openCore, type Core } from '../../src/main/core/core';
import { FolderGrants } from '../../src/main/core/grants/folder-grants';
import { copyFixtures, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;
let photos: string;

beforeAll(async () => {
  tmp = tempDir('tandem-export-service-');
  photos = copyFixtures(tmp.dir);
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  await core.library.addRoot(photos);
  await core.library.scan();
});
afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

describe('export service', () => {
  it('stops when cancelled, keeping what it wrote and a manifest that matches it', async () => {
    const dest = join(tmp.dir, 'cancelled');
    mkdirSync(dest);
    const controller = new AbortController();
    const prepared = await core.exports.prepare(dest, { scope: { kind: 'all' }, formats: ['jsonl'], images: 'copy', maxSide: 128, captions: 'shown' });
    const summary = await core.exports.run(prepared, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done >= 3) controller.abort();
      },
    });
    expect(summary.cancelled).toBe(true);
    expect(summary.exported + summary.skipped).toBeLessThan(prepared.photoIds.length);
    const rows = readFileSync(join(dest, 'metadata.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(summary.exported);
  });

  it('skips a photo whose file went away since the scan, saying why', async () => {
    const dest = join(tmp.dir, 'gone');
    mkdirSync(dest);
    rmSync(join(photos, 'real/coins.png'));
    const prepared = await core.exports.prepare(dest, { scope: { kind: 'search', query: '', filters: { folder: 'real' } }, formats: ['txt'], images: 'copy', maxSide: null, captions: 'shown' });
    const summary = await core.exports.run(prepared);
    expect(summary.skippedExamples).toEqual([{ path: join(photos, 'real/coins.png'), reason: expect.stringMatching(/not at .* any more/) }]);
    expect(summary.exported).toBe(5);
  });

  it('runs from the contract: only an export grant is accepted, progress ends in a summary event', async () => {
    const grants = new FolderGrants();
    const handlers = createCoreHandlers(core, grants);
    const dest = join(tmp.dir, 'from-ipc');
    mkdirSync(dest);
    const options = { scope: { kind: 'search', query: 'coffee' }, formats: ['csv'] };
    const wrong = await dispatch(handlers, 'export.start', { grant: grants.issue(dest, 'library'), options });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid_grant', message: expect.stringMatching(/chosen as a photo folder/) } });
    const path = await dispatch(handlers, 'export.start', { grant: dest, options });
    expect(path).toMatchObject({ ok: false, error: { code: 'invalid_request' } });

    const done = new Promise<ExportProgress>((resolve) => {
      const off = core.events.on('export.progress', (p) => {
        if (p.phase !== 'exporting') {
          off();
          resolve(p);
        }
      });
    });
    const started = await dispatch(handlers, 'export.start', { grant: grants.issue(dest, 'export'), options });
    expect(started).toMatchObject({ ok: true, value: { total: 4 } });
    const last = await done;
    expect(last).toMatchObject({ phase: 'done', done: 4, summary: { exported: 4, manifests: ['metadata.csv'] } });
  });

  it('caps keywords at the contract: length, count per request and per photo', async () => {
    const handlers = createCoreHandlers(core);
    const id = core.photos.findByPath(join(photos, 'real/horse.png'))!.id;
    expect(await dispatch(handlers, 'keywords.add', { photoId: id, keywords: ['x'.repeat(MAX_KEYWORD_CHARS + 1)] })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/at most 100 characters/) },
    });
    expect(await dispatch(handlers, 'keywords.add', { photoId: id, keywords: ['two\nlines'] })).toMatchObject({ ok: false });
    const many = Array.from({ length: MAX_KEYWORDS_PER_PHOTO }, (_, i) => `k${i}`);
    expect(await dispatch(handlers, 'keywords.add', { photoId: id, keywords: many })).toMatchObject({ ok: true });
    expect(await dispatch(handlers, 'keywords.add', { photoId: id, keywords: ['one more'] })).toMatchObject({
      ok: false,
      error: { message: `A photo can have at most ${MAX_KEYWORDS_PER_PHOTO} keywords.` },
    });
    const suggested = await dispatch(handlers, 'keywords.vocabulary', { prefix: 'K19', limit: 5 });
    expect(suggested).toMatchObject({ ok: true, value: [{ keyword: 'k19', photos: 1 }, { keyword: 'k190', photos: 1 }, { keyword: 'k191', photos: 1 }, { keyword: 'k192', photos: 1 }, { keyword: 'k193', photos: 1 }] });
    expect(await dispatch(handlers, 'keywords.remove', { photoId: id, keyword: 'k0' })).toMatchObject({ ok: true });
    expect(core.keywords.list(id)).toHaveLength(MAX_KEYWORDS_PER_PHOTO - 1);
  });
});
