import type { Db } from '../store/database';

/**
 * The words of the searchable text (search_terms, migration 6), so a long prefix can be searched as its
 * few whole words. FTS5 walks a whole word lazily, newest first, and stops at the search window; a prefix
 * longer than its prefix indexes (2–4 letters) is first merged into one posting list in full. At a million
 * photos "table"* took 12 ms and "table" 1 ms; "white"* AND "table"* 26 ms, "white" AND "table" 6 ms.
 *
 * The table only ever grows between rebuilds: a word no photo holds any more costs one empty OR branch.
 * Words come from FTS5 itself (fts5vocab after a rebuild, a scratch FTS5 table for non-ASCII text), so
 * they are spelled as the index spells them; pure-ASCII text is split in JS, where unicode61 is plain.
 */

/** The tokenizer of photo_fts (migration 5); the scratch table must fold text exactly as it does. */
const TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'";

/** Prefix lengths photo_fts keeps a prefix index for (migration 5: prefix = '2 3 4'): those stay prefixes. */
const INDEXED_PREFIX_MAX = 4;

/** A prefix with more whole words than this stays an FTS5 prefix ("dscf0*": thousands of file names). */
export const MAX_COMPLETIONS = 16;

const NON_ASCII = /[^\p{ASCII}]/u;
const ASCII_WORD = /[a-z0-9]+/g;
const scratchReady = new WeakSet<Db>();

/** Refills search_terms from photo_fts's own vocabulary, text columns only (after rebuildSearchIndex). */
export function fillSearchTerms(db: Db): void {
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.tandem_fts_words USING fts5vocab(main, photo_fts, 'col')`);
  db.prepare('DELETE FROM search_terms').run();
  db.prepare("INSERT OR IGNORE INTO search_terms (term) SELECT term FROM temp.tandem_fts_words WHERE col != 'facets'").run();
}

/** Adds the words of one photo's searchable text (inside refreshSearchRow's transaction). */
export function addSearchTerms(db: Db, texts: string[]): void {
  const words = new Set<string>();
  const other: string[] = [];
  for (const t of texts) {
    if (!NON_ASCII.test(t)) for (const w of t.toLowerCase().match(ASCII_WORD) ?? []) words.add(w);
    else other.push(t);
  }
  if (other.length > 0) for (const w of ftsWords(db, other.join('\n'))) words.add(w);
  if (words.size === 0) return;
  db.prepare('INSERT OR IGNORE INTO search_terms (term) SELECT value FROM json_each(?)').run(JSON.stringify([...words]));
}

/** Non-ASCII text tokenized by FTS5 itself, in a scratch table of this connection. */
function ftsWords(db: Db, text: string): string[] {
  if (!scratchReady.has(db)) {
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.tandem_tokenize USING fts5(t, ${TOKENIZE}, detail = none);
      CREATE VIRTUAL TABLE IF NOT EXISTS temp.tandem_tokenize_words USING fts5vocab(temp, tandem_tokenize, 'row');`);
    scratchReady.add(db);
  }
  db.prepare('INSERT INTO temp.tandem_tokenize (rowid, t) VALUES (1, ?)').run(text);
  const words = db.prepare('SELECT term FROM temp.tandem_tokenize_words').pluck().all() as string[];
  db.prepare('DELETE FROM temp.tandem_tokenize').run();
  return words;
}

/**
 * The whole words a typed prefix stands for, or null to keep it an FTS5 prefix: short prefixes (a prefix
 * index serves them lazily), non-ASCII ones (FTS5 folds them; the lookup would have to fold alike) and
 * ones with more than MAX_COMPLETIONS words. [] when no word starts so.
 */
export function expandPrefix(db: Db, prefix: string): string[] | null {
  if (prefix.length <= INDEXED_PREFIX_MAX || !/^[a-z0-9]+$/.test(prefix)) return null;
  // Terms are compared as UTF-8 bytes, i.e. by code point: every completion sorts below the next prefix.
  const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const words = db
    .prepare(`SELECT term FROM search_terms WHERE term >= ? AND term < ? LIMIT ${MAX_COMPLETIONS + 1}`)
    .pluck()
    .all(prefix, next) as string[];
  return words.length > MAX_COMPLETIONS ? null : words;
}
