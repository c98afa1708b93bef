import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelsCommand, progressText } from '../../src/main/cli/commands/models';
import { runCli } from '../../src/main/cli/main';
import { fakeBlipRepo, refusedEndpoint, startHubServer, type HubServer } from '../support/hub-server';

class Capture extends Writable {
  text = '';
  columns = 160;
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

let hub: HubServer;
let tmp: string;
let dataDir: string;

async function tandem(args: string[], options: { tty?: boolean; env?: Record<string, string> } = {}) {
  const stdout = new Capture(false);
  const stderr = new Capture(options.tty ?? false);
  const command = createModelsCommand({ env: options.env ?? {}, hub: { retryDelayMs: 5, timeoutMs: 2_000 }, freeBytes: async () => 1e12 });
  const code = await runCli({ argv: ['models', ...args, '--data-dir', dataDir], stdout, stderr, commands: [command] });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  hub = await startHubServer();
  hub.addRepo('Salesforce/blip-image-captioning-base', fakeBlipRepo({ weightBytes: 300_000 }));
  hub.addRepo('Salesforce/blip-vqa-base', fakeBlipRepo({ weights: 'model.safetensors', vqa: true, weightBytes: 300_000 }));
  tmp = mkdtempSync(join(tmpdir(), 'tandem-models-cli-'));
  dataDir = join(tmp, 'data');
});
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tandem models', () => {
  it('renders a progress line with bytes, percent, rate and ETA', () => {
    const text = progressText(
      { pack: 'blip-base', phase: 'downloading', file: 'pytorch_model.bin', fileIndex: 6, fileCount: 7, fileBytes: 400e6, fileTotal: 990e6, packBytes: 401e6, packTotal: 991e6, bytesPerSecond: 12.5e6, etaSeconds: 47 },
      'https://huggingface.co',
    );
    expect(text).toBe('blip-base [##########--------------]  40%  401 MB / 991 MB  12.5 MB/s  ETA 0:47  [7/7] pytorch_model.bin');
  });

  it('lists the known packs, as a table and as JSON', async () => {
    const text = await tandem(['list']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^NAME\s+KIND\s+STATUS\s+SIZE\s+SOURCE/);
    expect(text.stdout).toMatch(/blip-base\s+blip-caption\s+not installed\s+~\d/);
    const json = JSON.parse((await tandem(['list', '--json'])).stdout) as Array<{ name: string; status: string }>;
    expect(json.map((e) => e.name)).toContain('llava-interleave-qwen-0.5b');
    expect(json.every((e) => e.status === 'not-installed')).toBe(true);
  });

  it('installs with --endpoint, drawing a live progress line on a terminal', async () => {
    const r = await tandem(['install', 'blip-base', '--endpoint', hub.endpoint], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Installed blip-base \(blip-caption\) from Salesforce\/blip-image-captioning-base @ [0-9a-f]{40}: 7 files/);
    // The live line is redrawn in place; how many frames appear depends on timing, the last one does not.
    expect(r.stderr).toContain('\r');
    expect(r.stderr).toMatch(/blip-base: [\d.]+ [kMG]?B downloaded and verified/);
    expect((await tandem(['install', 'blip-base', '--endpoint', hub.endpoint])).stdout).toMatch(/already installed/);
  });

  it('takes the endpoint from HF_ENDPOINT and prints plain lines off a terminal', async () => {
    const r = await tandem(['install', 'blip-vqa-base', '--json'], { env: { HF_ENDPOINT: hub.endpoint } });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { changed: boolean; model: { kind: string; files: Array<{ path: string }> } };
    expect(result.changed).toBe(true);
    expect(result.model.kind).toBe('blip-vqa');
    expect(result.model.files.map((f) => f.path)).toContain('model.safetensors');

    await tandem(['remove', 'blip-vqa-base']);
    const plain = await tandem(['install', 'blip-vqa-base'], { env: { HF_ENDPOINT: hub.endpoint } });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('\r');
    expect(plain.stderr).toMatch(/blip-vqa-base: config.json done\n/);
  });

  it('explains a refused connection and a missing import file, with exit code 1', async () => {
    const offline = await tandem(['install', 'blip-large', '--endpoint', await refusedEndpoint()]);
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/tandem models: Cannot reach http:\/\/127\.0\.0\.1:\d+ \(connection refused\): are you offline\?/);

    const src = join(tmp, 'hand-copy');
    mkdirSync(src, { recursive: true });
    for (const [path, content] of Object.entries(fakeBlipRepo())) if (path !== 'vocab.txt' && path !== 'tokenizer.json') writeFileSync(join(src, path), content);
    const bad = await tandem(['import', src, '--name', 'my-blip']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is missing tokenizer.json or vocab.txt');
  });

  it('imports a folder, lists it and removes it', async () => {
    const src = join(tmp, 'hand-copy-ok');
    mkdirSync(src, { recursive: true });
    for (const [path, content] of Object.entries(fakeBlipRepo())) writeFileSync(join(src, path), content);
    const imported = await tandem(['import', src, '--name', 'my-blip']);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^Imported my-blip \(blip-caption\): 7 files/);
    expect((await tandem(['list'])).stdout).toMatch(/my-blip\s+blip-caption\s+installed\s+\d.*import \(imported folder\)/);

    const removed = await tandem(['remove', 'my-blip']);
    expect(removed.stdout).toMatch(/^Removed my-blip: \d+ kB freed\./);
    expect((await tandem(['list'])).stdout).not.toContain('my-blip');
    const again = await tandem(['remove', 'my-blip']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Model 'my-blip' is not installed");
  });
});
