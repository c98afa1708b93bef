/**
 * `tandem models` with LLaVA packs: install from the local hub compiles in an inference process and shows
 * the compile on the progress line; `list` says which packs are compiled and which dropped their sources;
 * `import --precision` compiles a hand-copied llava-hf folder; `--vision-precision` / `--embedding-precision` int8
 * compile those graphs at int8, and the pack still answers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
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

  it('imports with an int8 vision tower and embeddings, lists them, and answers with the pack', async () => {
    const r = await tandem(['import', tinyDir, '--name', 'fast', '--vision-precision', 'int8', '--embedding-precision', 'int8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const model = JSON.parse(r.stdout) as { compiled: { dir: string; precision: string; dtypes: Record<string, string> } };
    expect(model.compiled).toMatchObject({ precision: 'q4', dtypes: { vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'q4' } });
    for (const f of ['onnx/vision_encoder_int8.onnx', 'onnx/embed_tokens_int8.onnx', 'onnx/decoder_model_merged_q4.onnx']) expect(existsSync(join(model.compiled.dir, f)), f).toBe(true);
    expect(existsSync(join(model.compiled.dir, 'onnx/vision_encoder.onnx'))).toBe(false);

    // The same sources and options again: the cache entry is reused, and the note names the precisions.
    const again = await tandem(['import', tinyDir, '--name', 'fast', '--vision-precision', 'int8', '--embedding-precision', 'int8']);
    expect(again.stdout).toMatch(/compiled \(q4 decoder, int8 vision, int8 embeddings\) in /);
    expect((await tandem(['list'])).stdout).toMatch(/fast\s+llava\s+compiled q4, vision int8, embeddings int8\s/);
    expect((await tandem(['list'])).stdout).toMatch(/llava-1\.5-7b\s+llava\s+compiled q4, sources deleted/);
    const entry = (JSON.parse((await tandem(['list', '--json'])).stdout) as Array<{ name: string; compiled: unknown }>).find((e) => e.name === 'fast');
    expect(entry?.compiled).toMatchObject({ precision: 'q4', visionPrecision: 'int8', embeddingPrecision: 'int8' });

    const photo = join(tmp, 'photo.png');
    await sharp({ create: { width: 48, height: 36, channels: 3, background: { r: 200, g: 120, b: 40 } } }).png().toFile(photo);
    const bin = resolve(import.meta.dirname, '../../bin/tandem.js');
    const ask = spawnSync(
      process.execPath,
      [bin, 'ask', photo, 'What is in this photo?', '--route', 'llava', '--llava-model', 'fast', '--greedy', '--max-new-tokens', '4', '--no-grounding', '--threads', '1', '--json', '--data-dir', dataDir],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(ask.status, ask.stderr).toBe(0);
    const out = JSON.parse(ask.stdout) as { route: string; greedy: boolean; tokenIds: number[]; answer: string };
    expect(out).toMatchObject({ route: 'llava', greedy: true });
    expect(out.tokenIds.length).toBeGreaterThan(0);
    expect(out.tokenIds.length).toBeLessThanOrEqual(4);
    expect(typeof out.answer).toBe('string');
  }, 180_000);

  it('imports with 4-bit blocks of 32 and lists them; refuses a block size MatMulNBits does not take', async () => {
    const r = await tandem(['import', tinyDir, '--name', 'fine', '--q4-block-size', '32', '--vision-precision', 'int8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const model = JSON.parse(r.stdout) as { compiled: { dir: string; q4BlockSize: number } };
    expect(model.compiled.q4BlockSize).toBe(32);
    const manifest = JSON.parse(readFileSync(join(model.compiled.dir, 'tandem-llava-manifest.json'), 'utf8')) as { options: { q4BlockSize: number } };
    expect(manifest.options.q4BlockSize).toBe(32);
    expect((await tandem(['list'])).stdout).toMatch(/fine\s+llava\s+compiled q4, vision int8, 4-bit blocks of 32\s/);

    const bad = await tandem(['import', tinyDir, '--name', 'fine2', '--q4-block-size', '100']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--q4-block-size must be one of 16, 32, 64, 128, 256 (got "100")');
  }, 180_000);

  it('rejects a vision or embedding precision it does not offer', async () => {
    const v = await tandem(['import', tinyDir, '--name', 'z', '--vision-precision', 'q4']);
    expect(v.code).not.toBe(0);
    expect(v.stderr).toContain('--vision-precision must be one of fp32, int8 (got "q4")');
    const e = await tandem(['install', 'llava-1.5-7b', '--embedding-precision', 'fp16']);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toContain('--embedding-precision must be one of fp32, int8 (got "fp16")');
  });

  it('rejects a precision the compiler does not have', async () => {
    const r = await tandem(['import', tinyDir, '--name', 'y', '--precision', 'fp16']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--precision must be one of fp32, int8, q4');
  });
});
