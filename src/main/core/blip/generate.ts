/**
 * Autoregressive generation owned by Tandem: greedy search and beam search with the semantics of
 * transformers' GenerationMixin (generation/utils.py `_sample` with do_sample=False and `_beam_search`):
 * `maxLength` counts the whole row including bos/prompt, processors see the whole row, greedy applies them
 * to raw logits and beam search to log-softmax scores.
 */
import type { ProcessorSettings } from './logits-processors';
import { applyProcessors, argmax, logSoftmax } from './logits-processors';

/**
 * A decoder with its cache. Rows are independent sequences (images × beams).
 */
export interface StepModel {
  /** Feeds new tokens (the same count for every row) and returns next-token logits per row. */
  step(tokens: readonly (readonly number[])[]): Promise<Float32Array[]>;
  /** Keeps these rows, in this order; a row may appear several times (beam expansion). */
  selectRows(rows: readonly number[]): void;
}

export interface GenerationSettings {
  maxLength: number;
  minLength: number;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  repetitionPenalty: number;
  noRepeatNgramSize: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface GenerationRunOptions {
  signal?: AbortSignal;
  /** keep the raw logits of every step (greedy only), for verification against a reference */
  recordLogits?: boolean;
}

export interface GeneratedSequence {
  /** the whole row: prompt, generated tokens, and eos when one was produced */
  tokenIds: number[];
  /** raw next-token logits at each generation step, when recorded */
  stepLogits?: Float32Array[];
  /** beam search: the finished hypothesis' length-normalised score */
  score?: number;
}

function processorSettings(s: GenerationSettings): ProcessorSettings {
  return { repetitionPenalty: s.repetitionPenalty, noRepeatNgramSize: s.noRepeatNgramSize, minLength: s.minLength, eosTokenId: s.eosTokenId };
}

function checkPrompts(prompts: readonly (readonly number[])[]): number {
  const len = prompts[0]?.length ?? 0;
  if (len === 0) throw new RangeError('generation needs at least one prompt token (bos) per row');
  if (prompts.some((p) => p.length !== len)) throw new RangeError('all prompts in a generation batch must have the same length');
  return len;
}

/** num_beams 1 → greedy, as transformers chooses. */
export function generate(
  model: StepModel,
  prompts: readonly (readonly number[])[],
  settings: GenerationSettings,
  options: GenerationRunOptions = {},
): Promise<GeneratedSequence[]> {
  return settings.numBeams > 1 ? beamSearch(model, prompts, settings, options) : greedySearch(model, prompts, settings, options);
}

/**
 * Greedy search. Finished rows are dropped from the model's batch (transformers keeps feeding them pad,
 * which cannot change the other rows).
 */
export async function greedySearch(
  model: StepModel,
  prompts: readonly (readonly number[])[],
  settings: GenerationSettings,
  options: GenerationRunOptions = {},
): Promise<GeneratedSequence[]> {
  checkPrompts(prompts);
  const proc = processorSettings(settings);
  const seqs = prompts.map((p) => [...p]);
  const logs: Float32Array[][] = prompts.map(() => []);
  let active = prompts.map((_, i) => i);
  let feed: number[][] = prompts.map((p) => [...p]);
  // At least one step even when the prompt already reaches maxLength, as transformers does.
  for (;;) {
    options.signal?.throwIfAborted();
    const logits = await model.step(feed);
    const keep: number[] = [];
    const nextActive: number[] = [];
    feed = [];
    for (let r = 0; r < active.length; r++) {
      const row = active[r] as number;
      const seq = seqs[row] as number[];
      const raw = logits[r] as Float32Array;
      if (options.recordLogits) (logs[row] as Float32Array[]).push(Float32Array.from(raw));
      const scores = Float32Array.from(raw);
      applyProcessors(scores, seq, proc);
      const token = argmax(scores);
      seq.push(token);
      if (token !== settings.eosTokenId && seq.length < settings.maxLength) {
        keep.push(r);
        nextActive.push(row);
        feed.push([token]);
      }
    }
    if (nextActive.length === 0) break;
    if (nextActive.length !== active.length) model.selectRows(keep);
    active = nextActive;
  }
  return seqs.map((tokenIds, i) => (options.recordLogits ? { tokenIds, stepLogits: logs[i] } : { tokenIds }));
}

interface Candidate {
  score: number;
  beam: number;
  token: number;
}

/** The k best of `scores` (desc), ties to the lower index, like torch.topk on CPU. */
function topK(scores: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i] as number;
    if (best.length === k && v <= (scores[best[k - 1] as number] as number)) continue;
    let pos = best.length;
    while (pos > 0 && (scores[best[pos - 1] as number] as number) < v) pos--;
    best.splice(pos, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/** Stable descending order of indices by value. */
function orderDesc(values: readonly number[]): number[] {
  return values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number) || a - b);
}

const NEG = -1.0e9;

/**
 * Beam search as transformers' vectorised `_beam_search`: per step, log-softmax → processors → add the beam's
 * running score; keep the top max(2, 1+#eos)·numBeams continuations; those hitting eos or maxLength among the
 * top numBeams become finished hypotheses scored sum / (generated length ^ lengthPenalty), the best numBeams
 * unfinished ones keep running; stop when no running beam can beat the finished ones (`earlyStopping`).
 */
