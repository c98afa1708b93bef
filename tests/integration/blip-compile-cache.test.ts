/** Compiling into the model cache: reuse, determinism, .bin vs .safetensors, and bad inputs. */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBlipEngine } from '../../src/main/core/blip/blip-engine';
import { BLIP_COMPILER_VERSION, compileBlip } from '../../src/main/core/blip/compile-blip';
import { BLIP_RETRIEVAL_COMPILER_VERSION, compileBlipRetrieval } from '../../src/main/core/blip/compile-blip-retrieval';
import { ModelFileError } from '../../src/main/core/errors';
import { randomBlipWeights, tinyCaptionerConfig, writeTinyBlipCaptioner } from '../../test-models/tiny-blip';
import { writeTinyBlipRetrieval } from '../../test-models/tiny-blip-retrieval';
import { writeSafetensors } from '../../src/main/core/weights/safetensors';
import type { WeightMap } from '../../src/main/core/weights/weight-tensor';
import { patternPng } from './blip-helpers';

let work: string;
let good: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-blip-compile-'));
  good = join(work, 'good');
  await writeTinyBlipCaptioner(good);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Cache entries and temporary build folders: after a failed compile there must be none. */
async function cacheEntries(cacheDir: string): Promise<string[]> {
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith('blip-') || n.startsWith('.tmp-'));
}

let counter = 0;
/** A copy of the good model whose files `edit` may change. */
async function variant(edit: (dir: string) => Promise<void>): Promise<{ dir: string; cache: string }> {
  const dir = join(work, `variant-${++counter}`);
  await cp(good, dir, { recursive: true });
  await edit(dir);
  return { dir, cache: join(work, `cache-${counter}`) };
}

interface ConfigJson {
  model_type: string;
  architectures: string[];
  text_config: Record<string, unknown>;
  vision_config: Record<string, unknown>;
}

async function editConfig(dir: string, change: (c: ConfigJson) => void): Promise<void> {
  const p = join(dir, 'config.json');
  const c = JSON.parse(await readFile(p, 'utf8')) as ConfigJson;
  change(c);
  await writeFile(p, JSON.stringify(c));
}

async function writeWeights(dir: string, change: (w: WeightMap) => void): Promise<void> {
  const w = randomBlipWeights(tinyCaptionerConfig(), 1234);
  change(w);
  await writeSafetensors(join(dir, 'model.safetensors'), w);
}

async function expectCompileError(v: { dir: string; cache: string }, pattern: RegExp, file?: string): Promise<ModelFileError> {
  const err = await compileBlip(v.dir, v.cache).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelFileError);
  expect((err as Error).message).toMatch(pattern);
  if (file) expect((err as ModelFileError).file.endsWith(file)).toBe(true);
  expect(await cacheEntries(v.cache)).toEqual([]);
  return err as ModelFileError;
}

