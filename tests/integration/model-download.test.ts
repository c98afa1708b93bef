import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { HubDownloader } from '../../src/main/core/models/hub-downloader';
import { llavaInterleaveFiles } from '../../src/main/core/models/known-packs';
import { ModelStore, type ModelStoreDeps } from '../../src/main/core/models/model-store';
import type { DownloadProgress } from '../../src/main/core/models/transfer-progress';
import { fakeBlipRepo, fakeLlavaRepo, refusedEndpoint, sha256, startHubServer, type HubServer } from '../support/hub-server';
import { rejection } from '../support/rejection';

const MODELS_DDL = `CREATE TABLE models (name TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, repo TEXT, revision TEXT, dir TEXT NOT NULL, files_json TEXT NOT NULL, bytes INTEGER NOT NULL, installed_at TEXT NOT NULL, compiled_json TEXT)`;

const BLIP_BASE = 'Salesforce/blip-image-captioning-base';
const BLIP_LARGE = 'Salesforce/blip-image-captioning-large';
const LLAVA = 'llava-hf/llava-interleave-qwen-0.5b-hf';
const WEIGHT_BYTES = 512 * 1024;

let hub: HubServer;
let tmp: string;
let db: Database.Database;
let blipBaseFiles: Record<string, Buffer | string>;

function makeStore(overrides: Partial<ModelStoreDeps> = {}): ModelStore {
  return new ModelStore({
    db,
    modelsDir: join(tmp, 'models'),
    hub: { endpoint: hub.endpoint, retryDelayMs: 5, timeoutMs: 2_000, ...overrides.hub },
    freeBytes: async () => 1e12,
    ...overrides,
  });
}

function stagingFile(name: string, file: string): string {
  return join(tmp, 'models', '.staging', name, file);
}

