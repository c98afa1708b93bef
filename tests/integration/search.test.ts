import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import { listQuery } from '../../src/main/core/search/search-service';
import type { PhotoSort } from '../../src/shared/api';
import { FIXTURE_PHOTOS, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let core: Core;

beforeAll(async () => {
  tmp = tempDir();
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  await core.library.addRoot(FIXTURE_PHOTOS);
  await core.library.scan();
});
afterAll(async () => {
  await core?.close();
  tmp?.cleanup();
});

const names = (q: string, f = {}): string[] => core.search.search(q, f, 0, 100).items.map((p) => p.relPath);

describe('search', () => {
  it('finds the XMP caption by word, by another word and by prefix', () => {
    for (const q of ['coffee', 'paris', 'Paris', 'mor', 'morning coffee', '"coffee in paris"']) {
      expect(names(q)[0], q).toBe('exif/coffee-gps-caption.jpg');
    }
  });

  it('ranks a caption match above file-name matches', () => {
    // "coffee" is also in three file names; the photo whose caption says it comes first.
    const hits = core.search.search('coffee', {}, 0, 100);
    expect(hits.items.length).toBeGreaterThan(1);
    expect(hits.items[0]!.relPath).toBe('exif/coffee-gps-caption.jpg');
    expect(hits.items[0]!.highlight).toBe('Morning \u0001coffee\u0002 in Paris');
  });

  it('finds photos by file name and folder words', () => {
    expect(names('astronaut').sort()).toEqual(['formats/astronaut-12mp.jpg', 'formats/astronaut.heic', 'real/astronaut.jpg']);
    expect(names('ракета')).toEqual(['exif/unicode name ракета 🚀.jpg']);
    expect(names('formats').length).toBeGreaterThanOrEqual(7);
  });

  it('filters by folder, date range, caption and status', () => {
    expect(names('chelsea', { folder: 'real' })).toEqual(['real/chelsea.png']);
    expect(names('chelsea', { folder: 'exif' })).toEqual(['exif/chelsea-rotated-90cw.jpg']);
    expect(names('chelsea', { takenFrom: '2019-07-01', takenTo: '2019-07-31' })).toEqual(['exif/chelsea-rotated-90cw.jpg']);
    expect(names('coffee', { takenTo: '2021-03-02' })).toEqual(['exif/coffee-gps-caption.jpg']);
    expect(names('coffee', { takenTo: '2021-03-01' })).toEqual([]);
    expect(names('coffee', { captioned: 'yes' })).toEqual(['exif/coffee-gps-caption.jpg']);
    expect(names('coffee', { captioned: 'no' })).not.toContain('exif/coffee-gps-caption.jpg');
    expect(names('broken', { status: ['broken'] }).length).toBe(5);
    const browse = core.search.list({ folder: 'broken', status: ['broken'] }, 'name', 0, 100);
    expect(browse.total).toBe(5);
  });

  it('never throws on odd input, and explains what it did', () => {
    const odd = ['"unbalanced', 'AND OR', '🙂', '"', '*', 'NEAR(', 'a OR', '-', "x' OR 1=1 --", 'coffee"', '(((', 'c:o:f'];
    for (const q of odd) {
      const r = core.search.search(q, {}, 0, 10);
      expect(r.total > 0 || r.notice !== null || r.items.length === 0, q).toBe(true);
    }
    expect(core.search.search('"unbalanced coffee', {}, 0, 10).notice).toMatch(/closing quote/);
    expect(core.search.search('coffee"', {}, 0, 10).total).toBeGreaterThan(0);
    expect(core.search.search('AND OR', {}, 0, 10).notice).toMatch(/operators/);
    expect(core.search.search('🙂', {}, 0, 10).notice).toMatch(/Nothing searchable/);
  });

  it('shows a user edit in search at once, and a model caption never hides it', () => {
    const id = core.search.search('horse', {}, 0, 1).items[0]!.id;
    core.captions.add(id, 'user', 'a pony in a meadow');
    core.captions.add(id, 'model:blip-base', 'a horse standing in the grass');
    expect(names('meadow')).toEqual(['real/horse.png']);
    expect(names('grass')).toEqual([]);
    expect(core.photos.summary(id).caption).toBe('a pony in a meadow');
  });
});

describe('browsing by folder and date at scale', () => {
  it('a folder filter takes the folder and its subfolders, never a sibling whose name starts the same', async () => {
    const t = tempDir();
    const c = openCore({ dataDir: join(t.dir, 'data') });
    try {
      const root = join(t.dir, 'photos');
      const folders = ['trip', 'trip/day 1', 'trip/day 1/evening', 'trip-2', 'trip.old', 'trip day', 'tripod', 'trip0', 'other/trip'];
      for (const [i, f] of folders.entries()) {
        mkdirSync(join(root, f), { recursive: true });
        await sharp({ create: { width: 8 + i, height: 8, channels: 3, background: '#808080' } }).png().toFile(join(root, f, `p${i}.png`));
      }
      await c.library.addRoot(root);
      await c.library.scan();
      const inFolder = (folder: string) => c.search.list({ folder }, 'name', 0, 100).items.map((p) => p.relPath).sort();
      expect(inFolder('trip')).toEqual(['trip/day 1/evening/p2.png', 'trip/day 1/p1.png', 'trip/p0.png']);
      expect(inFolder('/trip/day 1/')).toEqual(['trip/day 1/evening/p2.png', 'trip/day 1/p1.png']);
      expect(inFolder('trip-2')).toEqual(['trip-2/p3.png']);
      expect(inFolder('other')).toEqual(['other/trip/p8.png']);
      expect(c.search.list({ folder: 'trip' }, 'taken', 0, 100).total).toBe(3);
    } finally {
      await c.close();
      t.cleanup();
    }
  });

  it('pages by date and by name walk an index in order instead of sorting the library', () => {
    const plan = (sort: PhotoSort) => {
      const q = listQuery({}, sort);
      const rows = core.db.prepare(`EXPLAIN QUERY PLAN ${q.pageSql}`).all({ ...q.params, limit: 50, offset: 0 }) as { detail: string }[];
      return rows.map((r) => r.detail).join(' | ');
    };
    expect(plan('taken')).toContain('USING INDEX photos_sort_taken');
    expect(plan('name')).toContain('USING INDEX photos_sort_name');
    for (const p of [plan('taken'), plan('name')]) expect(p).not.toContain('TEMP B-TREE FOR ORDER BY');
  });
});
