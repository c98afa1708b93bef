import type { ParsedQuery } from './fts-query';

/**
 * FTS5's highlight() for the caption, computed in JS from the parsed query: the same tokens (unicode61:
 * letters, digits, private use and nonspacing marks; case and diacritics folded), the same instances (each
 * searched phrase, a prefix phrase matching any token that starts with it), overlapping instances merged
 * into one span and adjacent ones kept apart, as fts5_aux.c does. highlight() needs a MATCH cursor on the
 * page's rows, which re-reads every posting list of the query (again): for a long prefix such as
 * "sitting" at a million photos that is a merge of 300k postings per statement.
 * tests/integration/search-scale.test.ts checks it against FTS5's own output.
 */
const TOKEN = /[\p{L}\p{N}\p{Co}\p{Mn}]+/gu;

export function foldToken(token: string): string {
  return token.normalize('NFD').replace(/\p{Mn}/gu, '').toLowerCase();
}

export function highlightText(text: string, phrases: ParsedQuery['phrases'], open = '\u0001', close = '\u0002'): string {
  const tokens = [...text.matchAll(TOKEN)].map((m) => ({ start: m.index, end: m.index + m[0].length, folded: foldToken(m[0]) }));
  const wanted = phrases.map((p) => ({ words: p.words.map(foldToken), prefix: p.prefix }));
  // Instances as [first token, last token], in token order.
  const spans: [number, number][] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (const p of wanted) {
      const n = p.words.length;
      if (n === 0 || i + n > tokens.length) continue;
      let ok = true;
      for (let k = 0; k < n && ok; k++) {
        const t = tokens[i + k]!.folded;
        const w = p.words[k]!;
        ok = k === n - 1 && p.prefix ? t.startsWith(w) : t === w;
      }
      if (ok) spans.push([i, i + n - 1]);
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else merged.push([s[0], s[1]]);
  }
  let out = '';
  let at = 0;
  for (const [a, b] of merged) {
    out += text.slice(at, tokens[a]!.start) + open + text.slice(tokens[a]!.start, tokens[b]!.end) + close;
    at = tokens[b]!.end;
  }
  return out + text.slice(at);
}
