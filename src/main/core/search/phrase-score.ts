import type { Db } from '../store/database';

/**
 * bm25() of a search that is one phrase ("a man driving", or one exact word), computed in JS from the
 * matched photos' indexed text, to the bit: the same formula, the same doubles in the same order, and the
 * IDF's logarithm taken by SQLite's ln() (the same C log() as FTS5's bm25). It exists for speed: a narrow
 * phrase whose words are all common ("a woman standing": 4,300 of a million photos, but "a" is in nearly
 * all of them) costs one full phrase walk to count its matches, and bm25 then walks it twice more (its
 * IDF pass and the ranking pass) and reads each match's row size: 28 ms at 1M. The count walk already
 * has the matches and the phrase's document count, so only each match's text is read (one lookup per row).
 *
 * It answers only what it can answer exactly, and null otherwise (the caller then asks bm25): the phrase's
 * words and every text column of every matched row must be ASCII, where unicode61's tokens are simply runs
 * of [A-Za-z0-9] folded to lowercase, and every row must hold the phrase in a text column.
 */

/** The words of a MATCH expression that is one quoted phrase of ASCII words, else null. */
export function singlePhrase(match: string): string[] | null {
  const m = /^"([a-z0-9]+(?: [a-z0-9]+)*)"$/.exec(match);
  return m ? m[1]!.split(' ') : null;
}

/** Rows and tokens of the whole index, as FTS5 keeps them for bm25 (the "averages" record, rowid 1 of %_data). */
export interface IndexTotals {
  rows: number;
  tokens: number;
}

/** SQLite's varint (as FTS5 writes it): big-endian 7 bits a byte, the ninth byte whole. */
function varint(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  for (let k = 0; k < 8; k++) {
    const c = b[at + k];
    if (c === undefined) return [Number.NaN, b.length];
    v = v * 128 + (c & 0x7f);
    if (c < 0x80) return [v, at + k + 1];
  }
  const last = b[at + 8];
  return last === undefined ? [Number.NaN, b.length] : [v * 256 + last, at + 9];
}

/** The totals bm25 reads (xRowCount, xColumnTotalSize(-1)); null when the record is missing or odd. */
export function readIndexTotals(db: Db, table: string, columns: number): IndexTotals | null {
  const block = db.prepare(`SELECT block FROM "${table}_data" WHERE id = 1`).pluck().get() as Uint8Array | undefined;
  if (!block || block.length === 0) return null;
  const [rows, first] = varint(block, 0);
  let at = first;
  let tokens = 0;
  for (let c = 0; c < columns && at < block.length; c++) {
    const [n, next] = varint(block, at);
    tokens += n;
    at = next;
  }
  if (!Number.isSafeInteger(rows) || rows <= 0 || !Number.isSafeInteger(tokens)) return null;
  return { rows, tokens };
}

/** unicode61's ASCII token characters: [0-9A-Za-z]. */
function isTokenChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** Does the token text[start, end) fold (A-Z to a-z, as unicode61) to `word`? */
function tokenIs(text: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    const c = text.charCodeAt(start + i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== word.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * One pass over an ASCII text as unicode61 tokenizes it: returns its token count (-1 when the text is not
 * ASCII) and adds to `hits[0]` every token position where the phrase `words` starts (overlapping ones too,
 * as FTS5 lists instances). `starts`/`ends` hold the last words.length tokens (a ring, no allocation).
 */
function scan(text: string, words: string[] | null, starts: Int32Array, ends: Int32Array, hits: number[]): number {
  const k = words ? words.length : 0;
  let n = 0;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    if (c >= 128) return -1;
    if (isTokenChar(c)) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    // A token ends at i.
    if (k > 0) {
      starts[n % k] = start;
      ends[n % k] = i;
      if (n + 1 >= k && tokenIs(text, start, i, words![k - 1]!)) {
        let j = 0;
        while (j < k - 1 && tokenIs(text, starts[(n + 1 - k + j) % k]!, ends[(n + 1 - k + j) % k]!, words![j]!)) j++;
        if (j === k - 1) hits[0]!++;
      }
    }
    n++;
    start = -1;
  }
  return n;
}

/**
 * Every match ranked as `ORDER BY bm25(table, ...weights), rowid DESC` ranks it, with bm25's values.
 * `ids`: every photo the query matches; `hits`: how many rows of the whole index hold the phrase in the text
 * columns (bm25's IDF counts them all, missing photos too); `textColumns`: the columns the phrase is matched
 * in (the first ones); `weights`: one per column of the table, as passed to bm25.
 */
export function scorePhrase(
  db: Db,
  table: string,
  words: string[],
  ids: number[],
  hits: number,
  totals: IndexTotals,
  weights: number[],
  textColumns: number,
): { id: number; rank: number }[] | null {
  const columns = weights.length;
  const cols = Array.from({ length: columns }, (_, i) => `c${i}`).join(', ');
  const rows = db
    .prepare(`SELECT id, ${cols} FROM "${table}_content" WHERE id IN (SELECT value FROM json_each(?))`)
    .raw()
    .all(JSON.stringify(ids)) as unknown[][];
  if (rows.length !== ids.length) return null;
  // fts5Bm25GetData: IDF = log((N - nHit + 0.5) / (nHit + 0.5)), at least 1e-6; avgdl = tokens / rows.
  let idf = db.prepare('SELECT ln(?)').pluck().get((totals.rows - hits + 0.5) / (hits + 0.5)) as number | null;
  if (typeof idf !== 'number' || Number.isNaN(idf)) return null;
  if (idf <= 0.0) idf = 1e-6;
  const avgdl = totals.tokens / totals.rows;
  const k1 = 1.2;
  const b = 0.75;
  const out: { id: number; rank: number }[] = [];
  const starts = new Int32Array(words.length);
  const ends = new Int32Array(words.length);
  const found = [0];
  for (const row of rows) {
    let size = 0; // xColumnSize(-1): the row's tokens in every column
    let freq = 0; // aFreq: each instance of the phrase adds its column's weight, in FTS5's order (column, offset)
    let instances = 0;
    for (let c = 0; c < columns; c++) {
      const value = row[c + 1];
      if (value !== null && typeof value !== 'string') return null; // a number or blob: SQLite's text of it, not JS's
      const text = value ?? '';
      found[0] = 0;
      const tokens = scan(text, c < textColumns ? words : null, starts, ends, found);
      if (tokens < 0) return null;
      size += tokens;
      const n = found[0]!;
      for (let i = 0; i < n; i++) freq += weights[c]!;
      instances += n;
    }
    if (instances === 0) return null; // the row matched, so FTS5 saw the phrase: these tokens are not FTS5's
    // fts5Bm25Function, term for term; the excluded phrase (NOT facets : smissing) adds idf × 0 = 0.
    const D = size;
    const score = 0.0 + idf * ((freq * (k1 + 1.0)) / (freq + k1 * (1 - b + (b * D) / avgdl)));
    out.push({ id: row[0] as number, rank: -1.0 * score });
  }
  out.sort((x, y) => x.rank - y.rank || y.id - x.id);
  return out;
}
