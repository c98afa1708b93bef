/**
 * `tandem models` with LLaVA packs: install from the local hub compiles in an inference process and shows
 * the compile on the progress line; `list` says which packs are compiled and which dropped their sources;
 * `import --precision` compiles a hand-copied llava-hf folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelsCommand, progressText } from '../../src/main/cli/commands/models';
import { runCli } from '../../src/main/cli/main';
import { ensureTinyLlavaHf } from '../../test-models/tiny-llava-hf';
import { folderAsRepo, startHubServer, type HubServer } from '../support/hub-server';

class Capture extends Writable {
  text = '';
  columns = 200;
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
let tinyDir: string;

async function tandem(args: string[], options: { tty?: boolean; freeBytes?: number } = {}) {
  const stdout = new Capture(false);
  const stderr = new Capture(options.tty ?? false);
  const free = options.freeBytes ?? 1e12;
  const command = createModelsCommand({ env: { HF_ENDPOINT: hub.endpoint }, hub: { retryDelayMs: 5, timeoutMs: 5_000 }, freeBytes: async () => free });
  const code = await runCli({ argv: ['models', ...args, '--data-dir', dataDir], stdout, stderr, commands: [command] });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  hub = await startHubServer();
  tinyDir = await ensureTinyLlavaHf('llava-1.5');
  hub.addRepo('llava-hf/llava-1.5-7b-hf', await folderAsRepo(tinyDir));
  tmp = mkdtempSync(join(tmpdir(), 'tandem-llava-cli-'));
  dataDir = join(tmp, 'data');
}, 60_000);
afterAll(async () => {
  await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('tandem models with LLaVA packs', () => {
  it('renders the compile on the progress line with its stage and ETA', () => {
    const text = progressText(
      {
        pack: 'llava-1.5-7b', phase: 'compiling', file: '', fileIndex: 8, fileCount: 8, fileBytes: 0, fileTotal: null, packBytes: 14e9, packTotal: 14e9,
        bytesPerSecond: 0, etaSeconds: 125, compile: { stage: 'decoder', label: 'decoder layer 3/32', done: 27, total: 60 },
      },
      'https://huggingface.co',
    );
    expect(text).toBe('llava-1.5-7b compiling [###########-------------]  45%  decoder layer 3/32  ETA 2:05');
  });

  it('refuses an install that would not fit, naming the numbers', async () => {
    const r = await tandem(['install', 'llava-1.5-7b'], { freeBytes: 2e9 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Not enough disk space for 'llava-1\.5-7b'.*about 4\.0 GB for the compiled model.*2\.0 GB free/);
  });

  it('installs, compiles with a live progress line, and lists the pack as compiled', async () => {
    const r = await tandem(['install', 'llava-1.5-7b'], { tty: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/llava-1\.5-7b compiling \[[#-]+\]\s+\d+%\s+(vision|decoder) layer \d\/\d/);
    expect(r.stderr).toContain('ETA');
    expect(r.stdout).toMatch(/^Installed llava-1\.5-7b \(llava\) from llava-hf\/llava-1\.5-7b-hf @ [0-9a-f]{40}: \d+ files, .*; compiled \(q4 decoder\) in .*model-cache/);

    const list = await tandem(['list']);
    expect(list.stdout).toMatch(/llava-1\.5-7b\s+llava\s+compiled q4\s/);
    expect(list.stdout).toMatch(/llava-1\.5-13b\s+llava\s+not installed\s+~26\.\d+ GB/);
  }, 120_000);

  it('deletes the sources of a compiled pack and still lists it as usable', async () => {
    const r = await tandem(['delete-sources', 'llava-1.5-7b']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Deleted the weights of llava-1\.5-7b: .* freed\. It runs from its compiled folder\./);
    const list = await tandem(['list', '--json']);
    const entry = (JSON.parse(list.stdout) as Array<{ name: string; status: string; sourcesDeleted: boolean }>).find((e) => e.name === 'llava-1.5-7b');
    expect(entry).toMatchObject({ status: 'installed', sourcesDeleted: true });
    expect((await tandem(['list'])).stdout).toMatch(/llava-1\.5-7b\s+llava\s+compiled q4, sources deleted/);
  }, 60_000);

  it('imports a llava-hf folder and compiles it at the precision asked for', async () => {
    const r = await tandem(['import', tinyDir, '--name', 'x', '--precision', 'fp32']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Imported x \(llava\): \d+ files, .*; compiled \(fp32 decoder\) in /);
    // Off a terminal: one line per compile stage, not one per layer.
    expect(r.stderr).toMatch(/x compiling .* decoder layer 0\/2/);
    expect(r.stderr).not.toMatch(/decoder layer 1\/2/);
  }, 60_000);

  it('rejects a precision the compiler does not have', async () => {
    const r = await tandem(['import', tinyDir, '--name', 'y', '--precision', 'fp16']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--precision must be one of fp32, int8, q4');
  });
});
