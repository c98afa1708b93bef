/** Caption precision is a user's choice: `--precision int8` captions with the quantized model and records it. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { tempDir } from '../support/temp-dirs';
import { solidPng } from './blip-helpers';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let photos: string;
let colour: string;

function tandem(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'data');
  photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  writeFileSync(join(photos, 'red.png'), await solidPng([255, 0, 0]));
  writeFileSync(join(photos, 'green.png'), await solidPng([0, 255, 0]));
  writeFileSync(join(photos, 'blue.png'), await solidPng([0, 0, 255]));
  colour = await ensureTestModel('colour');
}, 240_000);
afterAll(() => tmp?.cleanup());

type Shown = { id: number; caption: string; captions: { source: string; text: string; settings: string | null }[] };
function show(name: string): Shown {
  const r = tandem(['show', join(photos, name), '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Shown;
}

describe('caption --precision', () => {
  it('refuses a bad value with a clear error, before doing any work', () => {
    for (const args of [
      ['caption', '--all', '--precision', 'fp16'],
      ['index', photos, '--caption', '--precision', 'INT4'],
    ]) {
      const r = tandem(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/--precision must be one of fp32, int8/);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
    // The index above was refused before it scanned anything.
    expect(tandem(['status', '--json']).stdout).not.toContain(photos);
  });

  it('index --caption --precision int8 names the colours and records int8', () => {
    const r = tandem(['index', photos, '--caption', '--precision', 'int8', '--model', 'colour', '--model-dir', colour, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Captioning with colour · int8');
    for (const c of ['red', 'green', 'blue']) {
      const d = show(`${c}.png`);
      expect(d.caption).toBe(`a photo of ${c}`);
      expect(d.captions[0]!.source).toBe('model:colour');
      expect(JSON.parse(d.captions[0]!.settings!)).toMatchObject({ numBeams: 1, precision: 'int8' });
    }
    // The inference process really loaded the int8 graphs (their own compile-cache entry).
    const cached = readdirSync(dataDir, { recursive: true, encoding: 'utf8' }).map((p) => p.split(/[\\/]/).pop()!);
    expect(cached.some((n) => n.startsWith('blip-int8-'))).toBe(true);
    // `tandem show` says which precision made the caption.
    expect(tandem(['show', join(photos, 'red.png')]).stdout).toMatch(/model:colour · int8\s+a photo of red/);
  }, 240_000);

  it('switching precision does not recaption the library unless --regenerate', () => {
    const again = tandem(['caption', '--all', '--precision', 'fp32', '--model', 'colour', '--model-dir', colour, '--threads', '1', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ done: 0, failed: 0 });
    expect(show('red.png').captions).toHaveLength(1);

    const redo = tandem(['caption', '--all', '--regenerate', '--model', 'colour', '--model-dir', colour, '--threads', '1', '--json']);
    expect(redo.code, redo.stderr).toBe(0);
    expect(JSON.parse(redo.stdout)).toMatchObject({ done: 3, failed: 0 });
    const red = show('red.png');
    expect(red.caption).toBe('a photo of red');
    // No --precision: the default, fp32.
    expect(JSON.parse(red.captions[0]!.settings!)).toMatchObject({ precision: 'fp32' });
    expect(JSON.parse(red.captions[1]!.settings!)).toMatchObject({ precision: 'int8' });
  }, 240_000);

  it('captions named photos at int8 and says so in the JSON', () => {
    const r = tandem(['caption', join(photos, 'blue.png'), '--precision', 'int8', '--model', 'colour', '--model-dir', colour, '--threads', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ caption: 'a photo of blue', model: 'colour', precision: 'int8' });
    expect(JSON.parse(show('blue.png').captions[0]!.settings!)).toMatchObject({ precision: 'int8' });
  }, 240_000);
});