beforeAll(async () => {
  hub = await startHubServer();
});
afterAll(async () => {
  await hub.close();
});

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tandem-models-'));
  db = new Database(':memory:');
  db.exec(MODELS_DDL);
  // blip-base on main has only pytorch_model.bin: the pack must fall back to it.
  blipBaseFiles = fakeBlipRepo({ weights: 'pytorch_model.bin', weightBytes: WEIGHT_BYTES, seed: 'base' });
  hub.addRepo(BLIP_BASE, blipBaseFiles);
  hub.clearFaults();
  hub.requests.length = 0;
});
afterEach(() => {
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('install from the hub', () => {
  it('downloads a fresh pack, falls back to pytorch_model.bin, verifies and registers it', async () => {
    const store = makeStore();
    const events: DownloadProgress[] = [];
    const { model, changed } = await store.install('blip-base', { onProgress: (p) => events.push(p) });

    expect(changed).toBe(true);
    const dir = join(tmp, 'models', 'blip-base');
    expect(model.dir).toBe(dir);
    expect(model.source).toBe('hub');
    expect(model.revision).toMatch(/^[0-9a-f]{40}$/); // pinned to the commit the hub named
    const paths = model.files.map((f) => f.path).sort();
    expect(paths).toEqual(['config.json', 'preprocessor_config.json', 'pytorch_model.bin', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
    for (const f of model.files) {
      const content = readFileSync(join(dir, f.path));
      expect(f.sha256).toBe(sha256(content));
      expect(content.equals(Buffer.from(blipBaseFiles[f.path]!))).toBe(true);
    }
    expect(existsSync(join(tmp, 'models', '.staging'))).toBe(false);
    expect(readdirSync(dir).some((n) => n.endsWith('.part') || n.endsWith('.json.part'))).toBe(false);

    // The safetensors candidate was asked for first and skipped on 404.
    expect(hub.requests.some((r) => r.method === 'HEAD' && r.file === 'model.safetensors')).toBe(true);
    expect(hub.downloadsOf('model.safetensors')).toHaveLength(0);

    const row = store.repository.get('blip-base');
    expect(row?.bytes).toBe(model.files.reduce((s, f) => s + f.size, 0));
    expect(store.resolve('blip-base')).toBe(dir);

    const last = events[events.length - 1]!;
    expect(last.phase).toBe('done');
    expect(last.packBytes).toBe(row?.bytes);
    const downloading = events.filter((e) => e.phase === 'downloading');
    expect(downloading.every((e) => e.packTotal === row?.bytes)).toBe(true);
    expect(downloading.some((e) => e.file === 'pytorch_model.bin' && e.fileBytes === WEIGHT_BYTES)).toBe(true);

    // A second install of an intact pack fetches nothing.
    hub.requests.length = 0;
    expect((await store.install('blip-base')).changed).toBe(false);
    expect(hub.requests).toHaveLength(0);
  });

  it('prefers model.safetensors when the repo has both', async () => {
    hub.addRepo(BLIP_LARGE, fakeBlipRepo({ weights: 'both', weightBytes: 4096, seed: 'large' }));
    const { model } = await makeStore().install('blip-large');
    const paths = model.files.map((f) => f.path);
    expect(paths).toContain('model.safetensors');
    expect(paths).not.toContain('pytorch_model.bin');
  });

  it('resumes an interrupted transfer with a Range request and ends with the right hash', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'cut', afterBytes: 200_000, times: 1 });
    const { model } = await makeStore().install('blip-base');

    const gets = hub.downloadsOf('pytorch_model.bin');
    expect(gets).toHaveLength(2);
    expect(gets[0]!.range).toBeNull();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(200_000);
    const weights = model.files.find((f) => f.path === 'pytorch_model.bin')!;
    expect(weights.sha256).toBe(sha256(blipBaseFiles['pytorch_model.bin']!));
    expect(sha256(readFileSync(join(model.dir, 'pytorch_model.bin')))).toBe(weights.sha256);
  });

  it('keeps the .part when a run fails and resumes it in the next run', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'cut', afterBytes: 100_000, times: 1 });
    const noRetry = makeStore({ hub: { endpoint: hub.endpoint, retries: 0, retryDelayMs: 1 } });
    const err = await rejection(noRetry.install('blip-base'));
    expect(err.code).toBe('download_interrupted');
    expect(err.message).toMatch(/run the same command again/i);
    const partSize = statSync(stagingFile('blip-base', 'pytorch_model.bin.part')).size;
    expect(partSize).toBeGreaterThan(0);
    expect((await noRetry.list()).find((e) => e.name === 'blip-base')?.stagedBytes).toBeGreaterThanOrEqual(partSize);

    hub.requests.length = 0;
    const { model } = await noRetry.install('blip-base');
    const gets = hub.downloadsOf('pytorch_model.bin');
    expect(gets.map((g) => g.range)).toEqual([`bytes=${partSize}-`]);
    // Files finished in the first run are not fetched again.
    expect(hub.downloadsOf('config.json')).toHaveLength(0);
    expect(model.files.find((f) => f.path === 'pytorch_model.bin')!.sha256).toBe(sha256(blipBaseFiles['pytorch_model.bin']!));
  });

  it('cancels on AbortSignal, keeps the .part, and restarts from zero if the server ignores Range', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'stall', afterBytes: 65_536 });
    const store = makeStore();
    const controller = new AbortController();
    const install = store.install('blip-base', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'pytorch_model.bin' && p.fileBytes >= 65_536) controller.abort();
      },
    });
    // Only a safety net: the trailing progress event after the stall is what aborts.
    setTimeout(() => controller.abort(), 1_500).unref();
    const err = await rejection(install);
    expect(err.code).toBe('cancelled');
    expect(statSync(stagingFile('blip-base', 'pytorch_model.bin.part')).size).toBe(65_536);

    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'ignore-range' });
    hub.requests.length = 0;
    const { model } = await store.install('blip-base');
    expect(hub.downloadsOf('pytorch_model.bin').map((g) => g.range)).toEqual(['bytes=65536-']);
    expect(model.files.find((f) => f.path === 'pytorch_model.bin')!.sha256).toBe(sha256(blipBaseFiles['pytorch_model.bin']!));
  });

  it('drops leftovers of an earlier attempt that the pack no longer needs', async () => {
    hub.addRepo(BLIP_BASE, { ...blipBaseFiles, 'model.safetensors': Buffer.alloc(300_000, 1) });
    hub.fault(BLIP_BASE, 'model.safetensors', { kind: 'cut', afterBytes: 50_000 });
    const store = makeStore({ hub: { endpoint: hub.endpoint, retries: 0 } });
    await rejection(store.install('blip-base'));
    expect(existsSync(stagingFile('blip-base', 'model.safetensors.part'))).toBe(true);

    hub.removeFile(BLIP_BASE, 'model.safetensors'); // the repo changed: back to pytorch_model.bin
    const { model } = await store.install('blip-base');
    expect(readdirSync(model.dir).sort()).toEqual(model.files.map((f) => f.path).sort());
  });

  it('rejects a file whose bytes do not match the hub sha256 and deletes it', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'corrupt' });
    const store = makeStore();
    const err = await rejection(store.install('blip-base'));
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe('pytorch_model.bin');
    expect(err.message).toMatch(/sha256/);
    expect(err.message).toMatch(/deleted/);
    expect(existsSync(stagingFile('blip-base', 'pytorch_model.bin.part'))).toBe(false);
    expect(existsSync(stagingFile('blip-base', 'pytorch_model.bin'))).toBe(false);
    expect(existsSync(join(tmp, 'models', 'blip-base'))).toBe(false);
    expect(store.repository.get('blip-base')).toBeUndefined();
  });

  it('rejects an advertised hash the content does not have', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'wrong-hash' });
    const err = await rejection(makeStore().install('blip-base'));
    expect(err.code).toBe('model_file');
    expect(existsSync(stagingFile('blip-base', 'pytorch_model.bin.part'))).toBe(false);
  });
});

