/**
 * The retrieval pack end to end through the CLI: `tandem models install blip-itm-base-coco` from the local test
 * hub (serving the hand-set colour retrieval model in the exact HF layout), `tandem models import` of a
 * BlipForImageTextRetrieval folder, and `tandem match` on files outside the library and on library photos.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchCommand, type MatchRow } from '../../src/main/cli/commands/match-command';
import { createModelsCommand } from '../../src/main/cli/commands/models';
import { runCli } from '../../src/main/cli/main';
import { openCore } from '../../src/main/core/core';
import { loadRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { folderAsRepo, startHubServer, type HubServer } from '../support/hub-server';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let hub: HubServer;
let tmp: string;
let dataDir: string;
let red: string;
let blue: string;

async function tandem(args: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const models = createModelsCommand({ env: {}, hub: { retryDelayMs: 5, timeoutMs: 5_000 }, freeBytes: async () => 1e12 });
  const code = await runCli({ argv: [...args, '--data-dir', dataDir], stdout, stderr, commands: [models, matchCommand] });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function solid(path: string, rgb: [number, number, number]): Promise<string> {
  await sharp({ create: { width: 60, height: 40, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(path);
  return path;
}

beforeAll(async () => {
  hub = await startHubServer();
  hub.addRepo('Salesforce/blip-itm-base-coco', await folderAsRepo(await ensureTestModel('colour-retrieval')));
  tmp = mkdtempSync(join(tmpdir(), 'tandem-retrieval-cli-'));
  dataDir = join(tmp, 'data');
  mkdirSync(join(tmp, 'outside'));
  red = await solid(join(tmp, 'outside', 'red.png'), [230, 20, 30]);
  blue = await solid(join(tmp, 'outside', 'blue.png'), [30, 40, 200]);
}, 120_000);

afterAll(async () => {
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('retrieval pack and tandem match', () => {
  it('installs blip-itm-base-coco from the hub as a retrieval pack', async () => {
    const r = await tandem(['models', 'install', 'blip-itm-base-coco', '--endpoint', hub.endpoint]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/model\.safetensors done/);
    expect(r.stdout).toMatch(/^Installed blip-itm-base-coco \(blip-retrieval\) from Salesforce\/blip-itm-base-coco @ [0-9a-f]{40}: 7 files/);
    const list = JSON.parse((await tandem(['models', 'list', '--json'])).stdout) as Array<{ name: string; kind: string; status: string }>;
    expect(list.find((e) => e.name === 'blip-itm-base-coco')).toMatchObject({ kind: 'blip-retrieval', status: 'installed' });
  });

  it('prints the ITC cosine and ITM probability per image, for files outside the library', async () => {
    const r = await tandem(['match', red, blue, '--text', 'a red wall', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as MatchRow[];
    expect(rows.map((x) => [x.path, x.text, x.photoId, x.model, x.error])).toEqual([
      [red, 'a red wall', null, 'blip-itm-base-coco', null],
      [blue, 'a red wall', null, 'blip-itm-base-coco', null],
    ]);
    expect(rows[0]!.cosine).toBeGreaterThan(0.95);
    expect(rows[0]!.probability).toBeGreaterThan(0.9);
    expect(rows[1]!.cosine).toBeLessThan(0.2);
    expect(rows[1]!.probability).toBeLessThan(0.05);
    const human = await tandem(['match', blue, '--text', 'blue']);
    expect(human.stdout).toMatch(/blue\.png: cosine 0\.9\d{3} {2}match 0\.9\d{3}\n$/);
  });

  it('scores several texts, and a broken file fails alone', async () => {
    const broken = join(tmp, 'outside', 'broken.jpg');
    writeFileSync(broken, 'not a photo');
    const r = await tandem(['match', broken, red, '--text', 'red', '--text', 'blue', '--json']);
    expect(r.code).toBe(1);
    const rows = JSON.parse(r.stdout) as MatchRow[];
    expect(rows.map((x) => [x.path, x.text])).toEqual([
      [broken, 'red'],
      [broken, 'blue'],
      [red, 'red'],
      [red, 'blue'],
    ]);
    expect(rows[0]!.error).toBeTruthy();
    expect(rows[0]!.cosine).toBeNull();
    expect(rows[2]!.probability).toBeGreaterThan(0.9);
    expect(rows[3]!.probability).toBeLessThan(0.05);
  });

  it('imports a BlipForImageTextRetrieval folder and matches with it, as the engine does in-process', async () => {
    const tiny = await ensureTestModel('tiny-retrieval', { format: 'bin' });
    const imported = await tandem(['models', 'import', tiny, '--name', 'my-itm']);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^Imported my-itm \(blip-retrieval\)/);
    const r = await tandem(['match', red, '--text', 'a dog', '--model', 'my-itm', '--json']);
    expect(r.code).toBe(0);
    const [row] = JSON.parse(r.stdout) as MatchRow[];
    const engine = await loadRetrievalEngine({ modelDir: tiny, cacheDir: join(tmp, 'direct-cache'), model: 'x', threads: 2 });
    try {
      const [img] = await engine.embedImages([red]);
      const [txt] = await engine.embedTexts(['a dog']);
      expect(row!.cosine).toBeCloseTo(img!.reduce((s, v, i) => s + v * txt![i]!, 0), 5);
      expect(row!.probability).toBeCloseTo((await engine.matchProbabilities(red, ['a dog']))[0]!, 5);
    } finally {
      await engine.dispose();
    }
  });

  it('names library photos by id and path', async () => {
    const library = join(tmp, 'library');
    mkdirSync(library);
    await solid(join(library, 'green.png'), [20, 160, 40]);
    const core = openCore({ dataDir });
    try {
      await core.library.addRoot(library);
      await core.library.scan();
    } finally {
      await core.close();
    }
    const r = await tandem(['match', '1', join(library, 'green.png'), '--text', 'green', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as MatchRow[];
    expect(rows.map((x) => [x.photoId, x.path])).toEqual([
      [1, join(library, 'green.png')],
      [1, join(library, 'green.png')],
    ]);
    expect(rows[0]!.probability).toBeGreaterThan(0.9);
  });

  it('explains what is missing', async () => {
    expect((await tandem(['match', red])).stderr).toMatch(/--text/);
    expect((await tandem(['match', '--text', 'red'])).stderr).toMatch(/at least one image/);
    const captioner = await tandem(['match', red, '--text', 'red', '--model-dir', await ensureTestModel('tiny-captioner')]);
    expect(captioner.code).toBe(1);
    expect(captioner.stderr).toMatch(/BlipForImageTextRetrieval/);
  });
});
