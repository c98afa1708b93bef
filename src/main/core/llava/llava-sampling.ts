/**
 * Picking the next token from the decoder's logits with transformers' processors and order: repetition
 * penalty, then (sampling only) temperature, top-k, top-p, and a draw from the softmax.
 */
import type { SamplingSettings } from '../chat/chat-types';
import { applyRepetitionPenalty, argmax } from '../blip/logits-processors';

export interface LlavaSampling extends SamplingSettings {
  /** Plain argmax whatever the temperature says (the deterministic mode). */
  greedy?: boolean;
  /** 0 or absent: no top-k cut. */
  topK?: number;
  /** 1 or absent: no penalty. */
  repetitionPenalty?: number;
  /** Seeds the draw, so a sampled answer can be replayed. */
  seed?: number;
}

/** mulberry32: small, fast, and good enough for drawing tokens. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function isGreedy(s: LlavaSampling): boolean {
  return s.greedy === true || s.temperature <= 0;
}

/**
 * Indices of the smallest set of most likely tokens whose mass reaches `topP` (at least one), most likely
 * first. Sorting 150 000 logits every token would cost more than the decoder step, so only tokens above a
 * threshold are sorted; the threshold halves until they alone hold the mass, which makes the cut exact
 * (every token below it comes after all of them in sorted order).
 */
function nucleus(probs: Float32Array, topP: number, maxProb: number): number[] {
  for (let threshold = maxProb / 256; ; threshold /= 16) {
    const candidates: number[] = [];
    let mass = 0;
    for (let i = 0; i < probs.length; i++) {
      const p = probs[i]!;
      if (p >= threshold && p > 0) {
        candidates.push(i);
        mass += p;
      }
    }
    if (mass >= topP || threshold < 1e-30) {
      candidates.sort((a, b) => probs[b]! - probs[a]! || a - b);
      const kept: number[] = [];
      let acc = 0;
      for (const i of candidates) {
        kept.push(i);
        acc += probs[i]!;
        if (acc >= topP) break;
      }
      return kept;
    }
  }
}

/** The k largest, ties to the lower index; -Infinity elsewhere. */
function applyTopK(scores: Float32Array, k: number): void {
  if (k <= 0 || k >= scores.length) return;
  const sorted = Float32Array.from(scores).sort();
  const kth = sorted[sorted.length - k]!;
  let above = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > kth) above++;
  let ties = k - above;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v > kth) continue;
    if (v === kth && ties > 0) {
      ties--;
      continue;
    }
    scores[i] = -Infinity;
  }
}

/**
 * The next token. `logits` is not modified; `history` is every id so far (prompt and answer), which the
 * repetition penalty looks at, as transformers' does.
 */
export function pickToken(logits: Float32Array, history: readonly number[], s: LlavaSampling, random: () => number): number {
  const scores = Float32Array.from(logits);
  applyRepetitionPenalty(scores, history, s.repetitionPenalty ?? 1);
  if (isGreedy(s)) return argmax(scores);
  for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / s.temperature;
  applyTopK(scores, s.topK ?? 0);
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  let sum = 0;
  const probs = new Float32Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp(scores[i]! - max);
    probs[i] = e;
    sum += e;
  }
  for (let i = 0; i < probs.length; i++) probs[i] = probs[i]! / sum;
  const pool = s.topP < 1 ? nucleus(probs, s.topP, 1 / sum) : null;
  if (pool) {
    let mass = 0;
    for (const i of pool) mass += probs[i]!;
    let r = random() * mass;
    for (const i of pool) {
      r -= probs[i]!;
      if (r <= 0) return i;
    }
    return pool[pool.length - 1]!;
  }
  let r = random();
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i]!;
    if (r <= 0 && probs[i]! > 0) return i;
  }
  return argmax(probs);
}
