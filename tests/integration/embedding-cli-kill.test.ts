/**
 * Embeddings survive SIGKILL like captions (issue 11): `tandem embed` is killed at random points, a re-run finishes
 * the rest, and every photo ends with exactly one embedding and one finished job. Then the CLI's search and
 * `similar` use them (the colour retrieval model through the real inference process).
 */
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
const HUES = ['#c02020', '#20a020', '#2030c0'] as const;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

beforeAll(async () => {
  tmp = tempDir();
  env = { ...process.env, TANDEM_HOME: join(tmp.dir, 'data') };
  photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < N; i++) {
    await sharp({ create: { width: 80 + i, height: 60, channels: 3, background: HUES[i % 3]! } }).jpeg().toFile(join(photos, `p${i}.jpg`));
  }
  const model = await ensureTestModel('colour-retrieval');
  const imported = cli(['models', 'import', model, '--name', 'blip-itm-base-coco']);
  expect(imported.status, imported.stderr).toBe(0);
  const indexed = cli(['index', photos]);
  expect(indexed.status, indexed.stderr).toBe(0);
}, 300_000);
afterAll(() => tmp?.cleanup());

function embedded(): number {
  const db = new Database(join(tmp.dir, 'data', 'tandem.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT count(*) FROM embeddings').pluck().get() as number;
  } finally {
    db.close();
  }
}

/**
 * Starts `tandem embed` and SIGKILLs it once it has stored `more` new embeddings (so the kill lands mid-run, with
 * batches in flight), or after `ms` at the latest. Returns how many embeddings there were when it died.
 */
function runAndKill(more: number, ms: number): Promise<number> {
  const before = embedded();
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'embed', '--batch-size', '2', '--threads', '1'], { env, stdio: 'ignore' });
    const poll = setInterval(() => {
      if (embedded() >= before + more) child.kill('SIGKILL');
    }, 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', () => {
      clearInterval(poll);
      clearTimeout(timer);
      done(embedded());
    });
  });
}

describe('killing `tandem embed` mid-run', () => {
  it('loses nothing and embeds nothing twice across SIGKILLs mid-run', async () => {
    const seen: number[] = [];
    for (const more of [2, 2, 2]) seen.push(await runAndKill(more, 60_000));
    // The kills landed mid-run: some photos were embedded, not all (a run may finish between two polls on a fast machine).
    expect(seen.some((n) => n > 0 && n < N), `embeddings after each kill: ${seen.join(', ')}`).toBe(true);
    const final = cli(['embed', '--json']);
    expect(final.status, `${final.stderr}\n(embeddings after each kill: ${seen.join(', ')})`).toBe(0);
    expect(JSON.parse(final.stdout)).toMatchObject({ state: 'done', failed: 0, status: { photos: N, embedded: N } });

    const db = new Database(join(tmp.dir, 'data', 'tandem.db'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const perPhoto = db
        .prepare("SELECT p.rel_path, (SELECT count(*) FROM embeddings e WHERE e.hash = p.hash AND e.model = 'blip-itm-base-coco') AS n FROM photos p")
        .all() as { rel_path: string; n: number }[];
      expect(perPhoto.filter((r) => r.n !== 1), `embeddings after each kill: ${seen.join(', ')}`).toEqual([]);
      const states = db.prepare('SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state').all();
      expect(states).toEqual([{ kind: 'embed', state: 'done', n: N }]);
    } finally {
      db.close();
    }
  });

  it('searches by meaning from the CLI, and finds similar photos', () => {
    const search = cli(['search', 'red', '--json']);
    expect(search.status, search.stderr).toBe(0);
    const result = JSON.parse(search.stdout) as { items: { relPath: string; matchedBy: string }[] };
    // Every third photo is red; none has a caption or a colour in its name.
    expect(result.items.map((h) => h.relPath).sort()).toEqual(Array.from({ length: N / 3 }, (_, i) => `p${i * 3}.jpg`).sort());
    expect(result.items.every((h) => h.matchedBy === 'meaning')).toBe(true);
    const words = cli(['search', 'red', '--words-only']);
    expect(words.stdout).toMatch(/No photos match “red”/);
    const human = cli(['search', 'red', '--limit', '3']);
    expect(human.stdout).toMatch(/p\d+\.jpg {2}\(matches by meaning, \d\.\d\d\)/);

    expect(cli(['status']).stdout).toMatch(/^Search by meaning: 30 of 30 photos read with blip-itm-base-coco\.$/m);

    const similar = cli(['similar', join(photos, 'p1.jpg'), '--json', '--limit', '9']);
    expect(similar.status, similar.stderr).toBe(0);
    const like = (JSON.parse(similar.stdout) as { items: { relPath: string }[] }).items.map((h) => h.relPath);
    // The other green photos (p4, p7, …) are the most alike.
    expect(like.sort()).toEqual(Array.from({ length: N / 3 - 1 }, (_, i) => `p${(i + 1) * 3 + 1}.jpg`).sort());
  });
});
