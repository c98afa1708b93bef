/**
 * Issue 13: model loading in the inference process has a time limit, so a hostile file can never wedge it.
 * A load that is slow but yields is rejected with a ModelFileError naming the file; one stuck in synchronous code
 * (which no timer can interrupt) gets the process killed by the watchdog thread, with the reason on stderr.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { withLoadDeadline } from '../../src/main/core/inference/load-deadline';
import type { FromWorker } from '../../src/main/core/inference/protocol';
import { forkWorker } from '../../src/main/core/inference/worker-handle';
import { writeTinyBlipCaptioner } from '../../test-models/tiny-blip';

const DEADLINE_MODULE = fileURLToPath(new URL('../../src/main/core/inference/load-deadline.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-deadline-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('withLoadDeadline', () => {
  it('passes a load that finishes in time through', async () => {
    await expect(withLoadDeadline(async () => 42, { ms: 1000, file: '/m/model.safetensors', heartbeatMs: 20 })).resolves.toBe(42);
  });

  it('rejects a slow load with a ModelFileError naming the file, and hands its late result to onLate', async () => {
    const late: string[] = [];
    const t0 = performance.now();
    const err = await withLoadDeadline(() => sleep(400).then(() => 'model'), {
      ms: 50,
      file: '/models/slow/pytorch_model.bin',
      heartbeatMs: 20,
      onLate: (m) => late.push(m),
    }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(350);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe('/models/slow/pytorch_model.bin');
    expect((err as Error).message).toMatch(/Loading the model from \/models\/slow\/pytorch_model\.bin did not finish within/);
    await sleep(450);
    expect(late).toEqual(['model']);
  });

  it('a load stuck in synchronous code gets the process killed, with the file named on stderr', async () => {
    const script = join(dir, 'wedge.mts');
    await writeFile(
      script,
      `import { withLoadDeadline } from ${JSON.stringify(DEADLINE_MODULE)};\n` +
        `await withLoadDeadline(async () => { for (;;) {} }, { ms: 300, heartbeatMs: 50, file: '/models/evil/pytorch_model.bin' });\n`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t0 = performance.now();
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    clearTimeout(killer);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    expect(stderr).toContain('Loading the model from /models/evil/pytorch_model.bin did not finish');
  }, 30_000);
});

describe('the inference process', () => {
  it('answers a load that overruns TANDEM_MODEL_LOAD_TIMEOUT_MS with a model_file error naming the checkpoint', async () => {
    const modelDir = join(dir, 'tiny');
    await writeTinyBlipCaptioner(modelDir);
    const worker = forkWorker(undefined, { ...process.env, TANDEM_MODEL_LOAD_TIMEOUT_MS: '1' });
    try {
      const replies: FromWorker[] = [];
      const next = (type: FromWorker['type']): Promise<FromWorker> =>
        new Promise((resolve) => {
          const poll = setInterval(() => {
            const m = replies.find((r) => r.type === type);
            if (m) {
              clearInterval(poll);
              resolve(m);
            }
          }, 10);
        });
      worker.onMessage((m) => replies.push(m));
      await next('ready');
      worker.send({ type: 'load', id: 1, model: 'tiny', modelDir, cacheDir: join(dir, 'cache'), threads: 1 });
      const reply = await next('error');
      expect(reply).toMatchObject({ type: 'error', id: 1, code: 'model_file' });
      expect((reply as { message: string }).message).toContain(join(modelDir, 'model.safetensors'));
    } finally {
      worker.kill('SIGKILL');
    }
  }, 60_000);
});
