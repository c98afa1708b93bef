import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportSummary } from '../../src/shared/api';
import { openCore } from '../../src/main/core/core';
import { copyFixtures, tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let photos: string;

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function exportJson(dest: string, args: string[]): ExportSummary {
  const r = tandem(['export', dest, ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ExportSummary;
}

const IMAGE = /\.(jpe?g|png|webp|gif|tiff?|heic)$/i;

beforeAll(() => {
  tmp = tempDir('tandem-export-');
  dataDir = join(tmp.dir, 'data');
  photos = copyFixtures(tmp.dir);
  expect(tandem(['index', photos]).code).toBe(0);
  // Captions from a person, two models and the file; keywords; through the same core the app uses.
  const core = openCore({ dataDir });
  try {
    const id = (rel: string) => core.photos.findByPath(join(photos, rel))!.id;
    core.captions.add(id('real/horse.png'), 'user', 'a horse, "grazing"\nin a field');
    core.captions.add(id('real/rocket.jpg'), 'model:blip-large', 'a rocket on a launch pad');
    core.captions.add(id('real/rocket.jpg'), 'model:blip-base', 'a rocket launch');
    core.keywords.add(id('real/horse.png'), 'Ёлка');
    core.keywords.add(id('real/horse.png'), 'animal');
    core.keywords.add(id('real/rocket.jpg'), 'space');
  } finally {
    void core.close();
  }
});
afterAll(() => tmp?.cleanup());

describe('tandem export', () => {
  it('writes .txt and .caption sidecars and CSV / JSONL manifests, skipping broken photos with reasons', () => {
    const dest = join(tmp.dir, 'all-formats');
    const r = tandem(['export', dest, '--format', 'txt', '--format', 'caption', '--format', 'csv,jsonl']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/22\/22 .*photos\/s.*ETA/);
    expect(r.stdout).toMatch(/Done: 17 photos exported/);
    expect(r.stdout).toMatch(/5 skipped:/);
    expect(r.stdout).toMatch(/broken\/empty\.jpg: File is empty/);

    expect(readFileSync(join(dest, 'horse.txt'), 'utf8')).toBe('a horse, "grazing" in a field\n');
    expect(readFileSync(join(dest, 'horse.caption'), 'utf8')).toBe('a horse, "grazing" in a field\n');
    expect(readFileSync(join(dest, 'rocket.txt'), 'utf8')).toBe('a rocket launch\n');
    expect(readFileSync(join(dest, 'coffee-gps-caption.txt'), 'utf8')).toBe('Morning coffee in Paris\n');
    // No images asked for: sidecars only, and none for photos without a caption.
    expect(readdirSync(dest).filter((f) => IMAGE.test(f))).toEqual([]);
    expect(readdirSync(dest).filter((f) => f.endsWith('.txt'))).toHaveLength(3);

    const jsonl = readFileSync(join(dest, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(jsonl).toHaveLength(17);
    const horse = jsonl.find((j) => j['file_name'] === 'horse.png')!;
    expect(horse).toMatchObject({ caption: 'a horse, "grazing"\nin a field', source: 'user', model: '', keywords: ['animal', 'Ёлка'], path: join(photos, 'real/horse.png') });
    expect(jsonl.find((j) => j['file_name'] === 'rocket.jpg')).toMatchObject({ caption: 'a rocket launch', source: 'model', model: 'blip-base', keywords: ['space'] });
    // Clashing names get -2, -3 in the order of folder and name.
    expect(jsonl.filter((j) => String(j['file_name']).startsWith('coffee')).map((j) => j['file_name'])).toEqual(['coffee-gps-caption.jpg', 'coffee-gray.jpg', 'coffee.webp', 'coffee-2.png']);

    const csv = readFileSync(join(dest, 'metadata.csv'), 'utf8');
    expect(csv.startsWith('file_name,path,caption,source,model,keywords,width,height,size,taken_at\r\n')).toBe(true);
    expect(csv).toContain(`horse.png,${join(photos, 'real/horse.png')},"a horse, ""grazing""\nin a field",user,,"animal, Ёлка",`);
  });

  it('copies images resized to --max-side, upright, with the manifest telling their real size', async () => {
    const dest = join(tmp.dir, 'resized');
    const s = exportJson(dest, ['--images', 'copy', '--max-side', '256', '--format', 'txt,jsonl']);
    expect(s).toMatchObject({ exported: 17, images: 17, skipped: 5, cancelled: false });
    expect(s.renamed).toBeGreaterThanOrEqual(3);
    const files = readdirSync(dest).filter((f) => IMAGE.test(f));
    expect(files).toHaveLength(17);
    for (const f of files) {
      const m = await sharp(join(dest, f)).metadata();
      expect(Math.max(m.width!, m.height!), f).toBeLessThanOrEqual(256);
      expect(m.orientation ?? 1, f).toBe(1);
    }
    // The EXIF-rotated photo comes out upright (portrait), the HEIC as a JPEG trainers can read.
    const rotated = await sharp(join(dest, 'chelsea-rotated-90cw.jpg')).metadata();
    expect(rotated.height!).toBeGreaterThan(rotated.width!);
    expect(files).toContain('astronaut-2.jpg');
    const rows = readFileSync(join(dest, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file_name: string; size: number; width: number; height: number });
    for (const row of rows) {
      expect(statSync(join(dest, row.file_name)).size).toBe(row.size);
      expect(Math.max(row.width, row.height)).toBeLessThanOrEqual(256);
    }
    // Every sidecar pairs with an image by stem.
    const stems = new Set(files.map((f) => f.replace(/\.[^.]+$/, '')));
    for (const t of readdirSync(dest).filter((f) => f.endsWith('.txt'))) expect(stems.has(t.slice(0, -4))).toBe(true);
  });

  it('exports a search, hard-linking the images, with every caption on its own line', () => {
    const dest = join(tmp.dir, 'search');
    const s = exportJson(dest, ['--search', 'rocket', '--images', 'link', '--captions', 'all', '--format', 'txt']);
    expect(s).toMatchObject({ exported: 1, images: 1, sidecars: 1, skipped: 0 });
    expect(readdirSync(dest).sort()).toEqual(['rocket.jpg', 'rocket.txt']);
    expect(statSync(join(dest, 'rocket.jpg')).ino).toBe(statSync(join(photos, 'real/rocket.jpg')).ino);
    expect(readFileSync(join(dest, 'rocket.txt'), 'utf8')).toBe('a rocket launch\na rocket on a launch pad\n');
    // A keyword finds its photo too, and --folder narrows by folder.
    expect(exportJson(join(tmp.dir, 'by-tag'), ['--search', 'Ёлка']).exported).toBe(1);
    expect(exportJson(join(tmp.dir, 'by-folder'), ['--folder', 'exif']).exported).toBe(3);
    expect(exportJson(join(tmp.dir, 'by-path'), ['--folder', join(photos, 'real'), '--captioned']).exported).toBe(2);
  });

  it('refuses an export folder inside the library, and link with --max-side, with clear messages', () => {
    const inside = tandem(['export', join(photos, 'real', 'out')]);
    expect(inside.code).toBe(1);
    expect(inside.stderr).toMatch(/is inside the library folder .*Choose a folder outside your library/);
    const link = tandem(['export', join(tmp.dir, 'x'), '--images', 'link', '--max-side', '64']);
    expect(link.code).toBe(1);
    expect(link.stderr).toMatch(/Hard links keep each photo as it is/);
    expect(tandem(['export', join(tmp.dir, 'x'), '--format', 'xml']).stderr).toMatch(/Unknown export format “xml”/);
  });

  it('round trip: an exported folder indexed as a new library folder has the same captions, from the file', async () => {
    const dest = join(tmp.dir, 'round-trip');
    exportJson(dest, ['--images', 'copy', '--format', 'txt,jsonl']);
    expect(tandem(['index', dest]).code).toBe(0);
    const rows = readFileSync(join(dest, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file_name: string; caption: string });
    const core = openCore({ dataDir });
    try {
      for (const row of rows) {
        const imported = core.photos.findByPath(join(dest, row.file_name));
        expect(imported, row.file_name).toBeDefined();
        const expected = row.caption === '' ? null : row.caption.replace(/\s+/g, ' ');
        expect(imported!.caption_text, row.file_name).toBe(expected);
        if (expected) expect(imported!.caption_source).toBe('file');
      }
    } finally {
      await core.close();
    }
  });
});
