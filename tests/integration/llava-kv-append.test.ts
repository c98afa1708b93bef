/**
 * The kv-append decoder (llama-decoder-graph.ts, `decoderIo: 'kv-append'`) against the float64 reference and
 * against the transformers.js-layout decoder compiled from the same checkpoint: same logits at every cached
 * step (fp32, 1e-4), same greedy tokens, cache == no cache, and a follow-up on a shared prefix of the grown
 * cache. Both tiny shapes have 4 query heads over 2 KV heads, so the grouped (no repeat_kv) attention is
 * exercised; prompt + answer pass KV_GROWTH, so the cache buffers grow mid-answer.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLlavaToFolder } from '../../src/main/core/llava-compiler/compile-llava';
import { generateLlava, type GenerateOutput } from '../../src/main/core/llava/llava-generate';
import { KV_GROWTH, KvCache } from '../../src/main/core/llava/llava-kv-cache';
import { LlavaSessions } from '../../src/main/core/llava/llava-sessions';
import type { LlavaDTypes } from '../../src/main/core/models/known-packs';
import { LlavaReference } from '../../test-models/llava-reference';
import { SeededRandom } from '../../test-models/seeded-random';
import { TINY_LLAVA_15_SHAPE, TINY_LLAVA_INTERLEAVE_SHAPE, writeTinyLlavaHf, type TinyLlavaHfShape } from '../../test-models/tiny-llava-hf';
import { tempDir } from '../support/temp-dirs';

const FP32: LlavaDTypes = { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' };

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('tandem-llava-kv-append-');
});
afterAll(() => tmp?.cleanup());

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function relDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  return maxAbsDiff(got, want) / scale;
}

describe.each([
  ['llava-1.5 (CLIP + Llama)', TINY_LLAVA_15_SHAPE],
  ['interleave (SigLIP + Qwen2)', TINY_LLAVA_INTERLEAVE_SHAPE],
] as [string, TinyLlavaHfShape][])('kv-append decoder, %s', (name, shape) => {
  let append: LlavaSessions;
  let present: LlavaSessions;
  let ref: LlavaReference;
  let promptIds: number[];
  let imageStart: number;
  let pixels: { data: Float32Array; dims: number[] };

  beforeAll(async () => {
    const key = name.split(' ')[0]!;
    const src = join(tmp.dir, `${key}-hf`);
    const info = await writeTinyLlavaHf(src, shape);
    const kv = { kvHeads: shape.text.kvHeads, headDim: shape.text.hidden / shape.text.heads, threads: 1 };
    await compileLlavaToFolder(src, join(tmp.dir, `${key}-append`), { decoderPrecision: 'fp32', accuracyLevel: 0, decoderIo: 'kv-append' });
    await compileLlavaToFolder(src, join(tmp.dir, `${key}-present`), { decoderPrecision: 'fp32', accuracyLevel: 0 });
    append = await LlavaSessions.open(join(tmp.dir, `${key}-append`), FP32, kv);
    present = await LlavaSessions.open(join(tmp.dir, `${key}-present`), FP32, kv);
    ref = await LlavaReference.load(src, info.shape, info.vocab);
    const rng = new SeededRandom(11);
    const word = () => 3 + Math.floor(rng.next() * (info.tokenizerSize - 8));
    imageStart = 5;
    promptIds = [...Array.from({ length: imageStart }, word), ...new Array<number>(info.imageTokens).fill(info.imageToken), ...Array.from({ length: 12 }, word)];
    const size = shape.vision.imageSize;
    pixels = { data: Float32Array.from({ length: 3 * size * size }, () => rng.next() * 2 - 1), dims: [1, 3, size, size] };
  });
  afterAll(async () => {
    await append?.dispose();
    await present?.dispose();
  });

  /** A greedy answer; the image is read when there is no past, or at `imageAt` into a past that holds none of it. */
  const run = async (sessions: LlavaSessions, ids: readonly number[], past: KvCache | null, maxNewTokens: number, imageAt?: number): Promise<GenerateOutput> =>
    generateLlava(sessions, {
      promptIds: ids,
      past,
      image: past && imageAt === undefined ? null : { features: await sessions.encodeImage(pixels), start: imageAt ?? imageStart },
      sampling: { temperature: 0, topP: 1, maxNewTokens },
      maxNewTokens,
      eosIds: [],
      stop: { interrupted: false },
      detokenize: () => '',
      onText: () => {},
      prefillChunk: 7,
      recordLogits: true,
    });

  it('is detected from its outputs', () => {
    expect(append.cacheIo).toBe('appended');
    expect(present.cacheIo).toBe('present');
  });

  it('matches the float64 reference and the transformers.js-layout decoder at every cached step, through a cache growth', async () => {
    // The first prefill chunk allocates room for KV_GROWTH more positions than it holds: run past twice that.
    const steps = 2 * KV_GROWTH + 8 - promptIds.length;
    const got = await run(append, promptIds, null, steps);
    const want = await run(present, promptIds, null, steps);
    expect(got.cache.length).toBeGreaterThan(2 * KV_GROWTH);
    expect(got.tokenIds).toEqual(want.tokenIds);
    let worst = 0;
    got.stepLogits!.forEach((l, k) => (worst = Math.max(worst, relDiff(l, want.stepLogits![k]!))));
    expect(worst).toBeLessThan(1e-4);

    const features = ref.imageFeatures(pixels.data);
    for (const k of [0, Math.floor(steps / 2), steps - 1]) {
      const embeds = ref.embed([...promptIds, ...got.tokenIds.slice(0, k)]);
      features.forEach((f, i) => (embeds[imageStart + i] = f));
      expect(relDiff(got.stepLogits![k]!, ref.logits(embeds).at(-1)!)).toBeLessThan(1e-4);
    }
  });

  it('gives the same last logits with the cache as without it', async () => {
    const out = await run(append, promptIds, null, 6);
    const ids = out.cacheIds;
    const image = await append.encodeImage(pixels);
    const embeds = await append.embed(ids);
    embeds.set(image.data, imageStart * image.hidden);
    const whole = await append.decode(embeds, ids.length, append.emptyCache(), true);
    // cacheIds end with the last fed token, whose logits picked the final token.
    expect(relDiff(out.stepLogits!.at(-1)!, whole.lastLogits!)).toBeLessThan(1e-4);
  });

  it("writes a new conversation into the last one's emptied buffers (stale values past its length) as into fresh ones", async () => {
    const first = await run(append, promptIds, null, KV_GROWTH);
    const recycled = first.cache.prefix(0);
    expect(recycled.capacity).toBeGreaterThan(promptIds.length + KV_GROWTH);
    const otherIds = [...promptIds.slice(0, imageStart).reverse(), ...promptIds.slice(imageStart).reverse()].reverse();
    const otherStart = otherIds.indexOf(promptIds[imageStart]!);
    const fromRecycled = await run(append, otherIds, recycled, 6, otherStart);
    // The buffers were reused, not reallocated.
    expect(fromRecycled.cache.layers[0]!.key.data).toBe(first.cache.layers[0]!.key.data);
    const fresh = await run(append, otherIds, null, 6, otherStart);
    expect(fromRecycled.tokenIds).toEqual(fresh.tokenIds);
    fromRecycled.stepLogits!.forEach((l, k) => expect(relDiff(l, fresh.stepLogits![k]!)).toBeLessThan(1e-5));
  });

  it('continues a follow-up from a shared prefix of its grown cache like the transformers.js layout does', async () => {
    const first = await run(append, promptIds, null, KV_GROWTH);
    const firstPresent = await run(present, promptIds, null, KV_GROWTH);
    const keep = promptIds.length + 20;
    const followIds = [...first.cacheIds.slice(0, keep), 7, 9, 11];
    expect(first.cache.capacity).toBeGreaterThan(first.cache.length);
    const got = await run(append, followIds, first.cache.prefix(keep), 5);
    const want = await run(present, followIds, firstPresent.cache.prefix(keep), 5);
    expect(got.tokenIds).toEqual(want.tokenIds);
    got.stepLogits!.forEach((l, k) => expect(relDiff(l, want.stepLogits![k]!)).toBeLessThan(1e-4));
  });
});

