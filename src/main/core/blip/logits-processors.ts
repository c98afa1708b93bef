/**
 * The logits processors Tandem's generation applies, with transformers' rules (generation/logits_process.py)
 * and in its order: repetition penalty, no-repeat n-gram, minimum length. Each edits one row in place;
 * `sequence` is the whole row so far (prompt included), as transformers passes input_ids.
 */

export interface ProcessorSettings {
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  minLength: number;
  eosTokenId: number;
}

/** RepetitionPenaltyLogitsProcessor: every token already in the row: score < 0 → ·penalty, else ÷penalty. */
export function applyRepetitionPenalty(scores: Float32Array, sequence: readonly number[], penalty: number): void {
  if (penalty === 1) return;
  const seen = new Set(sequence);
  for (const t of seen) {
    const s = scores[t] as number;
    scores[t] = s < 0 ? s * penalty : s / penalty;
  }
}

/** NoRepeatNGramLogitsProcessor: ban tokens that would repeat an n-gram already in the row. */
export function applyNoRepeatNgram(scores: Float32Array, sequence: readonly number[], n: number): void {
  if (n <= 0 || sequence.length + 1 < n) return;
  const prefixStart = sequence.length - (n - 1);
  for (let i = 0; i + n <= sequence.length; i++) {
    let match = true;
    for (let j = 0; j < n - 1; j++) {
      if (sequence[i + j] !== sequence[prefixStart + j]) {
        match = false;
        break;
      }
    }
    if (match) scores[sequence[i + n - 1] as number] = -Infinity;
  }
}

/** MinLengthLogitsProcessor: no eos while the row (prompt included) is shorter than minLength. */
export function applyMinLength(scores: Float32Array, sequenceLength: number, minLength: number, eosTokenId: number): void {
  if (sequenceLength < minLength) scores[eosTokenId] = -Infinity;
}

export function applyProcessors(scores: Float32Array, sequence: readonly number[], s: ProcessorSettings): void {
  applyRepetitionPenalty(scores, sequence, s.repetitionPenalty);
  applyNoRepeatNgram(scores, sequence, s.noRepeatNgramSize);
  applyMinLength(scores, sequence.length, s.minLength, s.eosTokenId);
}

/** log_softmax in float32 results, computed stably as x − max − log Σ exp(x − max). */
export function logSoftmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if ((logits[i] as number) > max) max = logits[i] as number;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  const lse = Math.log(sum);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = (logits[i] as number) - max - lse;
  return out;
}

/** First index of the maximum, like torch.argmax. */
export function argmax(scores: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}
