import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let env: NodeJS.ProcessEnv;
let photos: string;
const N = 30;

beforeAll(async () => {
  tmp = tempDir();
  env = { ...process.env, TANDEM_HOME: join(tmp.dir, 'data') };
  photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < N; i++) {
    const hue = ['#c02020', '#20a020', '#2030c0'][i % 3]!;
    await sharp({ create: { width: 80 + i, height: 60, channels: 3, background: hue } }).jpeg().toFile(join(photos, `p${i}.jpg`));
  }
  const model = await ensureTestModel('colour');
  const imported = spawnSync(process.execPath, [BIN, 'models', 'import', model, '--name', 'blip-base'], { env, encoding: 'utf8' });
  expect(imported.status, imported.stderr).toBe(0);
});
afterAll(() => tmp?.cleanup());

/** Starts `tandem index --caption` and SIGKILLs it after `ms`. */
function runAndKill(ms: number): Promise<void> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'index', photos, '--caption', '--batch-size', '2', '--threads', '1'], { env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

describe('killing the CLI mid-run', () => {
  it('loses nothing and captions nothing twice across SIGKILLs at random points', async () => {
    const delays = Array.from({ length: 4 }, () => 800 + Math.floor(Math.random() * 3500));
    for (const ms of delays) await runAndKill(ms);
    const final = spawnSync(process.execPath, [BIN, 'index', photos, '--caption', '--json'], { env, encoding: 'utf8', timeout: 300_000 });
    expect(final.status, `${final.stderr}\n(killed after ${delays.join(', ')} ms)`).toBe(0);

    const db = new Database(join(tmp.dir, 'data', 'tandem.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const photosCount = (db.prepare("SELECT count(*) AS n FROM photos WHERE status = 'ok'").get() as { n: number }).n;
      expect(photosCount).toBe(N);
      const perPhoto = db
        .prepare("SELECT p.id, (SELECT count(*) FROM captions c WHERE c.photo_id = p.id AND c.source = 'model:blip-base') AS n FROM photos p")
        .all() as { id: number; n: number }[];
      expect(perPhoto.filter((r) => r.n !== 1), `killed after ${delays.join(', ')} ms`).toEqual([]);
      const states = db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all();
      expect(states).toEqual([{ state: 'done', n: N }]);
    } finally {
      db.close();
    }
  });
});