describe('model cache', () => {
  it('compiles once, then reuses the entry; a damaged entry is rebuilt', async () => {
    const cache = join(work, 'cache-reuse');
    const first = await compileBlip(good, cache);
    expect(first.built).toBe(true);
    expect(first.manifest.graphs).toEqual({ vision: 'vision.onnx', textDecoder: 'text-decoder.onnx' });
    expect((await readdir(first.dir)).sort()).toEqual(
      ['manifest.json', 'text-decoder.onnx', 'text-decoder.onnx.data', 'vision.onnx', 'vision.onnx.data'].sort(),
    );
    const second = await compileBlip(good, cache);
    expect(second.built).toBe(false);
    expect(second.dir).toBe(first.dir);
    expect(await cacheEntries(cache)).toEqual([first.dir.split('/').at(-1)]);

    await rm(join(first.dir, 'text-decoder.onnx'));
    const third = await compileBlip(good, cache);
    expect(third.built).toBe(true);
    expect((await stat(join(third.dir, 'text-decoder.onnx'))).isFile()).toBe(true);
  });

  it('a build removes the entries older compilers made, and nothing else', async () => {
    const cache = join(work, 'cache-outdated');
    const entry = async (name: string, manifest: unknown): Promise<string> => {
      const dir = join(cache, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'manifest.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
      await writeFile(join(dir, 'vision.onnx.data'), Buffer.alloc(4096));
      return name;
    };
    const outdated = [
      await entry('blip-0123456789abcdef01234567', { format: 'tandem-blip', compilerVersion: BLIP_COMPILER_VERSION - 1 }),
      await entry('blip-int8-0123456789abcdef01234567', { format: 'tandem-blip', compilerVersion: 1 }),
      await entry('blip-retrieval-0123456789abcdef01234567', { format: 'tandem-blip-retrieval', compilerVersion: BLIP_RETRIEVAL_COMPILER_VERSION - 1 }),
    ];
    const kept = [
      await entry('blip-fedcba9876543210fedcba98', { format: 'tandem-blip', compilerVersion: BLIP_COMPILER_VERSION + 1 }),
      await entry('blip-not-a-manifest', 'not json'),
      await entry('llava-q4-0123456789abcdef01234567', { format: 'tandem-blip', compilerVersion: 1 }),
    ];
    const built = await compileBlip(good, cache);
    expect(built.built).toBe(true);
    const after = await readdir(cache);
    // The captioner's compile removes only its own format's old entries; the retrieval compile removes its own.
    expect(after).toEqual(expect.arrayContaining([...kept, outdated[2]!, basename(built.dir)]));
    expect(after).not.toContain(outdated[0]);
    expect(after).not.toContain(outdated[1]);
    const retrieval = join(work, 'retrieval-model');
    await writeTinyBlipRetrieval(retrieval);
    await compileBlipRetrieval(retrieval, cache);
    expect(await readdir(cache)).not.toContain(outdated[2]);
    expect(await readdir(cache)).toEqual(expect.arrayContaining([...kept, basename(built.dir)]));
  });

  it('other weights get another entry; the same weights compile to identical bytes', async () => {
    const other = await variant((d) => writeWeights(d, (w) => ((w.get('text_decoder.cls.predictions.bias')!.data as Float32Array)[5] = 9)));
    const a = await compileBlip(good, join(work, 'cache-det-a'));
    const b = await compileBlip(good, join(work, 'cache-det-b'));
    const c = await compileBlip(other.dir, join(work, 'cache-det-a'));
    expect(c.dir).not.toBe(a.dir);
    for (const f of ['vision.onnx', 'vision.onnx.data', 'text-decoder.onnx', 'text-decoder.onnx.data']) {
      expect(Buffer.compare(await readFile(join(a.dir, f)), await readFile(join(b.dir, f)))).toBe(0);
    }
  });

  it('.bin and .safetensors versions of the same weights compile to identical outputs', async () => {
    const binDir = join(work, 'as-bin');
    await writeTinyBlipCaptioner(binDir, { format: 'bin' });
    const cache = join(work, 'cache-formats');
    const fromBin = await compileBlip(binDir, cache);
    const fromSt = await compileBlip(good, cache);
    expect(fromBin.manifest.checkpoint).toEqual({ format: 'torch-bin', files: ['pytorch_model.bin'] });
    expect(fromSt.manifest.checkpoint.format).toBe('safetensors');
    for (const f of ['vision.onnx.data', 'text-decoder.onnx.data']) {
      expect(Buffer.compare(await readFile(join(fromBin.dir, f)), await readFile(join(fromSt.dir, f)))).toBe(0);
    }
    const img = await patternPng(7);
    const [m1, m2] = [await loadBlipEngine({ modelDir: binDir, cacheDir: cache, threads: 1 }), await loadBlipEngine({ modelDir: good, cacheDir: cache, threads: 1 })];
    try {
      const [c1] = await m1.caption([img], { returnLogits: true });
      const [c2] = await m2.caption([img], { returnLogits: true });
      expect(c1!.tokenIds).toEqual(c2!.tokenIds);
      expect(c1!.stepLogits).toEqual(c2!.stepLogits);
    } finally {
      await m1.dispose();
      await m2.dispose();
    }
  });
});

describe('bad input fails with a specific error and leaves nothing half-written', () => {
  it('missing config.json', async () => {
    await expectCompileError(await variant((d) => rm(join(d, 'config.json'))), /no readable config\.json/, 'config.json');
  });

  it('config.json that is not JSON', async () => {
    await expectCompileError(await variant((d) => writeFile(join(d, 'config.json'), '{ not json')), /not valid JSON/, 'config.json');
  });

  it('unknown model_type', async () => {
    await expectCompileError(await variant((d) => editConfig(d, (c) => (c.model_type = 'bert'))), /model_type "bert" is not a BLIP model/, 'config.json');
  });

  it('unsupported architecture', async () => {
    await expectCompileError(await variant((d) => editConfig(d, (c) => (c.architectures = ['BlipForImageTextRetrieval']))), /BlipForImageTextRetrieval/);
  });

  it('unknown activation and inconsistent sizes', async () => {
    await expectCompileError(await variant((d) => editConfig(d, (c) => (c.text_config.hidden_act = 'mish'))), /text_config\.hidden_act = "mish"/);
    await expectCompileError(await variant((d) => editConfig(d, (c) => (c.vision_config.num_attention_heads = 5))), /not a multiple of num_attention_heads 5/);
  });

  it('no weight file', async () => {
    await expectCompileError(await variant((d) => rm(join(d, 'model.safetensors'))), /expected model\.safetensors .*pytorch_model\.bin/);
  });

  it('truncated safetensors names the tensor cut off', async () => {
    const v = await variant(async (d) => {
      const p = join(d, 'model.safetensors');
      await truncate(p, (await stat(p)).size - 100);
    });
    await expectCompileError(v, /truncated: tensor vision_model\.\S+ ends at byte/, 'model.safetensors');
  });

  it('a tensor whose shape does not match the config', async () => {
    const name = 'text_decoder.bert.encoder.layer.1.attention.self.query.weight';
    const v = await variant((d) => writeWeights(d, (w) => w.set(name, { storedDType: 'float32', shape: [32, 31], data: new Float32Array(32 * 31) })));
    await expectCompileError(v, /Tensor text_decoder\.bert\.encoder\.layer\.1\.attention\.self\.query\.weight .* has shape \[32, 31\] but the config needs \[32, 32\]/);
  });

  it('a missing tensor', async () => {
    const v = await variant((d) => writeWeights(d, (w) => w.delete('vision_model.post_layernorm.bias')));
    await expectCompileError(v, /has no tensor vision_model\.post_layernorm\.bias/, 'model.safetensors');
  });

  it('a config that disagrees with the checkpoint (more layers than it has)', async () => {
    const v = await variant((d) => editConfig(d, (c) => (c.text_config.num_hidden_layers = 3)));
    await expectCompileError(v, /has no tensor text_decoder\.bert\.encoder\.layer\.2\./);
  });

  it('loadBlipEngine surfaces the same error', async () => {
    const v = await variant((d) => editConfig(d, (c) => (c.model_type = 'clip')));
    await expect(loadBlipEngine({ modelDir: v.dir, cacheDir: v.cache })).rejects.toBeInstanceOf(ModelFileError);
    expect(await cacheEntries(v.cache)).toEqual([]);
  });
});

describe('tied-weight storage variants', () => {
  it('a checkpoint keeping the shared embedding only under the LM-head name gives the same outputs', async () => {
    const v = await variant((d) =>
      writeWeights(d, (w) => {
        const emb = w.get('text_decoder.bert.embeddings.word_embeddings.weight')!;
        w.delete('text_decoder.bert.embeddings.word_embeddings.weight');
        w.set('text_decoder.cls.predictions.decoder.weight', emb);
        const bias = w.get('text_decoder.cls.predictions.bias')!;
        w.delete('text_decoder.cls.predictions.bias');
        w.set('text_decoder.cls.predictions.decoder.bias', bias);
      }),
    );
    const img = await patternPng(3);
    const a = await loadBlipEngine({ modelDir: good, cacheDir: v.cache, threads: 1 });
    const b = await loadBlipEngine({ modelDir: v.dir, cacheDir: v.cache, threads: 1 });
    try {
      const ids = [a.spec.text.bosTokenId, 20, 37];
      expect(await b.logitsFor(img, ids)).toEqual(await a.logitsFor(img, ids));
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
