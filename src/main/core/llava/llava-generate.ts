/**
 * LLaVA's decode loop: embed the prompt's new tokens (image features written over the image-token
 * positions), prefill them in chunks on top of whatever cache there is, then one token per step on the
 * KV cache until an end-of-answer id, the token budget or the stop flag.
 */
import type { ImageFeatures, LlavaDecoder } from './llava-sessions';
import type { KvCache } from './llava-kv-cache';
import { pickToken, seededRandom, type LlavaSampling } from './llava-sampling';
import { collectGarbage } from '../system/collect-garbage';

export interface StopSignal {
  interrupted: boolean;
}

export interface GenerateInput {
  /** The whole prompt, image tokens expanded. */
  promptIds: readonly number[];
  /** Keys/values of `promptIds[0 … past.length)` (a follow-up's shared prefix), or null to read all of it. */
  past: KvCache | null;
  /** Features written over `promptIds[imageStart …]`; only needed when those positions are fed. */
  image: { features: ImageFeatures; start: number } | null;
  sampling: LlavaSampling;
  maxNewTokens: number;
  eosIds: readonly number[];
  stop: StopSignal;
  /** Text of ids, for streaming (special tokens skipped). */
  detokenize: (ids: readonly number[]) => string;
  onText: (delta: string) => void;
  /** Prompt positions per prefill run: bounds the logits and attention buffers of a long prompt. */
  prefillChunk?: number;
  /** Keeps every step's raw logits, for tests that compare with a recompute. */
  recordLogits?: boolean;
}

export interface GenerateOutput {
  /** Generated ids, the end-of-answer id included when it came. */
  tokenIds: number[];
  /** The streamed text in full (= detokenize(tokenIds)). */
  text: string;
  stopped: boolean;
  /** Covers `cacheIds`: the prompt and every generated token that was fed back. */
  cache: KvCache;
  cacheIds: number[];
  decoderSteps: number;
  cachedSteps: number;
  prefillMs: number;
  /** From the call to the first token picked. */
  firstTokenMs: number | null;
  stepLogits?: Float32Array[];
}

export const DEFAULT_PREFILL_CHUNK = 256;

/**
 * Streams text as it becomes final. Decoding the whole answer each time keeps byte-level BPE pieces and
 * SentencePiece's leading spaces right; a trailing U+FFFD is a character still missing bytes, so it waits.
 */
export class TextStream {
  private emitted = '';

  constructor(
    private readonly detokenize: (ids: readonly number[]) => string,
    private readonly onText: (delta: string) => void,
  ) {}

  push(ids: readonly number[]): void {
    const text = this.detokenize(ids);
    if (text.endsWith('\uFFFD') || !text.startsWith(this.emitted)) return;
    this.emit(text);
  }

  /** At the end whatever is left goes out, a lone U+FFFD included: that is what the answer decodes to. */
  finish(ids: readonly number[]): string {
    const text = this.detokenize(ids);
    if (text.startsWith(this.emitted)) this.emit(text);
    return text;
  }

  private emit(text: string): void {
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    if (delta) this.onText(delta);
  }
}

/** Embeddings of `ids[from, to)`, image features written over the image's positions. */
async function embedRange(model: LlavaDecoder, ids: readonly number[], from: number, to: number, image: GenerateInput['image']): Promise<Float32Array> {
  const embeds = await model.embed(ids.slice(from, to));
  if (!image) return embeds;
  const { features, start } = image;
  const h = features.hidden;
  if (embeds.length !== (to - from) * h) throw new RangeError(`image features have ${h} values per position but token embeddings ${embeds.length / (to - from)}`);
  const lo = Math.max(from, start);
  const hi = Math.min(to, start + features.positions);
  if (lo < hi) embeds.set(features.data.subarray((lo - start) * h, (hi - start) * h), (lo - from) * h);
  return embeds;
}

export async function generateLlava(model: LlavaDecoder, input: GenerateInput): Promise<GenerateOutput> {
  const t0 = performance.now();
  const ids = [...input.promptIds];
  let cache = input.past ?? model.emptyCache();
  if (cache.length >= ids.length) throw new RangeError('the cache must leave at least one prompt token to read');
  // Room for the whole prompt (and the answer's first tokens) at once, rather than a growth, a copy, per chunk.
  cache = model.reserve(cache, ids.length);
  const chunk = Math.max(1, input.prefillChunk ?? DEFAULT_PREFILL_CHUNK);
  const random = seededRandom(input.sampling.seed ?? (Math.random() * 2 ** 32) >>> 0);
  const stream = new TextStream(input.detokenize, input.onText);
  const generated: number[] = [];
  const stepLogits: Float32Array[] = [];
  let decoderSteps = 0;
  let cachedSteps = 0;
  let firstTokenMs: number | null = null;

  // Prefill: every chunk but the last asks for keys/values only.
  let logits: Float32Array | null = null;
  for (let from = cache.length; from < ids.length; from += chunk) {
    const to = Math.min(ids.length, from + chunk);
    const last = to === ids.length;
    const out = await model.decode(await embedRange(model, ids, from, to, input.image), to - from, cache, last);
    decoderSteps++;
    if (cache.length > 0 && to - from === 1) cachedSteps++;
    cache = out.cache;
    logits = out.lastLogits;
    // A chunk's keys/values came back as new buffers (268 MB at 7B) and were copied into the cache: free them
    // before the next chunk brings as many again (a collection takes milliseconds, a 7B chunk seconds).
    if (!last) collectGarbage();
  }
  const prefillMs = performance.now() - t0;

  const history = [...ids];
  let stopped = false;
  while (logits) {
    if (input.recordLogits) stepLogits.push(Float32Array.from(logits));
    const token = pickToken(logits, history, input.sampling, random);
    firstTokenMs ??= performance.now() - t0;
    generated.push(token);
    history.push(token);
    stream.push(generated);
    if (input.eosIds.includes(token) || generated.length >= input.maxNewTokens) break;
    // Checked between tokens: a stop costs at most the step in flight.
    if (input.stop.interrupted) {
      stopped = true;
      break;
    }
    const out = await model.decode(await model.embed([token]), 1, cache, true);
    decoderSteps++;
    cachedSteps++;
    cache = out.cache;
    logits = out.lastLogits;
  }
  if (input.stop.interrupted) stopped = true;
  const text = stream.finish(generated);
  return {
    tokenIds: generated,
    text,
    stopped,
    cache,
    cacheIds: [...ids, ...generated.slice(0, cache.length - ids.length)],
    decoderSteps,
    cachedSteps,
    prefillMs,
    firstTokenMs,
    ...(input.recordLogits ? { stepLogits } : {}),
  };
}
