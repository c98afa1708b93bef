/** What the tag editor's text box holds, as keywords: commas separate them (typed or pasted "a, b, c"). */
import { MAX_KEYWORD_CHARS } from '../../shared/text-limits';

export function splitKeywords(typed: string): string[] {
  const out: string[] = [];
  for (const part of typed.split(/[,\n]/)) {
    const k = part.replace(/\s+/g, ' ').trim();
    if (k && !out.some((o) => o.toLocaleLowerCase() === k.toLocaleLowerCase())) out.push(k);
  }
  return out;
}

/** Why a keyword cannot be added, or null. The contract checks the same; this answers before the round trip. */
export function keywordProblem(keyword: string): string | null {
  return keyword.length > MAX_KEYWORD_CHARS ? `A keyword can be at most ${MAX_KEYWORD_CHARS} characters long.` : null;
}