describe('KvCache.append', () => {
  it('writes new positions after the old ones per head, growing by whole blocks', () => {
    const layer = (heads: number, len: number, dim: number, base: number) => ({ type: 'float32' as const, data: Float32Array.from({ length: heads * len * dim }, (_, i) => base + i), dims: [1, heads, len, dim] });
    let cache = KvCache.empty(1, 2, 3);
    cache = cache.append([{ key: layer(2, 2, 3, 0), value: layer(2, 2, 3, 100) }], 2);
    expect(cache.length).toBe(2);
    expect(cache.capacity).toBe(Math.ceil((2 + KV_GROWTH) / KV_GROWTH) * KV_GROWTH);
    cache = cache.append([{ key: layer(2, 1, 3, 50), value: layer(2, 1, 3, 150) }], 1);
    const cap = cache.capacity;
    const key = cache.layers[0]!.key.data;
    // head 0: positions 0, 1 from the first append, 2 from the second
    expect(Array.from(key.subarray(0, 9))).toEqual([0, 1, 2, 3, 4, 5, 50, 51, 52]);
    // head 1 starts at capacity · dim
    expect(Array.from(key.subarray(cap * 3, cap * 3 + 9))).toEqual([6, 7, 8, 9, 10, 11, 53, 54, 55]);
    const exact = cache.prefix(2);
    expect(exact.layers[0]!.key.data).toBe(key);
  });
});
