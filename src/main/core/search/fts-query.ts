import { MAX_QUERY_CHARS, MAX_QUERY_TERMS } from '../../../shared/text-limits';

/**
 * Turns what a person types into a safe FTS5 MATCH expression.
 * FTS5's own syntax throws on stray quotes, bare operators and punctuation, so user text is never
 * passed through: it is parsed into words, "quoted phrases", -excluded words and OR, and rebuilt.
 * Every word of two or more letters is a prefix query, so results appear while typing; a lone letter is a whole word.
 *
 * Runaway input is cut, not refused: only the first MAX_QUERY_CHARS characters are read and the first
 * MAX_QUERY_TERMS words (searched for or excluded) are kept, and the notice says so. Every extra term
 * is one more prefix scan of the index on the main thread (20,000 words took 1.8 s on 7 photos), while
 * the first 32 words already narrow any library down; refusing would leave a pasted paragraph with nothing.
 */
export interface ParsedQuery {
  /** The MATCH expression, or null when nothing searchable was typed. */
  match: string | null;
  /** Words that were searched for, for highlighting and empty states. */
  terms: string[];
  /** The phrases searched for (not the excluded ones), as FTS5 matches them: for highlighting in highlight.ts. */
  phrases: { words: string[]; prefix: boolean }[];
  /** A note when part of the input was ignored or reinterpreted. */
  notice: string | null;
}

type Clause = { kind: 'term'; words: string[]; phrase: boolean; negated: boolean } | { kind: 'or' };

// Same idea of a "word" as FTS5's unicode61 tokenizer: letters, digits and marks; everything else separates.
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

function words(text: string): string[] {
  return (text.match(WORD) ?? []).map((w) => w.toLowerCase());
}

function quote(word: string): string {
  return `"${word.replace(/"/g, '""')}"`;
}

/** Appends a clause, cut to the words left under MAX_QUERY_TERMS; false once the limit is reached. */
function pushTerm(clauses: Clause[], budget: { left: number }, ws: string[], phrase: boolean, negated: boolean): boolean {
  if (ws.length === 0) return true;
  const kept = ws.slice(0, budget.left);
  budget.left -= kept.length;
  if (kept.length > 0) clauses.push({ kind: 'term', words: kept, phrase, negated });
  return kept.length === ws.length;
}

/**
 * `expand` may name the whole words a prefix stands for (search-terms.ts); a prefix is then searched as
 * those words OR'd, which FTS5 walks lazily, or as the exact word when none starts so. It matches the
 * same photos; bm25 scores a prefix with several words as several phrases. null keeps the prefix.
 */
export function parseSearchQuery(input: string, expand?: (prefix: string) => string[] | null): ParsedQuery {
  const clauses: Clause[] = [];
  let notice: string | null = null;
  let sawOperator = false;
  const budget = { left: MAX_QUERY_TERMS };
  let cut = input.length > MAX_QUERY_CHARS;
  let i = 0;
  const s = (cut ? input.slice(0, MAX_QUERY_CHARS) : input).normalize('NFC');
  while (i < s.length) {
    const ch = s[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    let negated = false;
    let j = i;
    if (ch === '-' && j + 1 < s.length && !/\s/.test(s[j + 1]!)) {
      negated = true;
      j++;
    }
    if (s[j] === '"') {
      const end = s.indexOf('"', j + 1);
      if (end === -1) {
        notice = 'The closing quote is missing, so the words were searched for separately.';
        for (const w of words(s.slice(j + 1))) if (!pushTerm(clauses, budget, [w], false, negated)) cut = true;
        break;
      }
      if (!pushTerm(clauses, budget, words(s.slice(j + 1, end)), true, negated)) cut = true;
      i = end + 1;
      continue;
    }
    let end = j;
    while (end < s.length && !/\s/.test(s[end]!) && s[end] !== '"') end++;
    const token = s.slice(j, end);
    i = end;
    if (token === 'OR' && !negated) {
      sawOperator = true;
      clauses.push({ kind: 'or' });
      continue;
    }
    if ((token === 'AND' || token === 'NOT') && !negated) {
      sawOperator = true;
      continue;
    } // implicit AND; use -word to exclude
    for (const w of words(token)) if (!pushTerm(clauses, budget, [w], false, negated)) cut = true;
  }
  if (cut) {
    const limit = `Only the first ${MAX_QUERY_TERMS} words (and ${MAX_QUERY_CHARS} characters) of a search are used; the rest was ignored.`;
    notice = notice ? `${notice} ${limit}` : limit;
  }

  // Build: positive terms joined by AND, OR binding its neighbours; negated terms appended with NOT.
  const groups: string[][] = [];
  let pendingOr = false;
  const negatives: string[] = [];
  const terms: string[] = [];
  const phrases: ParsedQuery['phrases'] = [];
  for (const c of clauses) {
    if (c.kind === 'or') {
      pendingOr = groups.length > 0;
      continue;
    }
    // One letter is a whole word, not a prefix: "a*" is most of a library (700k rows of a million, 100+ ms
    // to rank) and means nothing yet, while "a", "x" or "2" as a word is cheap and sometimes meant.
    const w0 = c.words[0]!;
    const expr = c.phrase ? quote(c.words.join(' ')) : [...w0].length === 1 ? quote(w0) : prefixExpr(w0, expand);
    if (c.negated) {
      negatives.push(expr);
      continue;
    }
    terms.push(...c.words);
    phrases.push({ words: c.words, prefix: !c.phrase && [...w0].length > 1 });
    if (pendingOr && groups.length > 0) groups[groups.length - 1]!.push(expr);
    else groups.push([expr]);
    pendingOr = false;
  }
  if (groups.length === 0) {
    if (negatives.length > 0) notice = 'Add at least one word to look for; excluding words alone finds nothing.';
    else if (sawOperator) notice = `“${input.trim()}” holds only search operators (AND, OR, NOT); type the words to look for.`;
    else if (input.trim() !== '') notice = `Nothing searchable in “${input.trim()}”: type words, letters or numbers.`;
    return { match: null, terms: [], phrases: [], notice };
  }
  const positive = groups.map((g) => (g.length > 1 ? `(${g.join(' OR ')})` : g[0]!)).join(' AND ');
  const wrapped = groups.length === 1 && groups[0]!.length > 1 ? positive : `(${positive})`;
  const match = negatives.length > 0 ? `${wrapped} NOT (${negatives.join(' OR ')})` : positive;
  return { match, terms, phrases, notice };
}

function prefixExpr(word: string, expand: ((prefix: string) => string[] | null) | undefined): string {
  const words = expand?.(word) ?? null;
  if (words === null) return `${quote(word)}*`;
  if (words.length <= 1) return quote(words[0] ?? word);
  return `(${words.map(quote).join(' OR ')})`;
}
