/**
 * The LLaVA compiler on tiny llava-hf folders: compiled graphs run in onnxruntime and agree with a float64
 * reference written from transformers' formulas; config defaults, tensor-name spellings and shard layouts
 * compile to the same graphs; bad inputs fail with messages that name what is wrong.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLlava, compileLlavaToFolder, type LlavaCompileOptions, type LlavaCompileProgress, type LlavaManifest } from '../../src/main/core/llava-compiler/compile-llava';
import type { NdArray } from '../../src/main/core/onnx/nd-array';
import { createInferenceSession, type InferenceRunner } from '../../src/main/core/onnx/runtime';
import { dequantizeRowsQ4, quantizeRowsQ4 } from '../../src/main/core/llava-compiler/q4-quantize';
import { LlavaReference } from '../../test-models/llava-reference';
import { SeededRandom } from '../../test-models/seeded-random';
import { ensureTinyLlavaHf, TINY_LLAVA_15_SHAPE, TINY_LLAVA_INTERLEAVE_SHAPE, writeTinyLlavaHf, type TinyLlavaHfInfo, type WriteTinyLlavaHfOptions } from '../../test-models/tiny-llava-hf';

const FP32: LlavaCompileOptions = { decoderPrecision: 'fp32', visionPrecision: 'fp32', embeddingPrecision: 'fp32', accuracyLevel: 0 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-llava-compile-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function tinyModel(shape = TINY_LLAVA_15_SHAPE, options: WriteTinyLlavaHfOptions = {}): Promise<TinyLlavaHfInfo> {
  return writeTinyLlavaHf(join(root, `src-${counter++}`), shape, options);
}

async function compileTo(info: TinyLlavaHfInfo, options: LlavaCompileOptions = FP32): Promise<{ dir: string; manifest: LlavaManifest }> {
  const dir = join(root, `out-${counter++}`);
  return { dir, manifest: await compileLlavaToFolder(info.dir, dir, options) };
}

/** The three sessions of a compiled folder. */
class Compiled {
  private constructor(
    readonly vision: InferenceRunner,
    readonly embed: InferenceRunner,
    readonly decoder: InferenceRunner,
    readonly manifest: LlavaManifest,
  ) {}

  static async open(dir: string, manifest: LlavaManifest): Promise<Compiled> {
    const open = (f: string) => createInferenceSession(join(dir, f), { executionProvider: 'cpu', intraOpThreads: 1 });
    return new Compiled(await open(manifest.graphs.vision_encoder), await open(manifest.graphs.embed_tokens), await open(manifest.graphs.decoder_model_merged), manifest);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.vision.dispose(), this.embed.dispose(), this.decoder.dispose()]);
  }

  async imageFeatures(pixels: Float32Array, batch: number): Promise<NdArray> {
    const v = this.manifest.spec.vision;
    const out = await this.vision.run({ pixel_values: { type: 'float32', data: pixels, dims: [batch, 3, v.imageSize, v.imageSize] } });
    return out['image_features']!;
  }

  /** input embeddings for ids, with image features written over the image-token positions (as LlavaModel does). */
  async inputsEmbeds(ids: number[], features: Float32Array): Promise<Float32Array> {
    const out = await this.embed.run({ input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] } });
    const embeds = Float32Array.from(out['inputs_embeds']!.data as Float32Array);
    const H = this.manifest.spec.text.hiddenSize;
    let next = 0;
    ids.forEach((id, i) => {
      if (id === this.manifest.spec.imageTokenIndex) embeds.set(features.subarray(next++ * H, next * H), i * H);
    });
    expect(next * H).toBe(features.length);
    return embeds;
  }

  /** One decoder call on `embeds` (s rows) after `past` tokens; returns logits and the new cache. */
  async step(embeds: Float32Array, pastLen: number, past: Map<string, NdArray> | undefined): Promise<{ logits: Float32Array; present: Map<string, NdArray> }> {
    const t = this.manifest.spec.text;
    const s = embeds.length / t.hiddenSize;
    const feeds: Record<string, NdArray> = {
      inputs_embeds: { type: 'float32', data: embeds, dims: [1, s, t.hiddenSize] },
      attention_mask: { type: 'int64', data: new BigInt64Array(pastLen + s).fill(1n), dims: [1, pastLen + s] },
      position_ids: { type: 'int64', data: BigInt64Array.from({ length: s }, (_, i) => BigInt(pastLen + i)), dims: [1, s] },
    };
    for (let l = 0; l < t.numLayers; l++) {
      for (const kind of ['key', 'value']) {
        feeds[`past_key_values.${l}.${kind}`] = past?.get(`present.${l}.${kind}`) ?? { type: 'float32', data: new Float32Array(0), dims: [1, t.numKvHeads, 0, t.headDim] };
      }
    }
    const out = await this.decoder.run(feeds);
    const present = new Map<string, NdArray>();
    for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) present.set(k, v);
    return { logits: out['logits']!.data as Float32Array, present };
  }
}

