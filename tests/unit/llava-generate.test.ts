/**
 * The decode loop on the tiny LLaVA pack and on a scripted decoder: the KV cache gives the logits a full
 * recompute gives, greedy is deterministic, eos ends the answer, and the streamed text is the decoded ids.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseLlavaDtypes } from '../../src/main/core/llava/llava-dtypes';
import { generateLlava, TextStream, type GenerateInput } from '../../src/main/core/llava/llava-generate';
import { KV_GROWTH, KvCache } from '../../src/main/core/llava/llava-kv-cache';
import { readJsonFile, readLlavaPackConfig, type LlavaPackConfig } from '../../src/main/core/llava/llava-pack-config';
import { fixedImageSize, preprocessLlavaImage, readLlavaImageConfig } from '../../src/main/core/llava/llava-preprocess';
import { LlavaPrompt } from '../../src/main/core/llava/llava-prompt';
import { pickToken, seededRandom, type LlavaSampling } from '../../src/main/core/llava/llava-sampling';
import { LlavaSessions, type ImageFeatures, type LlavaDecoder } from '../../src/main/core/llava/llava-sessions';
import { ensureTinyLlava } from '../../test-models/tiny-llava';

let sessions: LlavaSessions;
let prompt: LlavaPrompt;
let pack: LlavaPackConfig;
let features: ImageFeatures;
let promptIds: number[];
let imageStart: number;
const greedy = (maxNewTokens: number): LlavaSampling => ({ temperature: 0, topP: 1, maxNewTokens });

function noise(width: number, height: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5) * 11) % 256;
  return { width, height, data };
}

beforeAll(async () => {
  const dir = await ensureTinyLlava();
  const imageConfig = readLlavaImageConfig(await readJsonFile(join(dir, 'preprocessor_config.json')));
  pack = await readLlavaPackConfig(dir, fixedImageSize(imageConfig)!);
  prompt = await LlavaPrompt.load(dir, pack);
  sessions = await LlavaSessions.open(dir, await chooseLlavaDtypes(dir), { threads: 1, kvHeads: pack.kvHeads, headDim: pack.headDim });
  features = await sessions.encodeImage(await preprocessLlavaImage(noise(40, 30), imageConfig));
  const e = prompt.encode('You are Tandem.', [{ role: 'user', text: 'Tell a story about this photo' }]);
  promptIds = e.ids;
  imageStart = e.imageStart;
});
afterAll(async () => {
  await sessions?.dispose();
});

function input(over: Partial<GenerateInput> = {}): GenerateInput {
  return {
    promptIds,
    past: null,
    image: { features, start: imageStart },
    sampling: greedy(8),
    maxNewTokens: 8,
    eosIds: pack.eosIds,
    stop: { interrupted: false },
    detokenize: (ids) => prompt.decode(ids),
    onText: () => {},
    ...over,
  };
}

/** Next-token logits of `ids` read from scratch, no cache. */
async function recompute(ids: readonly number[]): Promise<Float32Array> {
  const embeds = await sessions.embed(ids);
  embeds.set(features.data, imageStart * features.hidden);
  const out = await sessions.decode(embeds, ids.length, sessions.emptyCache(), true);
  return out.lastLogits!;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('decode loop on the tiny pack', () => {
  it('every cached step gives the logits of a full recompute of the sequence so far', async () => {
    const out = await generateLlava(sessions, input({ recordLogits: true }));
    expect(out.tokenIds).toHaveLength(8);
    expect(out.decoderSteps).toBe(8);
    expect(out.cachedSteps).toBe(7);
    for (let k = 0; k < out.tokenIds.length; k++) {
      const full = await recompute([...promptIds, ...out.tokenIds.slice(0, k)]);
      expect(maxAbsDiff(out.stepLogits![k]!, full)).toBeLessThan(1e-4);
    }
    expect(out.cache.length).toBe(promptIds.length + 7);
    expect(out.cacheIds).toEqual([...promptIds, ...out.tokenIds.slice(0, 7)]);
  });

  it('a chunked prefill (and a prefill on top of a cut cache) agrees with a single one', async () => {
    const whole = await generateLlava(sessions, input({ recordLogits: true, maxNewTokens: 5 }));
    const chunked = await generateLlava(sessions, input({ recordLogits: true, maxNewTokens: 5, prefillChunk: 7 }));
    expect(chunked.decoderSteps).toBe(Math.ceil(promptIds.length / 7) + 4);
    expect(chunked.tokenIds).toEqual(whole.tokenIds);
    chunked.stepLogits!.forEach((l, k) => expect(maxAbsDiff(l, whole.stepLogits![k]!)).toBeLessThan(1e-4));
    // The kept cache cut back to the prompt minus its last 3 tokens, then only those re-read.
    const past = whole.cache.prefix(promptIds.length - 3);
    const resumed = await generateLlava(sessions, input({ recordLogits: true, maxNewTokens: 5, past, image: null }));
    expect(resumed.tokenIds).toEqual(whole.tokenIds);
    expect(maxAbsDiff(resumed.stepLogits![0]!, whole.stepLogits![0]!)).toBeLessThan(1e-4);
  });

  it('greedy decoding is deterministic; seeded sampling replays', async () => {
    const a = await generateLlava(sessions, input({ maxNewTokens: 12 }));
    const b = await generateLlava(sessions, input({ maxNewTokens: 12 }));
    expect(b.tokenIds).toEqual(a.tokenIds);
    const sampling: LlavaSampling = { temperature: 1.2, topP: 0.9, topK: 20, maxNewTokens: 12, seed: 42 };
    const s1 = await generateLlava(sessions, input({ maxNewTokens: 12, sampling }));
    const s2 = await generateLlava(sessions, input({ maxNewTokens: 12, sampling }));
    expect(s2.tokenIds).toEqual(s1.tokenIds);
    // greedy: true wins over a temperature.
    const forced = await generateLlava(sessions, input({ maxNewTokens: 12, sampling: { ...sampling, greedy: true } }));
    expect(forced.tokenIds).toEqual(a.tokenIds);
  });

  it('the streamed text is exactly the decoded answer', async () => {
    const deltas: string[] = [];
    const out = await generateLlava(sessions, input({ maxNewTokens: 40, onText: (d) => deltas.push(d) }));
    expect(deltas.length).toBeGreaterThan(5);
    expect(deltas.join('')).toBe(prompt.decode(out.tokenIds));
    expect(out.text).toBe(prompt.decode(out.tokenIds));
  });
});

/** A decoder whose next token is scripted: logits put 5 on `script[position − promptLength]`. */
function scripted(script: number[], vocab = 10, promptLength = 3): LlavaDecoder & { fed: number[] } {
  const fed: number[] = [];
  return {
    fed,
    emptyCache: () => KvCache.empty(1, 1, 1),
    reserve: (past) => past,
    embed: async (ids) => {
      fed.push(...ids);
      return Float32Array.from(ids);
    },
    decode: async (_embeds, seqLen, past, wantLogits) => {
      const length = past.length + seqLen;
      const logits = new Float32Array(vocab);
      logits[script[length - promptLength] ?? 0] = 5;
      const none = { type: 'float32' as const, data: new Float32Array(length), dims: [1, 1, length, 1] };
      return { lastLogits: wantLogits ? logits : null, cache: new KvCache([{ key: none, value: none }], length) };
    },
  };
}

describe('kv-append cache buffers', () => {
  /** An appending decoder (as kv-append graphs run) that records the key buffer each call was given. */
  function appending(): LlavaDecoder & { buffers: Float32Array[] } {
    const buffers: Float32Array[] = [];
    return {
      buffers,
      emptyCache: () => KvCache.empty(1, 1, 1),
      reserve: (past, positions) => past.reserve(positions),
      embed: async (ids) => Float32Array.from(ids),
      decode: async (embeds, seqLen, past, wantLogits) => {
        buffers.push(past.layers[0]!.key.data);
        const added = { type: 'float32' as const, data: Float32Array.from(embeds), dims: [1, 1, seqLen, 1] };
        const logits = new Float32Array(10);
        logits[4] = 5;
        return { lastLogits: wantLogits ? logits : null, cache: past.append([{ key: added, value: added }], seqLen) };
      },
    };
  }

  it('a chunked prefill and the first answer tokens write into one allocation, and the cache holds what was fed', async () => {
    const model = appending();
    const promptIds = Array.from({ length: 150 }, (_, i) => i + 1);
    const out = await generateLlava(model, { ...input(), promptIds, image: null, detokenize: (ids) => ids.join(' '), maxNewTokens: 8, eosIds: [9], prefillChunk: 40 });
    expect(model.buffers.length).toBe(4 + 7); // 4 prefill chunks, then 7 generated tokens fed back
    expect(new Set(model.buffers.slice(1)).size).toBe(1);
    expect(out.cache.capacity).toBe(Math.ceil((150 + KV_GROWTH) / KV_GROWTH) * KV_GROWTH);
    expect(Array.from(out.cache.layers[0]!.key.data.subarray(0, out.cache.length))).toEqual([...promptIds, ...Array(7).fill(4)]);
  });

  it('reserve keeps the positions held and only ever grows', () => {
    const added = { type: 'float32' as const, data: Float32Array.from([1, 2, 3]), dims: [1, 1, 3, 1] };
    const cache = KvCache.empty(1, 1, 1).append([{ key: added, value: added }], 3);
    expect(cache.reserve(100)).toBe(cache); // 3 held, room for 128 already
    const roomy = cache.reserve(200);
    expect(roomy.capacity).toBe(320);
    expect(roomy.length).toBe(3);
    expect(Array.from(roomy.layers[0]!.value.data.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(roomy.reserve(300)).toBe(roomy);
  });
});

describe('decode loop rules', () => {
  const base = (model: LlavaDecoder, over: Partial<GenerateInput> = {}) =>
    generateLlava(model, { ...input(), promptIds: [1, 2, 3], image: null, detokenize: (ids) => ids.join(' '), maxNewTokens: 10, eosIds: [9, 7], ...over });

  it('stops on any of the eos ids, keeps it in the ids, and never feeds it back', async () => {
    const model = scripted([4, 5, 7, 6, 6]);
    const out = await base(model);
    expect(out.tokenIds).toEqual([4, 5, 7]);
    expect(out.stopped).toBe(false);
    expect(model.fed).toEqual([1, 2, 3, 4, 5]);
    expect(out.cacheIds).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops at max_new_tokens, and within one token of the stop flag', async () => {
    expect((await base(scripted([4, 4, 4, 4, 4, 4]), { maxNewTokens: 3 })).tokenIds).toEqual([4, 4, 4]);
    const stop = { interrupted: false };
    let seen = 0;
    const out = await base(scripted([4, 5, 6, 4, 5, 6]), {
      stop,
      onText: () => {
        if (++seen === 2) stop.interrupted = true;
      },
    });
    expect(out.stopped).toBe(true);
    expect(out.tokenIds).toEqual([4, 5]);
  });
});

describe('streaming detokenization', () => {
  it('holds back a character whose bytes are split over tokens', () => {
    // Byte-level tokens: "é" is two bytes, so two tokens, and the first alone decodes to U+FFFD.
    const ids = prompt.encode('', [{ role: 'user', text: 'é' }]).ids;
    const e = ids.slice(ids.indexOf(pack.imageTokenId) + pack.imageTokens + 1).slice(0, 2);
    expect(prompt.decode(e)).toBe('é');
    const deltas: string[] = [];
    const stream = new TextStream((x) => prompt.decode(x), (d) => deltas.push(d));
    stream.push(e.slice(0, 1));
    expect(deltas).toEqual([]);
    stream.push(e);
    expect(deltas).toEqual(['é']);
    expect(stream.finish(e)).toBe('é');
  });
});

describe('token picking', () => {
  const logits = Float32Array.from([0, Math.log(2), Math.log(3), -1]);

  it('greedy is argmax; top_k 1 and a tiny top_p are too', () => {
    const r = seededRandom(1);
    expect(pickToken(logits, [], { temperature: 0, topP: 1, maxNewTokens: 1 }, r)).toBe(2);
    for (let i = 0; i < 50; i++) {
      expect(pickToken(logits, [], { temperature: 1, topP: 1, topK: 1, maxNewTokens: 1 }, r)).toBe(2);
      expect(pickToken(logits, [], { temperature: 1, topP: 1e-6, maxNewTokens: 1 }, r)).toBe(2);
    }
  });

  it('samples in proportion to the softmax, and top_p keeps the smallest set reaching the mass', () => {
    const r = seededRandom(7);
    const counts = [0, 0, 0, 0];
    const n = 6000;
    for (let i = 0; i < n; i++) counts[pickToken(logits, [], { temperature: 1, topP: 1, maxNewTokens: 1 }, r)]!++;
    const z = 1 + 2 + 3 + Math.exp(-1);
    [1, 2, 3, Math.exp(-1)].forEach((w, i) => expect(Math.abs(counts[i]! / n - w / z)).toBeLessThan(0.03));
    // probs ≈ .47, .31, .16, .06: top_p .6 keeps the first two only.
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(pickToken(logits, [], { temperature: 1, topP: 0.6, maxNewTokens: 1 }, r));
    expect([...seen].sort()).toEqual([1, 2]);
  });

  it('the repetition penalty applies to every id so far, as transformers', () => {
    const r = seededRandom(1);
    // 2 was seen: log 3 / 2 ≈ 0.55 < log 2 ≈ 0.69.
    expect(pickToken(logits, [2], { temperature: 0, topP: 1, repetitionPenalty: 2, maxNewTokens: 1 }, r)).toBe(1);
  });
});