describe('clear errors', () => {
  it('names a required file the repo does not have', async () => {
    hub.removeFile(BLIP_BASE, 'tokenizer.json');
    const err = await rejection(makeStore().install('blip-base'));
    expect(err.code).toBe('hub_file_not_found');
    expect(err.message).toContain("'tokenizer.json'");
    expect(err.message).toContain(BLIP_BASE);
  });

  it('names a file and a revision that are not found (404)', async () => {
    const downloader = new HubDownloader({ endpoint: hub.endpoint, retries: 0 });
    const dest = join(tmp, 'x', 'nope.json');
    const missing = await rejection(downloader.download({ repo: BLIP_BASE, revision: 'main', path: 'nope.json', dest }));
    expect(missing.code).toBe('hub_file_not_found');
    expect(missing.message).toContain("'nope.json'");
    expect(missing.message).toContain("revision 'main'");

    const badRevision = await rejection(makeStore().install('blip-base', { revision: 'v9' }));
    expect(badRevision.code).toBe('hub_revision_not_found');
    expect(badRevision.message).toContain("'v9'");
  });

  it('says the hub cannot be reached when the connection is refused', async () => {
    const endpoint = await refusedEndpoint();
    const err = await rejection(makeStore().install('blip-base', { endpoint }));
    expect(err.code).toBe('hub_unreachable');
    expect(err.message).toContain(`Cannot reach ${endpoint}`);
    expect(err.message).toMatch(/offline/);
  });

  it('asks for a token on a gated repo and sends it as a bearer token', async () => {
    hub.addRepo(BLIP_BASE, blipBaseFiles, { token: 'hf_secret' });
    const err = await rejection(makeStore().install('blip-base'));
    expect(err.code).toBe('hub_auth');
    expect(err.message).toContain('HF_TOKEN');

    const wrong = await rejection(makeStore().install('blip-base', { token: 'hf_wrong' }));
    expect(wrong.code).toBe('hub_auth');
    expect(wrong.message).toMatch(/not accepted/);

    hub.requests.length = 0;
    const { model } = await makeStore().install('blip-base', { token: 'hf_secret' });
    expect(model.files.length).toBeGreaterThan(0);
    const configRequests = hub.requests.filter((r) => r.file === 'config.json');
    expect(configRequests.length).toBeGreaterThan(0);
    expect(configRequests.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
  });

  it('reports a stall as a timeout', async () => {
    hub.fault(BLIP_BASE, 'pytorch_model.bin', { kind: 'stall', afterBytes: 1024 });
    const store = makeStore({ hub: { endpoint: hub.endpoint, timeoutMs: 300, retries: 0 } });
    const err = await rejection(store.install('blip-base'));
    expect(err.code).toBe('hub_timeout');
    expect(err.message).toContain('pytorch_model.bin');
  });

  it('checks free disk space before downloading', async () => {
    const store = makeStore({ freeBytes: async () => 10_000 });
    const err = await rejection(store.install('blip-base'));
    expect(err.code).toBe('disk_full');
    expect(err.message).toMatch(/Not enough disk space for 'blip-base'/);
    expect(hub.downloadsOf('config.json')).toHaveLength(0);
  });

  it('rejects an unknown pack name with the list of known ones', async () => {
    const err = await rejection(makeStore().install('gpt-17'));
    expect(err.code).toBe('unknown_model');
    expect(err.message).toContain('blip-base');
    expect(err.message).toContain('tandem models import');
  });
});

describe('llava pack', () => {
  it('fetches the onnx/ files of the chosen dtypes and skips absent optional files', async () => {
    const onnx = [
      'onnx/vision_encoder.onnx', 'onnx/vision_encoder_fp16.onnx',
      'onnx/embed_tokens.onnx', 'onnx/embed_tokens_int8.onnx',
      'onnx/decoder_model_merged.onnx', 'onnx/decoder_model_merged_q4.onnx',
    ];
    hub.addRepo(LLAVA, fakeLlavaRepo(onnx));
    // The known pack now downloads the official safetensors and compiles them (llava-pack-install.test.ts);
    // a pack of the hub's transformers.js export still selects its onnx/ files per dtype.
    const onnxPack = { name: 'llava-interleave-qwen-0.5b', kind: 'llava' as const, repo: LLAVA, revision: 'main', description: 'onnx export', files: llavaInterleaveFiles() };
    const { model } = await makeStore({ packs: [onnxPack] }).install('llava-interleave-qwen-0.5b');
    const paths = model.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['onnx/vision_encoder.onnx', 'onnx/embed_tokens_int8.onnx', 'onnx/decoder_model_merged_q4.onnx', 'chat_template.json']));
    expect(paths).not.toContain('onnx/decoder_model_merged.onnx');
    expect(paths).not.toContain('chat_template.jinja');
    expect(model.kind).toBe('llava');
  });
});
