import { describe, expect, it } from 'vitest';
import type { GenerationSettings, StepModel } from '../../src/main/core/blip/generate';
import { beamSearch, generate, greedySearch } from '../../src/main/core/blip/generate';
import { applyMinLength, applyNoRepeatNgram, applyRepetitionPenalty, logSoftmax } from '../../src/main/core/blip/logits-processors';
import { SeededRandom } from '../../test-models/seeded-random';

const EOS = 1;
const BOS = 2;
const V = 8;

/** A fake decoder whose next-token logits depend on the whole row so far. */
class TableModel implements StepModel {
  rows: number[][] = [];
  steps = 0;
  constructor(
    private readonly logitsFor: (row: readonly number[]) => number[],
    initialRows = 1,
  ) {
    this.rows = Array.from({ length: initialRows }, () => []);
  }
  async step(tokens: readonly (readonly number[])[]): Promise<Float32Array[]> {
    expect(tokens.length).toBe(this.rows.length);
    this.steps++;
    return tokens.map((t, r) => {
      this.rows[r]!.push(...t);
      return Float32Array.from(this.logitsFor(this.rows[r]!));
    });
  }
  selectRows(rows: readonly number[]): void {
    this.rows = rows.map((r) => [...this.rows[r]!]);
  }
}

const base: GenerationSettings = {
  maxLength: 20,
  minLength: 0,
  numBeams: 1,
  lengthPenalty: 1,
  earlyStopping: false,
  repetitionPenalty: 1,
  noRepeatNgramSize: 0,
  eosTokenId: EOS,
  padTokenId: 0,
};

/** logits = log p for a probability table keyed by the row's last token (or the whole row). */
function fromProbs(table: Record<string, Record<number, number>>): (row: readonly number[]) => number[] {
  return (row) => {
    const p = table[row.join(',')] ?? table[String(row[row.length - 1])] ?? { [EOS]: 1 };
    return Array.from({ length: V }, (_, t) => Math.log(p[t] ?? 1e-9));
  };
}

/** A random but fixed Markov chain over the last token. */
function randomChain(seed: number, eosBias = 0): (row: readonly number[]) => number[] {
  const rng = new SeededRandom(seed);
  const table = Array.from({ length: V }, () => Array.from({ length: V }, (_, t) => rng.normal() * 2 + (t === EOS ? eosBias : 0)));
  return (row) => {
    const last = row[row.length - 1]!;
    // depend a little on the length too, so rows differ over time
    return table[last]!.map((v, t) => v + 0.3 * Math.sin(row.length * (t + 1)));
  };
}

describe('logits processors follow transformers', () => {
  it('repetition penalty divides positive and multiplies negative scores of seen tokens', () => {
    const s = Float32Array.from([2, -1, 3, 4]);
    applyRepetitionPenalty(s, [0, 1, 1], 2);
    expect(Array.from(s)).toEqual([1, -2, 3, 4]);
  });

  it('no-repeat n-gram bans the token completing a repeated n-gram', () => {
    const s = new Float32Array(6);
    applyNoRepeatNgram(s, [2, 3, 4, 2, 3], 3); // "2 3 4" seen; row ends "2 3" → ban 4
    expect(s[4]).toBe(-Infinity);
    expect(Array.from(s).filter((v) => v === -Infinity)).toHaveLength(1);
  });

  it('min length masks eos while the row (prompt included) is shorter', () => {
    const s = new Float32Array(3);
    applyMinLength(s, 2, 3, EOS);
    expect(s[EOS]).toBe(-Infinity);
    const t = new Float32Array(3);
    applyMinLength(t, 3, 3, EOS);
    expect(t[EOS]).toBe(0);
  });

  it('logSoftmax is normalised', () => {
    const l = logSoftmax(Float32Array.from([1, 2, 3, 1000]));
    expect(Math.exp(l[3]!)).toBeCloseTo(1, 6);
    expect(Array.from(l).reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 6);
  });
});