export async function beamSearch(
  model: StepModel,
  prompts: readonly (readonly number[])[],
  settings: GenerationSettings,
  options: GenerationRunOptions = {},
): Promise<GeneratedSequence[]> {
  const promptLen = checkPrompts(prompts);
  const proc = processorSettings(settings);
  const nb = settings.numBeams;
  const batch = prompts.length;
  const keepK = 2 * nb; // max(2, 1 + one eos token) · numBeams
  const lp = settings.lengthPenalty;
  const early = settings.earlyStopping;

  // Running beams: first beam 0, the rest −1e9 so the first step only expands one copy of the prompt.
  let running: number[][][] = prompts.map((p) => Array.from({ length: nb }, () => [...p]));
  let runningScores: number[][] = prompts.map(() => Array.from({ length: nb }, (_, j) => (j === 0 ? 0 : NEG)));
  const finished: number[][][] = prompts.map((p) => Array.from({ length: nb }, () => [...p]));
  const finishedScores: number[][] = prompts.map(() => Array.from({ length: nb }, () => NEG));
  const isFinished: boolean[][] = prompts.map(() => Array.from({ length: nb }, () => false));
  const improvable: boolean[] = prompts.map(() => true);

  model.selectRows(Array.from({ length: batch * nb }, (_, r) => Math.floor(r / nb)));
  let feed: number[][] = running.flat().map((s) => [...s]);
  let curLen = promptLen;

  for (;;) {
    options.signal?.throwIfAborted();
    const logits = await model.step(feed);
    const nextRunning: number[][][] = [];
    const nextScores: number[][] = [];
    const sourceRows: number[] = [];
    let allHit = true;
    for (let b = 0; b < batch; b++) {
      // Accumulated scores for every (beam, token), flattened beam-major.
      const vocab = (logits[b * nb] as Float32Array).length;
      const acc = new Float32Array(nb * vocab);
      for (let j = 0; j < nb; j++) {
        const lpRow = logSoftmax(logits[b * nb + j] as Float32Array);
        applyProcessors(lpRow, running[b]![j]!, proc);
        const base = runningScores[b]![j]!;
        for (let t = 0; t < vocab; t++) acc[j * vocab + t] = (lpRow[t] as number) + base;
      }
      const cands: Candidate[] = topK(acc, keepK).map((idx) => ({ score: acc[idx] as number, beam: Math.floor(idx / vocab), token: idx % vocab }));
      const hits = cands.map((c) => c.token === settings.eosTokenId || curLen + 1 >= settings.maxLength);
      if (!hits.every(Boolean)) allHit = false;

      // Next running beams: the best numBeams candidates that did not stop.
      const runVals = cands.map((c, i) => Math.fround(c.score + (hits[i] ? NEG : 0)));
      const chosen = orderDesc(runVals).slice(0, nb);
      nextRunning.push(chosen.map((i) => [...running[b]![cands[i]!.beam]!, cands[i]!.token]));
      nextScores.push(chosen.map((i) => runVals[i] as number));
      for (const i of chosen) sourceRows.push(b * nb + cands[i]!.beam);

      // Finished hypotheses: merge the old ones with candidates that stopped within the top numBeams.
      const genLen = curLen + 1 - promptLen;
      const fullAndEarly = isFinished[b]!.every(Boolean) && early === true;
      const mergedSeqs: number[][] = [...finished[b]!];
      const mergedScores: number[] = [...finishedScores[b]!];
      const mergedDone: boolean[] = [...isFinished[b]!];
      cands.forEach((c, i) => {
        const justFinished = hits[i]! && i < nb;
        let s = Math.fround(c.score / genLen ** lp);
        if (fullAndEarly) s += NEG;
        if (!improvable[b]) s += NEG;
        if (!justFinished) s += NEG;
        mergedSeqs.push([...running[b]![c.beam]!, c.token]);
        mergedScores.push(Math.fround(s));
        mergedDone.push(justFinished);
      });
      const top = orderDesc(mergedScores).slice(0, nb);
      finished[b] = top.map((i) => mergedSeqs[i]!);
      finishedScores[b] = top.map((i) => mergedScores[i]!);
      isFinished[b] = top.map((i) => mergedDone[i]!);
    }
    running = nextRunning;
    runningScores = nextScores;
    curLen += 1;

    // Can any running beam still beat the worst finished one?
    for (let b = 0; b < batch; b++) {
      const bestLen = early === 'never' && lp > 0 ? settings.maxLength - promptLen : curLen - promptLen;
      const bestPossible = runningScores[b]![0]! / bestLen ** lp;
      const worst = Math.min(...finishedScores[b]!);
      const better = isFinished[b]!.some((done) => bestPossible > (done ? worst : NEG));
      improvable[b] = improvable[b]! && better;
    }
    const anyImprovable = improvable.some(Boolean);
    const allFull = isFinished.every((row) => row.every(Boolean)) && early === true;
    if (!anyImprovable || allFull || allHit) break;

    model.selectRows(sourceRows);
    feed = running.flat().map((s) => [s[s.length - 1] as number]);
  }

  return finished.map((rows, b) => ({ tokenIds: rows[0] as number[], score: finishedScores[b]![0] as number }));
}
