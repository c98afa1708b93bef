import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/main/core/core';
import { CHANGED_SINCE_SCAN } from '../../src/main/core/metadata/metadata-writer';
import { exiftoolReadMany } from '../support/exiftool-cli';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
const COUNT = 200;

let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let dataDir: string;
const original = new Map<string, string>();
const captionOf = (name: string) => `caption for ${name} — подпись 🚀`;

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every photo decodes to the end, and holds either its old bytes or Tandem's caption: never anything in between. */
async function checkEveryFile(): Promise<{ old: number; updated: number }> {
  let old = 0;
  let updated = 0;
  const names = [...original.keys()];
  const read = exiftoolReadMany(names.map((n) => join(photosDir, n)), ['XMP-dc:Description']);
  for (const name of names) {
    const file = join(photosDir, name);
    const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect(info.width, name).toBe(640);
    if (sha(file) === original.get(name)) {
      old++;
    } else {
      expect(read.get(file)?.['XMP-dc:Description'], name).toBe(captionOf(name));
      updated++;
    }
  }
  return { old, updated };
}

beforeAll(async () => {
  tmp = tempDir('tandem-embed-crash-');
  photosDir = join(tmp.dir, 'photos');
  dataDir = join(tmp.dir, 'data');
  mkdirSync(photosDir);
  for (let i = 0; i < COUNT; i++) {
    const name = `p${String(i).padStart(3, '0')}.jpg`;
    // Distinct pixels per photo (identical bytes would be one photo seen twice).
    const noise = Buffer.alloc(64 * 48 * 3);
    for (let j = 0; j < noise.length; j++) noise[j] = (i * 31 + j * 7) % 251;
    await sharp(noise, { raw: { width: 64, height: 48, channels: 3 } }).resize(640, 480).jpeg({ quality: 90 }).toFile(join(photosDir, name));
    original.set(name, sha(join(photosDir, name)));
  }
  const core = openCore({ dataDir });
  try {
    const root = await core.library.addRoot(photosDir);
    await core.library.scan([root.id]);
    const rows = core.db.prepare('SELECT id, file_name FROM photos').all() as { id: number; file_name: string }[];
    expect(rows.length).toBe(COUNT);
    for (const r of rows) core.captions.add(r.id, 'model:blip-base', captionOf(r.file_name));
  } finally {
    await core.close();
  }
}, 240_000);

afterAll(() => tmp?.cleanup());

describe('embedding survives kill -9', () => {
  it('a killed 200-file embed run leaves every file old or new and valid; the next run finishes the rest', async () => {
    const child = spawn(process.execPath, [BIN, 'write-metadata', '--all', '--embed', '--data-dir', dataDir], {
      detached: true,
      stdio: 'ignore',
    });
    // Kill once some files are done, mid-run: the CLI and its ExifTool process together (-pid: the process group).
    const db = new Database(join(dataDir, 'tandem.db'), { readonly: true, fileMustExist: true });
    const deadline = Date.now() + 120_000;
    let done = 0;
    while (Date.now() < deadline) {
      done = (db.prepare("SELECT count(*) AS n FROM jobs WHERE kind = 'write-metadata' AND state = 'done'").get() as { n: number }).n;
      if (done >= 30) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    db.close();
    expect(done).toBeGreaterThanOrEqual(30);
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const afterKill = await checkEveryFile();
    expect(afterKill.updated).toBeGreaterThanOrEqual(30);
    expect(afterKill.old).toBeGreaterThan(0);
    // Only hidden temp files may be left over, never a visible half-written photo.
    expect(readdirSync(photosDir).filter((n) => !n.startsWith('.')).length).toBe(COUNT);

    // The jobs left "running" go back to the queue; the run finishes the rest.
    const rerun = tandem(['write-metadata', '--all', '--embed', '--json']);
    const result = JSON.parse(rerun.stdout) as { written: number; skipped: number; failed: number; problems: { reason: string }[] };
    expect(result.failed, rerun.stderr).toBe(0);
    // A file renamed into place just before the kill, before its job was marked done, reads as changed since the scan.
    for (const p of result.problems) expect(p.reason).toBe(CHANGED_SINCE_SCAN);
    expect(result.problems.length).toBeLessThanOrEqual(2);
    if (result.problems.length) {
      expect(tandem(['index', photosDir]).code).toBe(0);
      expect(tandem(['write-metadata', '--all', '--embed']).code).toBe(0);
    }
    const final = await checkEveryFile();
    expect(final).toEqual({ old: 0, updated: COUNT });
    // Nothing left to do.
    const again = JSON.parse(tandem(['write-metadata', '--all', '--embed', '--json']).stdout) as { written: number; skipped: number };
    expect(again).toMatchObject({ written: 0, skipped: COUNT });
  }, 600_000);
});