describe('greedy search', () => {
  it('max_length counts bos and prompt; at least one token is generated', async () => {
    const never = (): number[] => Array.from({ length: V }, (_, t) => (t === 5 ? 1 : 0));
    const [a] = await greedySearch(new TableModel(never), [[BOS]], { ...base, maxLength: 5 });
    expect(a!.tokenIds).toEqual([BOS, 5, 5, 5, 5]);
    const [b] = await greedySearch(new TableModel(never), [[BOS, 3, 4]], { ...base, maxLength: 2 });
    expect(b!.tokenIds).toEqual([BOS, 3, 4, 5]);
  });

  it('stops at eos, keeps it, and min_length delays it', async () => {
    const f = fromProbs({ [BOS]: { 3: 0.4, [EOS]: 0.6 }, 3: { [EOS]: 0.9, 4: 0.1 }, 4: { [EOS]: 1 } });
    expect((await greedySearch(new TableModel(f), [[BOS]], base))[0]!.tokenIds).toEqual([BOS, EOS]);
    expect((await greedySearch(new TableModel(f), [[BOS]], { ...base, minLength: 3 }))[0]!.tokenIds).toEqual([BOS, 3, 4, EOS]);
  });

  it('repetition penalty applies to raw logits', async () => {
    // after "3", token 3 has logit 2 and token 4 logit 1.5: penalty 2 makes 3 → 1.0, so 4 wins.
    const f = (row: readonly number[]): number[] => {
      if (row.length === 1) return Array.from({ length: V }, (_, t) => (t === 3 ? 5 : 0));
      if (row.length === 2) return Array.from({ length: V }, (_, t) => (t === 3 ? 2 : t === 4 ? 1.5 : 0));
      return Array.from({ length: V }, (_, t) => (t === EOS ? 9 : 0));
    };
    expect((await greedySearch(new TableModel(f), [[BOS]], base))[0]!.tokenIds).toEqual([BOS, 3, 3, EOS]);
    expect((await greedySearch(new TableModel(f), [[BOS]], { ...base, repetitionPenalty: 2 }))[0]!.tokenIds).toEqual([BOS, 3, 4, EOS]);
  });

  it('a batch gives the same rows as single runs, and finished rows leave the batch', async () => {
    const f = randomChain(5, 1.5);
    const prompts = [[BOS, 7], [BOS, 3], [BOS, 4], [BOS, 6]];
    const model = new TableModel(f, 4);
    const batch = await greedySearch(model, prompts, base, { recordLogits: true });
    for (let i = 0; i < prompts.length; i++) {
      const single = await greedySearch(new TableModel(f), [prompts[i]!], { ...base }, { recordLogits: true });
      expect(batch[i]!.tokenIds).toEqual(single[0]!.tokenIds);
      expect(batch[i]!.stepLogits).toEqual(single[0]!.stepLogits);
    }
    expect(new Set(prompts.map((_, i) => batch[i]!.tokenIds.length)).size).toBeGreaterThan(1);
  });

  it('rejects mixed prompt lengths', async () => {
    await expect(greedySearch(new TableModel(randomChain(1), 2), [[BOS], [BOS, 3]], base)).rejects.toThrow(/same length/);
  });

  it('cancellation between steps rejects with the abort reason', async () => {
    const ac = new AbortController();
    const model = new TableModel(() => Array.from({ length: V }, (_, t) => (t === 5 ? 1 : 0)));
    const orig = model.step.bind(model);
    model.step = async (t) => {
      const r = await orig(t);
      if (model.steps === 3) ac.abort(new Error('stop now'));
      return r;
    };
    await expect(greedySearch(model, [[BOS]], base, { signal: ac.signal })).rejects.toThrow('stop now');
    expect(model.steps).toBe(3);
  });
});

describe('beam search', () => {
  it('finds the sequence greedy misses (classic example)', async () => {
    // greedy: A(.6) then best .4 → .24; beam: B(.4) then F(.9) → .36
    const A = 3;
    const B = 4;
    const E = 5;
    const F = 6;
    const table = {
      [BOS]: { [A]: 0.6, [B]: 0.4 },
      [`${BOS},${A}`]: { 7: 0.3, [E]: 0.4, 0: 0.3 },
      [`${BOS},${B}`]: { [F]: 0.9, 7: 0.1 },
      [E]: { [EOS]: 1 },
      [F]: { [EOS]: 1 },
    };
    const greedy = await generate(new TableModel(fromProbs(table)), [[BOS]], base);
    expect(greedy[0]!.tokenIds).toEqual([BOS, A, E, EOS]);
    const beam = await generate(new TableModel(fromProbs(table)), [[BOS]], { ...base, numBeams: 2 });
    expect(beam[0]!.tokenIds).toEqual([BOS, B, F, EOS]);
    // score = Σ log p / generated length (3 tokens incl. eos) ^ length_penalty
    expect(beam[0]!.score).toBeCloseTo((Math.log(0.4) + Math.log(0.9) + Math.log(1)) / 3, 5);
  });

  it('length_penalty decides between a short and a long hypothesis', async () => {
    const table = {
      [BOS]: { [EOS]: 0.5, 3: 0.5 },
      3: { 4: 0.95, [EOS]: 0.05 },
      4: { 5: 0.95, [EOS]: 0.05 },
      5: { [EOS]: 1 },
    };
    const short = await beamSearch(new TableModel(fromProbs(table)), [[BOS]], { ...base, numBeams: 2, lengthPenalty: 0 });
    expect(short[0]!.tokenIds).toEqual([BOS, EOS]);
    const long = await beamSearch(new TableModel(fromProbs(table)), [[BOS]], { ...base, numBeams: 2, lengthPenalty: 2 });
    expect(long[0]!.tokenIds).toEqual([BOS, 3, 4, 5, EOS]);
  });

  it('one beam gives greedy’s tokens', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const f = randomChain(seed, 1);
      const g = await greedySearch(new TableModel(f), [[BOS]], base);
      const b = await beamSearch(new TableModel(f), [[BOS]], { ...base, numBeams: 1 });
      expect(b[0]!.tokenIds).toEqual(g[0]!.tokenIds);
    }
  });

  it('a batch of prompts gives the same hypotheses as single runs', async () => {
    const f = randomChain(11, 0.5);
    const prompts = [[BOS, 3], [BOS, 5], [BOS, 7]];
    const s = { ...base, numBeams: 3, maxLength: 9 };
    const batch = await beamSearch(new TableModel(f, 3), prompts, s);
    for (let i = 0; i < prompts.length; i++) {
      const single = await beamSearch(new TableModel(f), [prompts[i]!], s);
      expect(batch[i]).toEqual(single[0]);
    }
  });

  it('early_stopping=true stops as soon as numBeams hypotheses are finished', async () => {
    const f = randomChain(21, 2);
    const lazy = new TableModel(f);
    const eager = new TableModel(f);
    await beamSearch(lazy, [[BOS]], { ...base, numBeams: 3, earlyStopping: 'never', maxLength: 12 });
    await beamSearch(eager, [[BOS]], { ...base, numBeams: 3, earlyStopping: true, maxLength: 12 });
    expect(eager.steps).toBeLessThanOrEqual(lazy.steps);
  });

  it('reaching max_length finishes every beam', async () => {
    const f = (): number[] => Array.from({ length: V }, (_, t) => (t === EOS ? -50 : t));
    const out = await beamSearch(new TableModel(f), [[BOS]], { ...base, numBeams: 2, maxLength: 4 });
    expect(out[0]!.tokenIds).toHaveLength(4);
  });
});