function randomPixels(seed: number, n: number): Float32Array {
  return new SeededRandom(seed).uniforms(n, 2);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function flat(rows: Float64Array[]): Float64Array {
  const out = new Float64Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

function argmax(a: ArrayLike<number>, from = 0, to = a.length): number {
  let best = from;
  for (let i = from; i < to; i++) if ((a[i] as number) > (a[best] as number)) best = i;
  return best - from;
}

async function tokenize(dir: string, text: string): Promise<number[]> {
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as object;
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as object;
  return new Tokenizer(json, config).encode(text).ids;
}

/** The LLaVA-1.5 prompt with `<image>` expanded to one token per image feature, as LlavaProcessor does. */
async function llava15Prompt(info: TinyLlavaHfInfo): Promise<number[]> {
  const ids = await tokenize(info.dir, 'USER: <image>\nWhat is in this photo? ASSISTANT:');
  const out: number[] = [];
  for (const id of ids) {
    if (id === info.imageToken) for (let i = 0; i < info.imageTokens; i++) out.push(id);
    else out.push(id);
  }
  return out;
}

async function dataFiles(dir: string, manifest: LlavaManifest): Promise<Buffer[]> {
  return Promise.all(Object.values(manifest.graphs).map((f) => readFile(join(dir, `${f}_data`))));
}

describe('LLaVA-1.5 (CLIP + Llama) compiled from a tiny llava-hf folder', () => {
  let info: TinyLlavaHfInfo;
  let ref: LlavaReference;
  let compiled: Compiled;
  let out: { dir: string; manifest: LlavaManifest };
  let prompt: number[];
  let imageFeatures: Float32Array;
  let refFeatures: Float64Array[];

  beforeAll(async () => {
    info = await tinyModel();
    ref = await LlavaReference.load(info.dir, info.shape, info.vocab);
    out = await compileTo(info);
    compiled = await Compiled.open(out.dir, out.manifest);
    prompt = await llava15Prompt(info);
  });
  afterAll(async () => {
    await compiled?.dispose();
  });

  it('reads the terse config with transformers defaults and writes the runtime files', async () => {
    const spec = out.manifest.spec;
    expect(spec.vision).toMatchObject({ kind: 'clip', hiddenAct: 'quick_gelu', layerNormEps: 1e-5, numLayers: 3 });
    expect(spec.visionLayersUsed).toBe(2);
    expect(spec.text).toMatchObject({ kind: 'llama', numKvHeads: 2, headDim: 8, ropeTheta: 10000, qkvBias: false, oBias: false, tiedEmbeddings: false, hiddenAct: 'silu' });
    expect(spec.imageTokens).toBe(16);
    expect(spec.imageTokenIndex).toBe(info.imageToken);
    expect(out.manifest.copied).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'preprocessor_config.json', 'chat_template.json', 'generation_config.json', 'special_tokens_map.json']));
    expect(out.manifest.sources.map((s) => s.file)).toEqual(expect.arrayContaining(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']));
    expect(out.manifest.graphs).toEqual({ vision_encoder: 'onnx/vision_encoder.onnx', embed_tokens: 'onnx/embed_tokens.onnx', decoder_model_merged: 'onnx/decoder_model_merged.onnx' });
    const template = JSON.parse(await readFile(join(out.dir, 'chat_template.json'), 'utf8')) as { chat_template: string };
    expect(template.chat_template).toContain("{{ 'ASSISTANT:' }}");
  });

  it('tokenizes the llava-1.5 prompt with <image> as one token', async () => {
    const ids = await tokenize(info.dir, 'USER: <image>\nWhat is in this photo? ASSISTANT:');
    expect(ids[0]).toBe(1); // <s>
    expect(ids.filter((id) => id === info.imageToken)).toHaveLength(1);
    expect(ids.every((id) => id < info.tokenizerSize && id !== 0)).toBe(true);
    expect(prompt.filter((id) => id === info.imageToken)).toHaveLength(16);
  });

  it('projected image features match the reference (batch of 2)', async () => {
    const n = 3 * 36 * 36;
    const pixels = randomPixels(3, 2 * n);
    const got = await compiled.imageFeatures(pixels, 2);
    expect(got.dims).toEqual([2, 16, 32]);
    const data = got.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      const want = flat(ref.imageFeatures(pixels.subarray(b * n, (b + 1) * n)));
      const diff = maxAbsDiff(data.subarray(b * want.length, (b + 1) * want.length), want);
      expect(diff).toBeLessThan(1e-4);
    }
    imageFeatures = Float32Array.from(data.subarray(0, 16 * 32));
    refFeatures = ref.imageFeatures(pixels.subarray(0, n));
  });

  it('first-step logits with merged image features match the reference', async () => {
    const embeds = await compiled.inputsEmbeds(prompt, imageFeatures);
    const refEmbeds = ref.embed(prompt);
    let img = 0;
    prompt.forEach((id, i) => {
      if (id === info.imageToken) refEmbeds[i] = refFeatures[img++]!;
    });
    const { logits } = await compiled.step(embeds, 0, undefined);
    const want = flat(ref.logits(refEmbeds));
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    expect(maxAbsDiff(logits, want) / scale).toBeLessThan(1e-4);
  });

  it('greedy decoding with the KV cache matches the reference and the no-cache path for 8 steps', async () => {
    const H = 32;
    const embeds = await compiled.inputsEmbeds(prompt, imageFeatures);
    const refEmbeds: Float64Array[] = [];
    for (let i = 0; i < prompt.length; i++) refEmbeds.push(Float64Array.from(embeds.subarray(i * H, (i + 1) * H)));
    const V = info.vocab;
    let { logits, present } = await compiled.step(embeds, 0, undefined);
    let all = embeds;
    const cached: number[] = [];
    const refTokens: number[] = [];
    let maxCacheDiff = 0;
    for (let step = 0; step < 8; step++) {
      const s = all.length / H;
      const last = logits.length / V - 1;
      const token = argmax(logits, last * V, last * V + V);
      cached.push(token);
      const refLogits = ref.logits(refEmbeds);
      refTokens.push(argmax(refLogits[refLogits.length - 1]!));
      // the same step without a cache: the whole sequence again
      const full = await compiled.step(all, 0, undefined);
      const fullLast = full.logits.subarray((s - 1) * V, s * V);
      maxCacheDiff = Math.max(maxCacheDiff, maxAbsDiff(logits.subarray(last * V, last * V + V), fullLast));
      const tokenEmbeds = await compiled.inputsEmbeds([token], new Float32Array(0));
      refEmbeds.push(Float64Array.from(tokenEmbeds));
      const r = await compiled.step(tokenEmbeds, s, present);
      logits = r.logits;
      present = r.present;
      const grown = new Float32Array(all.length + H);
      grown.set(all);
      grown.set(tokenEmbeds, all.length);
      all = grown;
    }
    console.log(`[llava-compile] greedy tokens ${cached.join(' ')}; cache vs no-cache max |Δlogit| ${maxCacheDiff.toExponential(2)}`);
    expect(cached).toEqual(refTokens);
    expect(maxCacheDiff).toBeLessThan(1e-4);
  });

  it('a left-padded batch gives each sequence its own logits, with and without the cache', async () => {
    const t = out.manifest.spec.text;
    const V = info.vocab;
    const H = t.hiddenSize;
    const a = [1, 300, 301, 302, 303];
    const b = [1, 310, 311];
    const ea = await compiled.inputsEmbeds(a, new Float32Array(0));
    const eb = await compiled.inputsEmbeds(b, new Float32Array(0));
    const alone = [(await compiled.step(ea, 0, undefined)).logits, (await compiled.step(eb, 0, undefined)).logits];
    // transformers: position_ids = cumsum(mask) − 1, padding positions set to 1.
    const mask = [1, 1, 1, 1, 1, 0, 0, 1, 1, 1];
    const positions = [0, 1, 2, 3, 4, 1, 1, 0, 1, 2];
    const embeds = new Float32Array(2 * 5 * H);
    embeds.set(ea, 0);
    embeds.set(eb, (5 + 2) * H);
    const feeds: Record<string, NdArray> = {
      inputs_embeds: { type: 'float32', data: embeds, dims: [2, 5, H] },
      attention_mask: { type: 'int64', data: BigInt64Array.from(mask, BigInt), dims: [2, 5] },
      position_ids: { type: 'int64', data: BigInt64Array.from(positions, BigInt), dims: [2, 5] },
    };
    for (let l = 0; l < t.numLayers; l++) {
      for (const kind of ['key', 'value']) feeds[`past_key_values.${l}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [2, t.numKvHeads, 0, t.headDim] };
    }
    const batched = await compiled.decoder.run(feeds);
    const logits = batched['logits']!.data as Float32Array;
    expect(maxAbsDiff(logits.subarray(0, 5 * V), alone[0]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.subarray((5 + 2) * V, 10 * V), alone[1]!)).toBeLessThan(1e-4);
    // one cached step for both, against each sequence's own cached step
    const next = await compiled.inputsEmbeds([404, 405], new Float32Array(0));
    const stepFeeds: Record<string, NdArray> = {
      inputs_embeds: { type: 'float32', data: next, dims: [2, 1, H] },
      attention_mask: { type: 'int64', data: BigInt64Array.from([...mask.slice(0, 5), 1, ...mask.slice(5), 1], BigInt), dims: [2, 6] },
      position_ids: { type: 'int64', data: BigInt64Array.from([5, 3], BigInt), dims: [2, 1] },
    };
    for (const [k, v] of Object.entries(batched)) if (k.startsWith('present.')) stepFeeds[k.replace('present.', 'past_key_values.')] = v;
    const stepped = (await compiled.decoder.run(stepFeeds))['logits']!.data as Float32Array;
    const soloA = await compiled.step(next.subarray(0, H), 5, (await compiled.step(ea, 0, undefined)).present);
    const soloB = await compiled.step(next.subarray(H), 3, (await compiled.step(eb, 0, undefined)).present);
    expect(maxAbsDiff(stepped.subarray(0, V), soloA.logits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(stepped.subarray(V), soloB.logits)).toBeLessThan(1e-4);
  });

  it.each([32, 128] as const)('q4 decoder equals the reference run with 4-bit-rounded weights (accuracy_level 0, blocks of %i)', async (q4BlockSize) => {
    const q = await compileTo(info, { ...FP32, decoderPrecision: 'q4', accuracyLevel: 0, q4BlockSize });
    expect(q.manifest.options.q4BlockSize).toBe(q4BlockSize);
    const qc = await Compiled.open(q.dir, q.manifest);
    try {
      // Every decoder Linear (lm_head included) is what MatMulNBits multiplies by: its dequantised rows.
      const isDecoderLinear = (name: string) => name.startsWith('language_model.') && !name.includes('embed_tokens') && !name.includes('norm');
      const q4Ref = ref.mapWeights((name, data, shape) => {
        if (!isDecoderLinear(name) || shape.length !== 2) return data;
        const [n, k] = shape as [number, number];
        return Float64Array.from(dequantizeRowsQ4(quantizeRowsQ4(Float32Array.from(data), n, k, q4BlockSize), n, k));
      });
      const embeds = await qc.inputsEmbeds(prompt, imageFeatures);
      const refEmbeds: Float64Array[] = [];
      for (let i = 0; i < prompt.length; i++) refEmbeds.push(Float64Array.from(embeds.subarray(i * 32, (i + 1) * 32)));
      const { logits } = await qc.step(embeds, 0, undefined);
      const want = flat(q4Ref.logits(refEmbeds));
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      expect(maxAbsDiff(logits, want) / scale).toBeLessThan(1e-4);
    } finally {
      await qc.dispose();
    }
  });

  it('a quantised vision tower (asked for explicitly) stays close to fp32', async () => {
    const pixels = randomPixels(3, 3 * 36 * 36);
    for (const precision of ['int8', 'q4'] as const) {
      const q = await compileTo(info, { ...FP32, visionPrecision: precision });
      expect(q.manifest.graphs.vision_encoder).toBe(`onnx/vision_encoder_${precision}.onnx`);
      const qc = await Compiled.open(q.dir, q.manifest);
      try {
        const got = (await qc.imageFeatures(pixels, 1)).data as Float32Array;
        let se = 0;
        let ss = 0;
        got.forEach((v, i) => {
          se += (v - (imageFeatures[i] as number)) ** 2;
          ss += (imageFeatures[i] as number) ** 2;
        });
        console.log(`[llava-compile] vision ${precision} vs fp32: rms(Δ)/rms(features) ${Math.sqrt(se / ss).toFixed(4)}`);
        expect(Math.sqrt(se / ss)).toBeLessThan(0.5);
      } finally {
        await qc.dispose();
      }
    }
  });

  it('q4 and int8 decoders agree with fp32 (reported, asserted loosely)', async () => {
    const embeds = await compiled.inputsEmbeds(prompt, imageFeatures);
    const base = (await compiled.step(embeds, 0, undefined)).logits;
    const V = info.vocab;
    const rows = base.length / V;
    for (const [label, options] of [
      ['q4 accuracy_level 0', { ...FP32, decoderPrecision: 'q4', accuracyLevel: 0 }],
      ['q4 accuracy_level 4', { ...FP32, decoderPrecision: 'q4', accuracyLevel: 4 }],
      ['q4 accuracy_level 4, blocks of 32', { ...FP32, decoderPrecision: 'q4', accuracyLevel: 4, q4BlockSize: 32 }],
      ['int8 (+ int8 embeddings)', { ...FP32, decoderPrecision: 'int8', embeddingPrecision: 'int8' }],
    ] as [string, LlavaCompileOptions][]) {
      const q = await compileTo(info, options);
      const qc = await Compiled.open(q.dir, q.manifest);
      try {
        const qEmbeds = await qc.inputsEmbeds(prompt, imageFeatures);
        const got = (await qc.step(qEmbeds, 0, undefined)).logits;
        let agree = 0;
        let maxRel = 0;
        let se = 0;
        let ss = 0;
        for (let r = 0; r < rows; r++) {
          const a = base.subarray(r * V, (r + 1) * V);
          const b = got.subarray(r * V, (r + 1) * V);
          if (argmax(a) === argmax(b)) agree++;
          const range = Math.max(...Array.from(a, Math.abs));
          maxRel = Math.max(maxRel, maxAbsDiff(a, b) / range);
          for (let i = 0; i < V; i++) {
            se += ((a[i] as number) - (b[i] as number)) ** 2;
            ss += (a[i] as number) ** 2;
          }
        }
        const rmsRel = Math.sqrt(se / ss);
        console.log(
          `[llava-compile] ${label} vs fp32 over ${rows} positions: top-1 agreement ${((100 * agree) / rows).toFixed(1)}%, ` +
            `max |Δlogit| / max|logit| ${maxRel.toFixed(4)}, rms(Δ)/rms(logits) ${rmsRel.toFixed(4)}`,
        );
        // A random 2-layer model has no confident tokens: loose bounds that still catch a broken layout.
        expect(agree / rows).toBeGreaterThan(0.3);
        expect(rmsRel).toBeLessThan(0.5);
      } finally {
        await qc.dispose();
      }
    }
  });
});

describe('LLaVA compiler inputs', () => {
  it('omitted config keys, transformers ≥ 4.52 tensor names and a single file compile to the same graphs', async () => {
    const base = await compileTo(await tinyModel());
    const want = await dataFiles(base.dir, base.manifest);
    for (const options of [{ configStyle: 'explicit' }, { naming: 'current' }, { shards: 1 }, { dtype: 'bfloat16' }] as WriteTinyLlavaHfOptions[]) {
      const other = await compileTo(await tinyModel(TINY_LLAVA_15_SHAPE, options));
      expect(other.manifest.spec, JSON.stringify(options)).toEqual(base.manifest.spec);
      const got = await dataFiles(other.dir, other.manifest);
      // bf16 rounds weights differently from fp16: same layout, different bytes.
      if (options.dtype) expect(got.map((b) => b.length)).toEqual(want.map((b) => b.length));
      else got.forEach((b, i) => expect(b.equals(want[i]!), `${JSON.stringify(options)} file ${i}`).toBe(true));
    }
  });

  it('compiles the SigLIP + Qwen2 (llava-interleave) layout and matches the reference', async () => {
    const info = await tinyModel(TINY_LLAVA_INTERLEAVE_SHAPE);
    const out = await compileTo(info);
    expect(out.manifest.spec.text).toMatchObject({ kind: 'qwen2', qkvBias: true, oBias: false, tiedEmbeddings: true, ropeTheta: 1_000_000 });
    expect(out.manifest.spec.vision).toMatchObject({ kind: 'siglip', hiddenAct: 'gelu_pytorch_tanh' });
    expect(out.manifest.spec.imageTokens).toBe(16);
    const ref = await LlavaReference.load(info.dir, info.shape, info.vocab);
    const c = await Compiled.open(out.dir, out.manifest);
    try {
      const pixels = randomPixels(9, 3 * 32 * 32);
      const features = (await c.imageFeatures(pixels, 1)).data as Float32Array;
      const refFeatures = ref.imageFeatures(pixels);
      expect(maxAbsDiff(features, flat(refFeatures))).toBeLessThan(1e-4);
      const ids = [...(await tokenize(info.dir, '<|im_start|>user\n')), ...new Array<number>(16).fill(info.imageToken), ...(await tokenize(info.dir, '\nwhat is this photo<|im_end|>\n<|im_start|>assistant\n'))];
      const embeds = await c.inputsEmbeds(ids, features);
      const refEmbeds = ref.embed(ids);
      let img = 0;
      ids.forEach((id, i) => {
        if (id === info.imageToken) refEmbeds[i] = refFeatures[img++]!;
      });
      const { logits } = await c.step(embeds, 0, undefined);
      const want = flat(ref.logits(refEmbeds));
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      expect(maxAbsDiff(logits, want) / scale).toBeLessThan(1e-4);
    } finally {
      await c.dispose();
    }
  });

  it('caches by source hashes and options, and reports stages', async () => {
    const info = await tinyModel();
    const cache = join(root, 'cache');
    const stages: LlavaCompileProgress[] = [];
    const first = await compileLlava(info.dir, cache, { ...FP32, onProgress: (p) => stages.push(p) });
    expect(first.built).toBe(true);
    const labels = stages.map((s) => s.label);
    expect(labels).toEqual(expect.arrayContaining(['hashing source files', 'vision layer 2/2', 'embedding table', 'decoder layer 1/2', 'decoder layer 2/2', 'writing decoder_model_merged']));
    const last = stages[stages.length - 1]!;
    expect(last.done).toBe(last.total);
    const again = await compileLlava(info.dir, cache, FP32);
    expect(again).toMatchObject({ built: false, dir: first.dir });
    const q4 = await compileLlava(info.dir, cache, { ...FP32, decoderPrecision: 'q4' });
    expect(q4.built).toBe(true);
    expect(q4.dir).not.toBe(first.dir);
    expect(q4.manifest.graphs.decoder_model_merged).toBe('onnx/decoder_model_merged_q4.onnx');
  });

  it('refuses an unknown model_type, naming it', async () => {
    const info = await tinyModel();
    const config = JSON.parse(await readFile(join(info.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(info.dir, 'config.json'), JSON.stringify({ ...config, model_type: 'llava_next' }));
    await expect(compileTo(info)).rejects.toThrow(/model_type is "llava_next"/);
    await writeFile(join(info.dir, 'config.json'), JSON.stringify({ ...config, text_config: { ...(config['text_config'] as object), model_type: 'mistral' } }));
    await expect(compileTo(info)).rejects.toThrow(/text_config.model_type "mistral"/);
  });

  it('a missing tensor fails naming the tensor and the checkpoint files', async () => {
    const info = await tinyModel(TINY_LLAVA_15_SHAPE, { omitTensors: ['language_model.model.layers.1.mlp.up_proj.weight'] });
    await expect(compileTo(info)).rejects.toThrow(/no tensor language_model\.model\.layers\.1\.mlp\.up_proj\.weight.*model-00001-of-00002\.safetensors|model-00001-of-00002\.safetensors.*no tensor language_model\.model\.layers\.1\.mlp\.up_proj\.weight/s);
  });

  it('a shape mismatch fails naming the tensor, both shapes and the shard', async () => {
    const info = await tinyModel();
    const config = JSON.parse(await readFile(join(info.dir, 'config.json'), 'utf8')) as { text_config: Record<string, unknown> };
    config.text_config['intermediate_size'] = 96;
    await writeFile(join(info.dir, 'config.json'), JSON.stringify(config));
    await expect(compileTo(info)).rejects.toThrow(/Tensor language_model\.model\.layers\.0\.mlp\.gate_proj\.weight in .*model-0000[12]-of-00002\.safetensors has shape \[64, 32\] but config\.json needs \[96, 32\]/);
  });

  it('refuses a folder without its tokenizer, or with only a PyTorch .bin checkpoint', async () => {
    const info = await tinyModel(TINY_LLAVA_15_SHAPE, { shards: 1 });
    await rm(join(info.dir, 'tokenizer.json'));
    await expect(compileTo(info)).rejects.toThrow(/has no tokenizer\.json, which the LLaVA runtime needs/);
    const other = await tinyModel(TINY_LLAVA_15_SHAPE, { shards: 1 });
    await rename(join(other.dir, 'model.safetensors'), join(other.dir, 'pytorch_model.bin'));
    await expect(compileTo(other)).rejects.toThrow(/PyTorch \.bin checkpoint; Tandem's LLaVA compiler reads safetensors/);
  });

  it('ensureTinyLlavaHf generates each kind once', async () => {
    const cache = join(root, 'test-models');
    const dir = await ensureTinyLlavaHf('llava-interleave', cache);
    expect(await ensureTinyLlavaHf('llava-interleave', cache)).toBe(dir);
    const manifest = await compileLlavaToFolder(dir, join(root, `out-${counter++}`), FP32);
    expect(manifest.spec.text.kind).toBe('qwen2');
  });

  it('refuses RoPE scaling it does not implement', async () => {
    const info = await tinyModel();
    const config = JSON.parse(await readFile(join(info.dir, 'config.json'), 'utf8')) as { text_config: Record<string, unknown> };
    config.text_config['rope_scaling'] = { type: 'linear', factor: 2 };
    await writeFile(join(info.dir, 'config.json'), JSON.stringify(config));
    await expect(compileTo(info)).rejects.toThrow(/"linear" RoPE scaling/);
  });
});
