/**
 * LLaVA packs end to end at the store level: a tiny llava-hf repo (sharded) on the local hub is downloaded by
 * the real `llava-1.5-7b` pack definition (shards read from the index), compiled with progress, registered
 * as compiled; a cancel mid-compile leaves nothing half-built; the disk check counts the compiled model;
 * deleting the sources keeps the pack usable; a hand-copied llava-hf folder is imported and compiled.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TandemError } from '../../src/main/core/errors';
import { forkWorker } from '../../src/main/core/inference/worker-handle';
import { KNOWN_PACKS } from '../../src/main/core/models/known-packs';
import { approxPackBytes } from '../../src/main/core/models/model-pack';
import { workerCompileRunner } from '../../src/main/core/models/llava-compile-runner';
import { ModelStore, type ModelStoreDeps } from '../../src/main/core/models/model-store';
import type { DownloadProgress } from '../../src/main/core/models/transfer-progress';
import { ensureTinyLlavaHf, TINY_LLAVA_15_SHAPE, TINY_LLAVA_INTERLEAVE_SHAPE, writeTinyLlavaHf } from '../../test-models/tiny-llava-hf';
import { folderAsRepo, startHubServer, type HubServer } from '../support/hub-server';
import { rejection } from '../support/rejection';

const MODELS_DDL = `CREATE TABLE models (name TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, repo TEXT, revision TEXT, dir TEXT NOT NULL, files_json TEXT NOT NULL, bytes INTEGER NOT NULL, installed_at TEXT NOT NULL, compiled_json TEXT)`;
const REPO_7B = 'llava-hf/llava-1.5-7b-hf';
const REPO_05B = 'llava-hf/llava-interleave-qwen-0.5b-hf';

let hub: HubServer;
let tinyDir: string;
let tmp: string;
let db: Database.Database;

function makeStore(overrides: Partial<ModelStoreDeps> = {}): ModelStore {
  return new ModelStore({
    db,
    modelsDir: join(tmp, 'models'),
    modelCacheDir: join(tmp, 'model-cache'),
    hub: { endpoint: hub.endpoint, retryDelayMs: 5, timeoutMs: 5_000 },
    freeBytes: async () => 1e12,
    ...overrides,
  });
}

function cacheEntries(): string[] {
  const dir = join(tmp, 'model-cache', 'llava');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n !== 'source-hashes.json') : [];
}

beforeAll(async () => {
  hub = await startHubServer();
  tinyDir = await ensureTinyLlavaHf('llava-1.5');
  hub.addRepo(REPO_7B, await folderAsRepo(tinyDir));
  // The 0.5B repo has one model.safetensors and no index.
  const single = mkdtempSync(join(tmpdir(), 'tandem-llava-single-'));
  await writeTinyLlavaHf(single, TINY_LLAVA_INTERLEAVE_SHAPE, { shards: 1 });
  hub.addRepo(REPO_05B, await folderAsRepo(single));
  rmSync(single, { recursive: true, force: true });
}, 60_000);
afterAll(async () => {
  await hub.close();
});
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tandem-llava-pack-'));
  db = new Database(':memory:');
  db.exec(MODELS_DDL);
  hub.requests.length = 0;
});
afterEach(() => {
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('LLaVA pack definitions', () => {
  it('fetch the official safetensors (an index and its shards, or one file) and say they must be compiled', () => {
    for (const name of ['llava-interleave-qwen-0.5b', 'llava-1.5-7b', 'llava-1.5-13b']) {
      const pack = KNOWN_PACKS.find((p) => p.name === name)!;
      expect(pack.compile?.defaultPrecision).toBe('q4');
      const weights = pack.files.find((f) => f.expandsIndex)!;
      expect(weights.candidates.map((c) => c.path)).toEqual(['model.safetensors.index.json', 'model.safetensors']);
      expect(pack.files.some((f) => f.candidates.some((c) => c.path.startsWith('onnx/')))).toBe(false);
    }
    const gb = (name: string) => approxPackBytes(KNOWN_PACKS.find((p) => p.name === name)!) / 1e9;
    expect(gb('llava-1.5-7b')).toBeCloseTo(14, 0);
    expect(gb('llava-1.5-13b')).toBeCloseTo(26, 0);
    expect(gb('llava-interleave-qwen-0.5b')).toBeCloseTo(1.8, 0);
  });
});

describe('installing a LLaVA pack', () => {
  it('downloads the shards the index names, compiles them in an inference process with progress, and runs from the compiled folder', async () => {
    const events: DownloadProgress[] = [];
    const store = makeStore({ compileRunner: workerCompileRunner(() => forkWorker()) });
    const { model, changed } = await store.install('llava-1.5-7b', { onProgress: (p) => events.push(p) });
    expect(changed).toBe(true);

    // The shard list came from the index (the tiny repo has 2 shards where the real 7B has 3).
    const paths = model.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'tokenizer.json', 'chat_template.json']));
    expect(hub.downloadsOf('model-00002-of-00002.safetensors')).toHaveLength(1);

    const compiling = events.filter((e) => e.phase === 'compiling');
    expect(compiling.map((e) => e.compile?.label)).toEqual(expect.arrayContaining(['hashing source files', 'decoder layer 2/2']));
    const last = compiling[compiling.length - 1]!;
    expect(last.compile!.done).toBe(last.compile!.total);
    expect(compiling.some((e) => e.etaSeconds !== null)).toBe(true);

    expect(model.compiled).toMatchObject({ precision: 'q4', dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' } });
    const compiledDir = model.compiled!.dir;
    expect(compiledDir.startsWith(join(tmp, 'model-cache', 'llava'))).toBe(true);
    expect(existsSync(join(compiledDir, 'onnx', 'decoder_model_merged_q4.onnx'))).toBe(true);
    // The chat runtime is handed the compiled folder, never the sources.
    expect(store.resolve('llava-1.5-7b')).toBe(compiledDir);
    expect(store.llavaRuntime('llava-1.5-7b')).toEqual({ dir: compiledDir, dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' } });
    const entry = (await store.list()).find((e) => e.name === 'llava-1.5-7b')!;
    expect(entry).toMatchObject({ status: 'installed', compilable: true, compiled: { precision: 'q4' }, sourcesDeleted: false });
    expect(entry.compiled!.bytes).toBeGreaterThan(0);
    // No build folder of the compile process is left behind.
    expect(cacheEntries().filter((n) => n.startsWith('.tmp'))).toEqual([]);

    // The compile was keyed with the hashes the download verified (not by reading the shards again).
    const memo = JSON.parse(readFileSync(join(tmp, 'model-cache', 'llava', 'source-hashes.json'), 'utf8')) as Record<string, { sha256: string }>;
    const shard = model.files.find((f) => f.path === 'model-00001-of-00002.safetensors')!;
    expect(memo[join(model.dir, shard.path)]?.sha256).toBe(shard.sha256);

    // Installed and compiled: a second install does nothing.
    expect((await store.install('llava-1.5-7b')).changed).toBe(false);
  }, 120_000);

  it('downloads model.safetensors for the 0.5B default and compiles it with the same compiler, its vision tower at int8', async () => {
    const store = makeStore();
    expect((await store.list()).find((e) => e.name === 'llava-interleave-qwen-0.5b')).toMatchObject({ status: 'not-installed', defaultVisionPrecision: 'int8' });
    const { model } = await store.install('llava-interleave-qwen-0.5b');
    expect(model.files.map((f) => f.path)).toContain('model.safetensors');
    expect(model.files.some((f) => f.path.startsWith('onnx/'))).toBe(false);
    // The pack's own default (known-packs.ts): its SigLIP tower is most of a first answer's wait and memory.
    expect(model.compiled).toMatchObject({ precision: 'q4', dtypes: { vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'q4' } });
    expect(existsSync(join(model.compiled!.dir, 'onnx', 'vision_encoder_int8.onnx'))).toBe(true);
    // Asked for, the exact tower: a recompile that keeps the decoder.
    const { model: exact, changed } = await store.install('llava-interleave-qwen-0.5b', { visionPrecision: 'fp32', embeddingPrecision: 'fp32' });
    expect(changed).toBe(true);
    expect(exact.compiled).toMatchObject({ precision: 'q4', dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' } });
    expect(existsSync(join(exact.compiled!.dir, 'onnx', 'vision_encoder.onnx'))).toBe(true);
  }, 60_000);

  it('stops a compile between tensors, leaves no partial folder, and the next install only compiles', async () => {
    const controller = new AbortController();
    const store = makeStore();
    const err = await rejection(
      store.install('llava-1.5-7b', {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.compile?.stage === 'decoder') controller.abort(new TandemError('cancelled', 'Download cancelled.'));
        },
      }),
    );
    expect(err.code).toBe('cancelled');
    expect(cacheEntries()).toEqual([]);
    const entry = (await store.list()).find((e) => e.name === 'llava-1.5-7b')!;
    expect(entry.status).toBe('broken');
    expect(entry.problem).toMatch(/not compiled yet/);
    expect(() => store.resolve('llava-1.5-7b')).toThrow(/not compiled yet/);

    const before = hub.requests.length;
    const again = await store.install('llava-1.5-7b');
    expect(again.changed).toBe(true);
    expect(again.model.compiled).not.toBeNull();
    // The verified download was kept: no file was fetched again.
    expect(hub.requests.slice(before).filter((r) => r.method === 'GET')).toEqual([]);
  }, 60_000);

  it('refuses before downloading when the sources and the compiled model do not fit', async () => {
    const store = makeStore({ freeBytes: async () => 3e9 });
    const err = await rejection(store.install('llava-1.5-7b'));
    expect(err.code).toBe('disk_full');
    expect(err.message).toMatch(/Not enough disk space for 'llava-1\.5-7b': it needs [\d.]+ MB to download \+ about 4\.0 GB for the compiled model \+ 67 MB margin = 4\.1 GB more/);
    expect(err.message).toContain('3.0 GB free');
    expect(hub.downloadsOf('model-00001-of-00002.safetensors')).toHaveLength(0);
  });

  it('deletes the sources after the compile when asked, and the pack stays usable', async () => {
    const store = makeStore();
    const { model } = await store.install('llava-1.5-7b', { deleteSources: true });
    expect(model.compiled?.sourcesDeleted).toBe(true);
    expect(model.files.some((f) => f.path.endsWith('.safetensors'))).toBe(false);
    expect(readdirSync(model.dir).some((n) => n.endsWith('.safetensors'))).toBe(false);
    expect(existsSync(join(model.dir, 'config.json'))).toBe(true);
    const entry = (await store.list()).find((e) => e.name === 'llava-1.5-7b')!;
    expect(entry).toMatchObject({ status: 'installed', sourcesDeleted: true });
    expect(existsSync(join(store.resolve('llava-1.5-7b'), 'onnx', 'decoder_model_merged_q4.onnx'))).toBe(true);
    expect((await store.install('llava-1.5-7b')).changed).toBe(false);
  }, 60_000);

  it('deletes the sources of an installed pack on request', async () => {
    const store = makeStore();
    await store.install('llava-1.5-7b');
    const { freedBytes } = await store.deleteSources('llava-1.5-7b');
    expect(freedBytes).toBeGreaterThan(1000);
    expect((await store.list()).find((e) => e.name === 'llava-1.5-7b')).toMatchObject({ status: 'installed', sourcesDeleted: true });
  }, 60_000);
});

describe('the compile in an inference process', () => {
  it('stops on cancel mid-compile, removes its build folder, and ends the process', async () => {
    // Big enough that the decoder takes a while after its first layer (tens of ms per layer).
    const src = join(tmp, 'slow-src');
    await writeTinyLlavaHf(src, { ...TINY_LLAVA_15_SHAPE, text: { ...TINY_LLAVA_15_SHAPE.text, hidden: 384, intermediate: 1024, layers: 12 } });
    const cacheDir = join(tmp, 'model-cache', 'llava');
    let pid: number | undefined;
    const runner = workerCompileRunner(() => {
      const w = forkWorker();
      pid = w.pid;
      return w;
    });
    const controller = new AbortController();
    const labels: string[] = [];
    const err = await rejection(
      runner({
        modelDir: src,
        cacheDir,
        options: {},
        signal: controller.signal,
        onProgress: (p) => {
          labels.push(p.label);
          if (p.label === 'decoder layer 1/12') controller.abort(new TandemError('cancelled', 'Cancelled.'));
        },
      }),
    );
    expect(err.code).toBe('cancelled');
    expect(labels).not.toContain('decoder layer 12/12');
    expect(cacheEntries()).toEqual([]);
    // The process was shut down with the compile.
    expect(pid).toBeDefined();
    await expect.poll(() => { try { process.kill(pid!, 0); return true; } catch { return false; } }, { timeout: 10_000 }).toBe(false);
  }, 60_000);
});

describe('shard lists from the hub', () => {
  it('refuses an index that names a shard outside the repo folder', async () => {
    const files = await folderAsRepo(tinyDir);
    const index = JSON.parse(files['model.safetensors.index.json']!.toString()) as { weight_map: Record<string, string> };
    const first = Object.keys(index.weight_map)[0]!;
    index.weight_map[first] = '../../escape.safetensors';
    hub.addRepo('llava-hf/llava-1.5-13b-hf', { ...files, 'model.safetensors.index.json': JSON.stringify(index) });
    const err = await rejection(makeStore().install('llava-1.5-13b'));
    expect(err.code).toBe('model_file');
    expect(err.message).toContain('"../../escape.safetensors", which is not a plain .safetensors file name');
    expect(existsSync(join(tmp, 'escape.safetensors'))).toBe(false);
  });
});

describe('importing a llava-hf folder', () => {
  it('compiles it at the precision asked for', async () => {
    const store = makeStore();
    const model = await store.import(tinyDir, { name: 'my-llava', precision: 'fp32' });
    expect(model.kind).toBe('llava');
    expect(model.compiled).toMatchObject({ precision: 'fp32', dtypes: { decoder_model_merged: 'fp32' } });
    expect(existsSync(join(store.resolve('my-llava'), 'onnx', 'decoder_model_merged.onnx'))).toBe(true);
    // The user's folder is left as it was.
    expect(existsSync(join(tinyDir, 'model-00001-of-00002.safetensors'))).toBe(true);
  }, 60_000);

  it('recompiles with an int8 vision tower and embeddings on request, keeping the decoder precision', async () => {
    const store = makeStore();
    const { model } = await store.install('llava-interleave-qwen-0.5b', { precision: 'int8', visionPrecision: 'fp32', embeddingPrecision: 'fp32' });
    expect(model.compiled).toMatchObject({ precision: 'int8', dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'int8' } });
    const before = model.compiled!.dir;
    // Same vision precision as compiled: nothing to do.
    expect((await store.install('llava-interleave-qwen-0.5b', { visionPrecision: 'fp32' })).changed).toBe(false);
    const { model: fast, changed } = await store.install('llava-interleave-qwen-0.5b', { visionPrecision: 'int8', embeddingPrecision: 'int8' });
    expect(changed).toBe(true);
    expect(fast.compiled).toMatchObject({ precision: 'int8', dtypes: { vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'int8' } });
    // Other options, another cache entry; the old one is removed once unused.
    expect(fast.compiled!.dir).not.toBe(before);
    expect(existsSync(before)).toBe(false);
    expect(cacheEntries()).toHaveLength(1);
    expect(existsSync(join(fast.compiled!.dir, 'onnx', 'vision_encoder_int8.onnx'))).toBe(true);
    expect(existsSync(join(fast.compiled!.dir, 'onnx', 'embed_tokens_int8.onnx'))).toBe(true);
    expect(store.llavaRuntime('llava-interleave-qwen-0.5b').dtypes).toEqual({ vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'int8' });
    const entry = (await store.list()).find((e) => e.name === 'llava-interleave-qwen-0.5b');
    expect(entry?.compiled).toMatchObject({ precision: 'int8', visionPrecision: 'int8', embeddingPrecision: 'int8' });
  }, 60_000);

  it('keeps the 4-bit block size a pack was compiled with when a recompile changes the vision tower', async () => {
    const store = makeStore();
    const { model } = await store.install('llava-interleave-qwen-0.5b', { q4BlockSize: 32 });
    expect(model.compiled).toMatchObject({ precision: 'q4', q4BlockSize: 32, dtypes: { vision_encoder: 'int8' } });
    expect((await store.install('llava-interleave-qwen-0.5b', { q4BlockSize: 32 })).changed).toBe(false);
    const { model: exact } = await store.install('llava-interleave-qwen-0.5b', { visionPrecision: 'fp32' });
    expect(exact.compiled).toMatchObject({ precision: 'q4', q4BlockSize: 32, dtypes: { vision_encoder: 'fp32' } });
    const { model: coarse, changed } = await store.install('llava-interleave-qwen-0.5b', { q4BlockSize: 128 });
    expect(changed).toBe(true);
    expect(coarse.compiled).toMatchObject({ precision: 'q4', q4BlockSize: 128, dtypes: { vision_encoder: 'fp32' } });
    expect((await store.list()).find((e) => e.name === 'llava-interleave-qwen-0.5b')?.compiled).toMatchObject({ q4BlockSize: 128 });
  }, 90_000);

  it('refuses to import when the compiled graphs would not fit', async () => {
    const store = makeStore({ freeBytes: async () => 10_000 });
    const err = await rejection(store.import(tinyDir, { name: 'too-big', precision: 'fp32' }));
    expect(err.code).toBe('disk_full');
    expect(err.message).toMatch(/Not enough disk space to compile 'too-big': the fp32 graphs need about [\d.]+ GB \(with margin\) and .* has 0\.0 GB free/);
    expect((await store.list()).some((e) => e.name === 'too-big')).toBe(false);
  });

  it('keeps a compiled folder another pack still runs from', async () => {
    const store = makeStore();
    const a = await store.import(tinyDir, { name: 'llava-a', precision: 'fp32' });
    const b = await store.import(tinyDir, { name: 'llava-b', precision: 'fp32' });
    expect(b.compiled!.dir).toBe(a.compiled!.dir);
    await store.remove('llava-a');
    expect(existsSync(store.resolve('llava-b'))).toBe(true);
  }, 60_000);
});
