import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { FIXTURE_PHOTOS, tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let dataDir: string;

function tandem(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = tempDir();
  dataDir = join(tmp.dir, 'data');
});
afterAll(() => tmp?.cleanup());

describe('tandem CLI', () => {
  it('index prints progress and a summary with ok / unsupported / broken counts', () => {
    const r = tandem(['index', FIXTURE_PHOTOS, '--data-dir', dataDir]);
    expect(r.stderr).toMatch(/\d+\/22 .*photos\/s.*ETA/);
    expect(r.stdout).toMatch(/22 files: 17 ok, 0 unsupported, 5 broken \(22 new/);
    expect(r.stdout).toMatch(/broken: broken\/empty\.jpg: File is empty/);
    expect(r.code).toBe(0);
  });

  it('a second index finds everything unchanged', () => {
    const r = tandem(['index', FIXTURE_PHOTOS, '--data-dir', dataDir]);
    expect(r.stdout).toMatch(/22 unchanged/);
  });

  it('search, show and status work, in text and JSON, with TANDEM_HOME', () => {
    const s = tandem(['search', 'mor'], { TANDEM_HOME: dataDir });
    expect(s.stdout).toMatch(/coffee-gps-caption\.jpg.*Morning coffee in Paris/);
    const json = JSON.parse(tandem(['search', 'coffee', '--json', '--data-dir', dataDir]).stdout) as { items: { id: number }[] };
    const id = json.items[0]!.id;
    const show = tandem(['show', String(id), '--data-dir', dataDir]);
    expect(show.stdout).toMatch(/GPS:\s+48\.85840, 2\.29450/);
    expect(show.stdout).toMatch(/file\s+Morning coffee in Paris/);
    const byPath = JSON.parse(tandem(['show', join(FIXTURE_PHOTOS, 'exif/coffee-gps-caption.jpg'), '--json', '--data-dir', dataDir]).stdout) as { id: number };
    expect(byPath.id).toBe(id);
    // The same photo named through a symlink to the library folder.
    symlinkSync(FIXTURE_PHOTOS, join(tmp.dir, 'linked-photos'));
    const viaLink = JSON.parse(tandem(['show', join(tmp.dir, 'linked-photos', 'exif/coffee-gps-caption.jpg'), '--json', '--data-dir', dataDir]).stdout) as { id: number };
    expect(viaLink.id).toBe(id);
    const status = JSON.parse(tandem(['status', '--json', '--data-dir', dataDir]).stdout) as { photos: number; byStatus: Record<string, number> };
    expect(status.photos).toBe(22);
    expect(status.byStatus['broken']).toBe(5);
  });

  it('gives clear errors instead of stack traces', () => {
    const missing = tandem(['index', join(tmp.dir, 'nope'), '--data-dir', dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Folder not found/);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(tandem(['show', '999999', '--data-dir', dataDir]).stderr).toMatch(/Photo 999999 does not exist/);
    const bad = tandem(['search', '--bogus', '--data-dir', dataDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'/);
    expect(tandem(['frobnicate']).code).toBe(2);
  });
});

describe('tandem ask --model', () => {
  it('naming a BLIP VQA model sends the question to BLIP, even for a photo outside the library', async () => {
    const vqa = await ensureTestModel('colour-vqa');
    expect(tandem(['models', 'import', vqa, '--name', 'my-vqa', '--data-dir', dataDir]).code).toBe(0);
    const photo = join(tmp.dir, 'outside-red.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 210, g: 20, b: 20 } } }).png().toFile(photo);
    // A VQAv2-style fragment, and a wording that would otherwise go to LLaVA (which refuses photos outside the library).
    for (const question of ['color of the sky', 'tell me a story about this photo']) {
      const r = tandem(['ask', photo, question, '--model', 'my-vqa', '--threads', '1', '--data-dir', dataDir]);
      expect(r.stderr).not.toContain('not in the library');
      expect(r.stdout.trim()).toBe('red    (BLIP · my-vqa)');
      expect(r.code).toBe(0);
    }
  });

  it('says so when the named model cannot answer on the route asked for', () => {
    const photo = join(tmp.dir, 'outside-red.png');
    const caption = tandem(['ask', photo, 'color of the sky', '--model', 'blip-base', '--data-dir', dataDir]);
    expect(caption.code).toBe(1);
    expect(caption.stderr).toContain('blip-base is a BLIP captioning model and cannot answer questions');
    const forced = tandem(['ask', photo, 'color of the sky', '--model', 'my-vqa', '--route', 'llava', '--data-dir', dataDir]);
    expect(forced.code).toBe(1);
    expect(forced.stderr).toContain('Name the LLaVA model with --llava-model');
  });
});
