import { describe, expect, it } from 'vitest';
import { keywordProblem, splitKeywords } from '../../src/renderer/lib/keyword-input';
import { MAX_KEYWORD_CHARS } from '../../src/shared/text-limits';

describe('tag editor input', () => {
  it('splits on commas and line breaks, trims, folds spaces and drops repeats ignoring case', () => {
    expect(splitKeywords('pony')).toEqual(['pony']);
    expect(splitKeywords(' a,  b c ,,A\nd ')).toEqual(['a', 'b c', 'd']);
    expect(splitKeywords(' , ')).toEqual([]);
    expect(splitKeywords('Places|France|Paris, Ёлка')).toEqual(['Places|France|Paris', 'Ёлка']);
  });

  it('explains an over-long keyword before asking the core', () => {
    expect(keywordProblem('x'.repeat(MAX_KEYWORD_CHARS))).toBeNull();
    expect(keywordProblem('x'.repeat(MAX_KEYWORD_CHARS + 1))).toMatch(/at most 100 characters/);
  });
});
