import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ModelFileError, TandemError } from '../../src/main/core/errors';
import { ModelStore } from '../../src/main/core/models/model-store';
import { fakeBlipRepo, fakeLlavaRepo, sha256 } from '../support/hub-server';

const MODELS_DDL = `CREATE TABLE models (name TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, repo TEXT, revision TEXT, dir TEXT NOT NULL, files_json TEXT NOT NULL, bytes INTEGER NOT NULL, installed_at TEXT NOT NULL, compiled_json TEXT)`;

let tmp: string;
let db: Database.Database;
let store: ModelStore;

function writeFolder(dir: string, files: Record<string, Buffer | string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

function importError(promise: Promise<unknown>): Promise<ModelFileError> {
  return promise.then(
    () => {
      throw new Error('expected the import to fail');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(ModelFileError);
      return err as ModelFileError;
    },
  );
}

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tandem-store-'));
  db = new Database(':memory:');
  db.exec(MODELS_DDL);
  store = new ModelStore({ db, modelsDir: join(tmp, 'models'), modelCacheDir: join(tmp, 'model-cache'), now: () => new Date('2025-01-02T03:04:05Z') });
});
afterEach(() => {
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('import a hand-copied folder', () => {
  it('names the missing file', async () => {
    const files = fakeBlipRepo();
    delete files['preprocessor_config.json'];
    const src = writeFolder(join(tmp, 'copy'), files);
    const err = await importError(store.import(src, { name: 'blip-base' }));
    expect(err.file).toBe('preprocessor_config.json');
    expect(err.message).toContain(`${src} is missing preprocessor_config.json`);
    expect(store.repository.get('blip-base')).toBeUndefined();
    expect(existsSync(join(tmp, 'models', 'blip-base'))).toBe(false);
  });

  it('names both weight files when neither is there, and spots Git LFS pointers', async () => {
    const files = fakeBlipRepo();
    delete files['pytorch_model.bin'];
    const src = writeFolder(join(tmp, 'copy'), files);
    const missing = await importError(store.import(src));
    expect(missing.message).toContain('model.safetensors or pytorch_model.bin');

    writeFileSync(join(src, 'model.safetensors'), 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 990000000\n');
    const pointer = await importError(store.import(src));
    expect(pointer.file).toBe('model.safetensors');
    expect(pointer.message).toMatch(/Git LFS pointer/);
    expect(pointer.message).toMatch(/git lfs pull/);
  });

  it('says what is wrong with config.json', async () => {
    const src = writeFolder(join(tmp, 'copy'), { ...fakeBlipRepo(), 'config.json': JSON.stringify({ model_type: 'bert' }) });
    const err = await importError(store.import(src));
    expect(err.file).toBe('config.json');
    expect(err.message).toContain("model_type 'bert'");
    rmSync(join(src, 'config.json'));
    expect((await importError(store.import(src))).message).toContain('is missing config.json');
  });

  it('copies or links the files in, hashes them, and registers the pack', async () => {
    const files = fakeBlipRepo({ weights: 'model.safetensors', vqa: true });
    const src = writeFolder(join(tmp, 'My BLIP VQA'), { ...files, 'README.md': 'not part of the pack' });
    const model = await store.import(src);
    expect(model.name).toBe('my-blip-vqa');
    expect(model.kind).toBe('blip-vqa');
    expect(model.source).toBe('import');
    expect(model.dir).toBe(join(tmp, 'models', 'my-blip-vqa'));
    expect(model.files.map((f) => f.path)).not.toContain('README.md');
    const weights = model.files.find((f) => f.path === 'model.safetensors')!;
    expect(weights.sha256).toBe(sha256(files['model.safetensors']!));
    expect(readFileSync(join(model.dir, 'model.safetensors')).equals(files['model.safetensors'] as Buffer)).toBe(true);
    expect(model.installedAt).toBe('2025-01-02T03:04:05.000Z');
    expect(store.resolve('my-blip-vqa')).toBe(model.dir);
    // The source folder is left as it was.
    expect(existsSync(join(src, 'model.safetensors'))).toBe(true);
  });

  it('refuses a folder whose kind does not match the known pack of that name', async () => {
    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo({ vqa: true }));
    const err = await importError(store.import(src, { name: 'blip-base' }));
    expect(err.message).toContain('a blip-vqa model, but a blip-caption model was expected');
  });

  it('imports the LLaVA onnx layout and names a missing graph', async () => {
    const onnx = ['onnx/vision_encoder.onnx', 'onnx/embed_tokens_int8.onnx', 'onnx/decoder_model_merged_q4.onnx', 'onnx/decoder_model_merged_q4.onnx_data'];
    const src = writeFolder(join(tmp, 'llava'), fakeLlavaRepo(onnx));
    const model = await store.import(src, { name: 'llava-interleave-qwen-0.5b' });
    expect(model.kind).toBe('llava');
    expect(model.repo).toBe('llava-hf/llava-interleave-qwen-0.5b-hf');
    expect(model.files.map((f) => f.path)).toEqual(expect.arrayContaining([...onnx, 'tokenizer.json', 'chat_template.json']));

    unlinkSync(join(src, 'onnx/decoder_model_merged_q4.onnx'));
    const err = await importError(store.import(src, { name: 'llava-copy' }));
    expect(err.file).toBe('onnx/decoder_model_merged.onnx');
    expect(err.message).toContain('missing onnx/decoder_model_merged.onnx');
  });

  it('rejects a name that cannot be a folder name', async () => {
    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo());
    await expect(store.import(src, { name: '../evil' })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('list, resolve, remove', () => {
  it('lists known packs with their state and imported ones with their size on disk', async () => {
    const before = await store.list();
    expect(before.map((e) => e.name)).toEqual(['blip-base', 'blip-large', 'blip-vqa-base', 'blip-itm-base-coco', 'llava-interleave-qwen-0.5b', 'llava-1.5-7b', 'llava-1.5-13b']);
    expect(before.every((e) => e.status === 'not-installed' && e.bytesOnDisk === 0 && (e.downloadBytes ?? 0) > 1e8)).toBe(true);

    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo());
    const model = await store.import(src, { name: 'blip-base' });
    await store.import(src, { name: 'my-blip' });
    const after = await store.list();
    const base = after.find((e) => e.name === 'blip-base')!;
    expect(base).toMatchObject({ status: 'installed', source: 'import', known: true, dir: model.dir, bytesOnDisk: model.bytes });
    expect(after.find((e) => e.name === 'my-blip')).toMatchObject({ status: 'installed', known: false, kind: 'blip-caption', downloadBytes: null });

    unlinkSync(join(model.dir, 'vocab.txt'));
    const broken = (await store.list()).find((e) => e.name === 'blip-base')!;
    expect(broken.status).toBe('broken');
    expect(broken.problem).toBe('vocab.txt is missing');
  });

  it('resolve tells how to install a missing pack', () => {
    expect(() => store.resolve('blip-base')).toThrowError(
      new TandemError(
        'model_missing',
        "Model 'blip-base' is not installed. Install it with: tandem models install blip-base (or import a folder: tandem models import <dir>)",
      ),
    );
    try {
      store.resolve('my-own');
    } catch (err) {
      expect((err as TandemError).code).toBe('model_missing');
      expect((err as TandemError).message).toContain('tandem models import <dir> --name my-own');
    }
  });

  it('remove deletes the files, compiled artefacts and the row', async () => {
    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo());
    const model = await store.import(src, { name: 'blip-base' });
    const compiledDir = join(tmp, 'model-cache', 'blip-base-abc');
    writeFolder(compiledDir, { 'vision.onnx': Buffer.alloc(1000) });
    store.repository.setCompiled('blip-base', { key: 'abc', dir: compiledDir });
    expect(store.repository.get('blip-base')?.compiled).toEqual({ key: 'abc', dir: compiledDir });

    const { freedBytes } = await store.remove('blip-base');
    expect(freedBytes).toBe(model.bytes + 1000);
    expect(existsSync(model.dir)).toBe(false);
    expect(existsSync(compiledDir)).toBe(false);
    expect(store.repository.get('blip-base')).toBeUndefined();
    expect(() => store.resolve('blip-base')).toThrow(/is not installed/);
    await expect(store.remove('blip-base')).rejects.toMatchObject({ code: 'model_missing' });
    // Hard links or copies: the user's own folder is never touched.
    expect(statSync(join(src, 'pytorch_model.bin')).size).toBeGreaterThan(0);
  });

  it('finds a pack whose data folder moved, and reports one whose folder is gone', async () => {
    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo());
    const model = await store.import(src, { name: 'blip-base' });
    db.prepare('UPDATE models SET dir = ? WHERE name = ?').run('/old/place/models/blip-base', 'blip-base');
    expect(store.resolve('blip-base')).toBe(model.dir);
    rmSync(model.dir, { recursive: true });
    expect(() => store.resolve('blip-base')).toThrow(/registered but its folder .* is gone/);
  });

  it('refuses to delete outside the models folder even if a row says so', async () => {
    const outside = writeFolder(join(tmp, 'precious'), { 'keep.txt': 'mine' });
    db.prepare(
      `INSERT INTO models (name, kind, source, dir, files_json, bytes, installed_at) VALUES ('odd', 'blip-caption', 'import', ?, '[]', 0, 'now')`,
    ).run(outside);
    await expect(store.remove('odd')).rejects.toMatchObject({ code: 'unsafe_path' });
    expect(existsSync(join(outside, 'keep.txt'))).toBe(true);
  });
});

describe('pack names never leave the models folder (issue 13)', () => {
  const HOSTILE = ['../../../victim/Gemfile', '..', '.', '.staging', 'a/b', 'a\\b', 'nul\0byte', 'Blip-Base', '', 'x'.repeat(65), '/etc/passwd', 'C:\\evil'];

  it('removing ../../../victim/Gemfile refuses before any path is touched, and leaves victim/Gemfile.lock alone', async () => {
    const victim = writeFolder(join(tmp, 'victim'), { Gemfile: "source 'https://rubygems.org'\n", 'Gemfile.lock': 'GEM\n  specs:\n' });
    // <tmp>/data/models/.staging/../../../victim/Gemfile is <tmp>/victim/Gemfile: the layout of the report.
    const inData = new ModelStore({ db, modelsDir: join(tmp, 'data', 'models') });
    mkdirSync(join(tmp, 'data', 'models', '.staging'), { recursive: true });
    const err = await inData.remove('../../../victim/Gemfile').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('cannot be a model name') });
    expect(readFileSync(join(victim, 'Gemfile.lock'), 'utf8')).toBe('GEM\n  specs:\n');
    expect(readFileSync(join(victim, 'Gemfile'), 'utf8')).toContain('rubygems');
  });

  it('refuses every hostile name in install, import and remove with a readable message', async () => {
    const src = writeFolder(join(tmp, 'copy'), fakeBlipRepo());
    for (const name of HOSTILE) {
      for (const attempt of [store.install(name), store.import(src, { name }), store.remove(name)]) {
        const err = await attempt.catch((e: unknown) => e);
        expect(err, JSON.stringify(name)).toMatchObject({ code: 'invalid_input' });
        expect((err as Error).message).not.toContain('\0');
        expect((err as Error).message.length).toBeLessThan(300);
      }
    }
    expect(existsSync(join(tmp, 'models'))).toBe(false);
    expect(store.repository.all()).toEqual([]);
  });

  it('the repository registers no pack under an unsafe name', () => {
    const model = { kind: 'blip-caption' as const, source: 'import' as const, repo: null, revision: null, dir: join(tmp, 'x'), files: [], bytes: 0, installedAt: 'now', compiled: null };
    expect(() => store.repository.upsert({ ...model, name: '../x' })).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    store.repository.upsert({ ...model, name: 'fine-name' });
    expect(store.repository.all().map((m) => m.name)).toEqual(['fine-name']);
  });

  it('a damaged row with an unsafe name neither breaks the list nor aims a path outside', async () => {
    db.prepare(
      `INSERT INTO models (name, kind, source, dir, files_json, bytes, installed_at) VALUES ('../escape', 'blip-caption', 'import', ?, '[]', 0, 'now')`,
    ).run(join(tmp, 'gone'));
    const entry = (await store.list()).find((m) => m.name === '../escape');
    expect(entry).toMatchObject({ status: 'broken', stagedBytes: 0 });
  });
});
