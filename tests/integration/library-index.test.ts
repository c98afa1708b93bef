import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import { thumbPath } from '../../src/main/core/library/thumbnails';
import type { PhotoSummary } from '../../src/shared/api';
import { copyFixtures, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let core: Core;
let rootId: number;

function all(): PhotoSummary[] {
  return core.search.list({ status: ['ok', 'broken', 'unsupported', 'missing'] }, 'name', 0, 1000).items;
}
function byRel(rel: string): PhotoSummary {
  const p = all().find((x) => x.relPath === rel);
  if (!p) throw new Error(`no photo ${rel}`);
  return p;
}

beforeAll(async () => {
  tmp = tempDir();
  photosDir = copyFixtures(tmp.dir);
  core = openCore({ dataDir: join(tmp.dir, 'data') });
  rootId = (await core.library.addRoot(photosDir)).id;
  await core.library.scan();
});

afterAll(async () => {
  await core?.close();
  chmodSync(tmp.dir, 0o755);
  tmp?.cleanup();
});

describe('indexing the fixture photos', () => {
  it('indexes every photo under real/, formats/ and exif/ with size and a thumbnail', async () => {
    const good = all().filter((p) => /^(real|formats|exif)\//.test(p.relPath));
    expect(good.length).toBe(16);
    for (const p of good) {
      expect(p.status, `${p.relPath}: ${p.statusReason}`).toBe('ok');
      expect(p.width).toBeGreaterThan(0);
      expect(p.height).toBeGreaterThan(0);
      const hash = core.photos.row(p.id).hash;
      // Indexing writes the grid's thumbnail; the large preview is made on first view (issue 14).
      expect(existsSync(thumbPath(core.paths.thumbsDir, hash, 'large')), `${p.relPath} large preview before any view`).toBe(false);
      await core.media.thumbnail(p.id, 'large');
      for (const size of ['small', 'large'] as const) {
        const file = thumbPath(core.paths.thumbsDir, hash, size);
        expect(existsSync(file), `${p.relPath} ${size} thumbnail`).toBe(true);
        const meta = await sharp(file).metadata();
        // Thumbnails keep the displayed aspect ratio.
        expect(Math.sign(meta.width! - meta.height!)).toBe(Math.sign(p.width! - p.height!));
      }
    }
  });

  it('applies EXIF orientation: the rotated photo comes out portrait', async () => {
    const p = byRel('exif/chelsea-rotated-90cw.jpg');
    expect(p.height).toBeGreaterThan(p.width!);
    const t = await sharp(thumbPath(core.paths.thumbsDir, core.photos.row(p.id).hash, 'small')).metadata();
    expect(t.height).toBeGreaterThan(t.width!);
    expect(core.photos.row(p.id).orientation).toBe(6);
  });

  it('reads EXIF date, camera and GPS, and imports the embedded caption with source "file"', () => {
    const rotated = core.photos.detail(byRel('exif/chelsea-rotated-90cw.jpg').id, []);
    expect(rotated.takenAt).toBe('2019-07-14T16:20:05');
    expect(rotated.cameraMake).toBe('Canon');
    expect(rotated.cameraModel).toBe('Canon EOS 80D');
    const coffee = byRel('exif/coffee-gps-caption.jpg');
    const d = core.photos.detail(coffee.id, core.captions.history(coffee.id));
    expect(d.takenAt).toBe('2021-03-02T08:15:00');
    expect(d.gpsLat).toBeCloseTo(48.8584, 3);
    expect(d.gpsLon).toBeCloseTo(2.2945, 3);
    expect(d.caption).toBe('Morning coffee in Paris');
    expect(d.captionSource).toBe('file');
    expect(d.captions.map((c) => c.source)).toEqual(['file']);
  });

  it('decodes HEIC, TIFF, WebP, GIF first frame and alpha PNG', () => {
    for (const rel of ['formats/astronaut.heic', 'formats/chelsea.tif', 'formats/coffee.webp', 'formats/animated.gif', 'formats/chelsea-alpha.png', 'formats/coffee-gray.jpg']) {
      expect(byRel(rel).status, rel).toBe('ok');
    }
    expect(core.photos.row(byRel('formats/astronaut.heic').id).format).toBe('heic');
  });

  it('records every broken file with a specific reason', () => {
    const reasons: Record<string, RegExp> = {
      'broken/bomb-60000x60000.png': /60000×60000.*limit/,
      'broken/cut-after-4k.jpg': /truncated/,
      'broken/empty.jpg': /empty/,
      'broken/not-an-image.jpg': /Not an image/,
      'broken/truncated.jpg': /truncated|unreadable/,
      'broken/png-named.jpg': /PNG image named \.jpg/,
    };
    for (const [rel, re] of Object.entries(reasons)) {
      const p = byRel(rel);
      expect(p.statusReason, rel).toMatch(re);
    }
    for (const rel of Object.keys(reasons).filter((r) => r !== 'broken/png-named.jpg')) expect(byRel(rel).status).toBe('broken');
    // A mislabelled but valid PNG is still shown.
    expect(byRel('broken/png-named.jpg').status).toBe('ok');
  });

  it('keeps the database consistent', () => {
    expect(core.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(core.db.pragma('foreign_key_check')).toEqual([]);
    expect(core.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('a rescan with nothing changed re-reads nothing', async () => {
    const counts = await core.library.scan();
    expect(counts.unchanged).toBe(counts.seen);
    expect(counts.added + counts.changed + counts.moved + counts.missing).toBe(0);
  });

  it('a rescan rebuilds grid thumbnails deleted from the cache, re-reading only those photos', async () => {
    const ok = all().filter((p) => p.status === 'ok');
    const hashOf = (p: PhotoSummary): string => core.photos.row(p.id).hash;
    const one = ok[0]!;
    const shardDir = join(core.paths.thumbsDir, hashOf(ok.find((p) => hashOf(p).slice(0, 2) !== hashOf(one).slice(0, 2))!).slice(0, 2));
    rmSync(thumbPath(core.paths.thumbsDir, hashOf(one), 'small'));
    rmSync(shardDir, { recursive: true }); // a whole shard folder gone
    const gone = ok.filter((p) => p.id === one.id || join(core.paths.thumbsDir, hashOf(p).slice(0, 2)) === shardDir);
    expect(gone.length).toBeGreaterThanOrEqual(2);
    const counts = await core.library.scan();
    expect(counts.added + counts.changed + counts.moved + counts.missing).toBe(0);
    expect(counts.thumbnails).toBe(gone.length); // the unchanged photos whose thumbnail is gone, and no others
    for (const p of gone) expect(existsSync(thumbPath(core.paths.thumbsDir, hashOf(p), 'small')), p.relPath).toBe(true);
    const again = await core.library.scan();
    expect(again.thumbnails).toBe(0);
  });

  it('regenerates a thumbnail deleted from the cache', async () => {
    const p = byRel('real/horse.png');
    const file = thumbPath(core.paths.thumbsDir, core.photos.row(p.id).hash, 'small');
    rmSync(file);
    const reply = await core.media.resolve(`thumb/${p.id}?size=small`);
    expect(reply.path).toBe(file);
    expect(existsSync(file)).toBe(true);
  });
});

describe('identity across renames, moves and deletes', () => {
  it('keeps id and captions when a photo is renamed and moved', async () => {
    const before = byRel('real/coins.png');
    core.captions.add(before.id, 'user', 'old coins on a table');
    mkdirSync(join(photosDir, 'moved', 'deeper'), { recursive: true });
    renameSync(join(photosDir, 'real/coins.png'), join(photosDir, 'moved/deeper/money.png'));
    const counts = await core.library.scan([rootId]);
    expect(counts.moved).toBe(1);
    expect(counts.missing).toBe(0);
    const after = byRel('moved/deeper/money.png');
    expect(after.id).toBe(before.id);
    expect(after.caption).toBe('old coins on a table');
    expect(all().some((p) => p.relPath === 'real/coins.png')).toBe(false);
    expect(core.search.search('money', {}, 0, 10).items.map((p) => p.id)).toEqual([before.id]);
  });

  it('marks a deleted photo missing instead of dropping it, and restores it when it comes back', async () => {
    const p = byRel('real/rocket.jpg');
    core.captions.add(p.id, 'user', 'launch day');
    const src = join(photosDir, 'real/rocket.jpg');
    const aside = join(tmp.dir, 'rocket-aside.jpg');
    renameSync(src, aside);
    const counts = await core.library.scan([rootId]);
    expect(counts.missing).toBe(1);
    const missing = byRel('real/rocket.jpg');
    expect(missing.status).toBe('missing');
    expect(core.photos.row(p.id).missing_since).not.toBeNull();
    // Hidden from browsing and search by default.
    expect(core.search.list({}, 'name', 0, 1000).items.some((x) => x.id === p.id)).toBe(false);
    expect(core.search.search('launch', {}, 0, 10).total).toBe(0);
    expect(core.search.search('launch', { status: ['missing'] }, 0, 10).total).toBe(1);

    // Coming back elsewhere, with a new name, is a move of the same photo.
    renameSync(aside, join(photosDir, 'rocket-again.jpg'));
    const again = await core.library.scan([rootId]);
    expect(again.moved).toBe(1);
    const back = byRel('rocket-again.jpg');
    expect(back.id).toBe(p.id);
    expect(back.status).toBe('ok');
    expect(back.caption).toBe('launch day');
  });

  it('notices a changed file at the same path', async () => {
    const p = byRel('real/horse.png');
    const file = join(photosDir, 'real/horse.png');
    await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3050a0' } }).png().toFile(`${file}.tmp`);
    renameSync(`${file}.tmp`, file);
    const counts = await core.library.scan([rootId]);
    expect(counts.changed).toBe(1);
    const after = byRel('real/horse.png');
    expect(after.id).toBe(p.id);
    expect(after.width).toBe(40);
  });
});
