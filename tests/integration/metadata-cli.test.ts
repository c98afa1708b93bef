import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/main/core/core';
import { exiftoolRead } from '../support/exiftool-cli';
import { FIXTURE_PHOTOS, tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let dataDir: string;

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  tmp = tempDir('tandem-metadata-cli-');
  photosDir = join(tmp.dir, 'photos');
  dataDir = join(tmp.dir, 'data');
  mkdirSync(join(photosDir, 'trip'), { recursive: true });
  copyFileSync(join(FIXTURE_PHOTOS, 'real/rocket.jpg'), join(photosDir, 'trip/rocket.jpg'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/horse.png'), join(photosDir, 'trip/horse.png'));
  copyFileSync(join(FIXTURE_PHOTOS, 'real/coins.png'), join(photosDir, 'coins.png'));
  for (const f of ['trip/rocket.jpg', 'trip/horse.png', 'coins.png']) chmodSync(join(photosDir, f), 0o644);
  expect(tandem(['index', photosDir]).code).toBe(0);
  const core = openCore({ dataDir });
  try {
    for (const r of core.db.prepare('SELECT id, file_name FROM photos').all() as { id: number; file_name: string }[]) {
      core.captions.add(r.id, 'user', `my ${r.file_name}`);
      core.keywords.add(r.id, 'holiday', 'user');
    }
  } finally {
    await core.close();
  }
}, 120_000);

afterAll(() => {
  chmodSync(join(photosDir, 'coins.png'), 0o644);
  tmp?.cleanup();
});

describe('tandem write-metadata', () => {
  it('writes the sidecars of one folder, with a progress line and a summary', () => {
    const r = tandem(['write-metadata', '--folder', join(photosDir, 'trip')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Done: 2 written, 0 skipped, 0 failed.');
    expect(r.stderr).toMatch(/2\/2 .*photos\/s.*written 2/);
    expect(exiftoolRead(join(photosDir, 'trip/rocket.jpg.xmp'))).toMatchObject({ 'XMP-dc:Description': 'my rocket.jpg', 'XMP-dc:Subject': ['holiday'] });
    expect(existsSync(join(photosDir, 'coins.png.xmp'))).toBe(false);
  });

  it('embeds on request; a read-only photo fails with its reason and exit code 1', () => {
    chmodSync(join(photosDir, 'coins.png'), 0o444);
    const r = tandem(['write-metadata', '--all', '--embed', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { written: number; failed: number; problems: { path: string; reason: string; failed: boolean }[] };
    expect(out).toMatchObject({ written: 2, failed: 1 });
    expect(out.problems).toEqual([expect.objectContaining({ path: join(photosDir, 'coins.png'), failed: true, reason: expect.stringContaining('read-only') })]);
    expect(exiftoolRead(join(photosDir, 'trip/horse.png'))['XMP-dc:Description']).toBe('my horse.png');
  });

  it('names a photo that is not in the library', () => {
    const r = tandem(['write-metadata', join(tmp.dir, 'elsewhere.jpg')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is not a photo in the library');
  });
});
