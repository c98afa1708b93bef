import { describe, expect, it } from 'vitest';
import type { ChatTurn } from '../../src/main/core/chat/chat-types';
import { dropOldestExchange, estimateTokens, trimTurns } from '../../src/main/core/chat/context-window';
import { groundingPrompt } from '../../src/main/core/chat/grounding';

const words = (t: string): number => t.split(' ').length;
const turns = (n: number): ChatTurn[] => Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', text: `t${i} a b c d e f g h i` }));

describe('trimTurns', () => {
  it('keeps everything that fits', () => {
    const r = trimTurns('sys', turns(5), { contextTokens: 1000, maxNewTokens: 100, imageTokens: 100, perTurnOverhead: 2 }, words);
    expect(r).toEqual({ turns: turns(5), dropped: 0 });
  });

  it('drops the oldest question-and-answer pairs first and never starts on an answer', () => {
    // each turn costs 10 words + 2 overhead = 12; budget after system/image/answer/overhead = 60 - 1 - 2 = 57 → 4 turns
    const r = trimTurns('sys', turns(7), { contextTokens: 100, maxNewTokens: 20, imageTokens: 20, perTurnOverhead: 2 }, words);
    expect(r.dropped).toBe(4);
    expect(r.turns[0]!.role).toBe('user');
    expect(r.turns.at(-1)!.text).toBe('t6 a b c d e f g h i');
  });

  it('keeps the newest question even when it alone is over budget', () => {
    const r = trimTurns('sys', turns(5), { contextTokens: 30, maxNewTokens: 20, imageTokens: 20, perTurnOverhead: 2 }, words);
    expect(r.turns).toHaveLength(1);
    expect(r.dropped).toBe(4);
  });

  it('estimates engine tokens from characters', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('x'.repeat(35))).toBe(10);
  });
});

describe('dropOldestExchange', () => {
  const t = (role: 'user' | 'assistant', text: string): ChatTurn => ({ role, text });
  it('drops a question with its answer, never leaves an answer first, and keeps the last turn', () => {
    const turns = [t('user', 'q1'), t('assistant', 'a1'), t('user', 'q2'), t('assistant', 'a2'), t('user', 'q3')];
    expect(dropOldestExchange(turns)?.map((x) => x.text)).toEqual(['q2', 'a2', 'q3']);
    expect(dropOldestExchange(turns.slice(2))?.map((x) => x.text)).toEqual(['q3']);
    expect(dropOldestExchange([t('user', 'q3')])).toBeNull();
    // Two answers in a row (a stopped answer, then another): both go with the question before them.
    expect(dropOldestExchange([t('user', 'q1'), t('assistant', 'a1'), t('assistant', 'a1b'), t('user', 'q2')])?.map((x) => x.text)).toEqual(['q2']);
  });
});

describe('groundingPrompt', () => {
  it('names the caption and its author, lists BLIP answers, and asks LLaVA to stay consistent', () => {
    const p = groundingPrompt({
      caption: 'a dog on a couch',
      captionSource: 'model:blip-base',
      answers: [{ question: 'how many dogs?', answer: 'two', model: 'model:blip-vqa-base' }],
      takenAt: '2019-07-04T10:00:00',
    });
    expect(p).toContain('Caption (by BLIP, a captioning model): "a dog on a couch"');
    expect(p).toContain('- Q: how many dogs? A: two');
    expect(p).toContain('- Taken: 2019-07-04T10:00:00');
    expect(p).toMatch(/Stay consistent with these facts/);
  });

  it("credits the user's own caption, and keeps only the newest answers", () => {
    const answers = Array.from({ length: 15 }, (_, i) => ({ question: `q${i}`, answer: `a${i}`, model: 'model:blip-vqa-base' }));
    const p = groundingPrompt({ caption: 'Grandma at the lake', captionSource: 'user', answers });
    expect(p).toContain('Caption (by the user)');
    expect(p).not.toContain('q4 A');
    expect(p).toContain('Q: q14 A: a14');
  });

  it('says nothing about facts when there are none', () => {
    expect(groundingPrompt({ caption: null, captionSource: null, answers: [] })).not.toContain('Facts');
  });
});
