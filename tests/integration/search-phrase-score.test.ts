/**
 * scorePhrases (phrase-score.ts) ranks an unfiltered one-phrase search in JS from its matches' text instead of
 * bm25's walks. It must answer exactly what bm25 answers: the same rows, order, ranks (to the bit), totals,
 * notices and highlights, on every page, with missing photos (excluded, but counted by bm25's IDF), phrases
 * in other columns, repeated and overlapping phrases, and text it cannot tokenize (non-ASCII: bm25 ranks it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSyntheticLibrary } from '../../bench/support/synthetic-library';
import { readIndexTotals, scorePhrase, singlePhrase } from '../../src/main/core/search/phrase-score';
import { refreshSearchRow } from '../../src/main/core/search/search-index';
import { BM25_WEIGHTS, SEARCH_WINDOW, SearchService } from '../../src/main/core/search/search-service';
import { openDatabase, type Db } from '../../src/main/core/store/database';
import type { PhotoFilters, SearchResult } from '../../src/shared/api';

let db: Db;

/** Counts the statements prepared while `fn` runs that contain each of `needles`. */
function counting<T>(needles: string[], fn: () => T): { result: T; counts: number[] } {
  const counts = needles.map(() => 0);
  const prepare = db.prepare.bind(db);
  (db as { prepare: unknown }).prepare = (sql: string) => {
    needles.forEach((n, i) => {
      if (sql.includes(n)) counts[i]!++;
    });
    return prepare(sql);
  };
  try {
    return { result: fn(), counts };
  } finally {
    (db as { prepare: unknown }).prepare = prepare;
  }
}

const shape = (r: SearchResult) => ({
  total: r.total,
  notice: r.notice,
  items: r.items.map((i) => [i.id, i.rank, i.highlight]),
});

function setText(id: number, caption: string, fileName?: string, folder?: string): void {
  db.transaction(() => {
    db.prepare("UPDATE photos SET caption_text = ?, caption_source = 'user' WHERE id = ?").run(caption, id);
    if (fileName) db.prepare('UPDATE photos SET file_name = ? WHERE id = ?').run(fileName, id);
    if (folder) db.prepare('UPDATE photos SET folder = ? WHERE id = ?').run(folder, id);
    refreshSearchRow(db, id);
  })();
}

beforeAll(() => {
  db = openDatabase(':memory:');
  buildSyntheticLibrary(db, { rows: 4000 });
  // Phrases where bm25 counts more than one instance or another column, and a missing photo holding one.
  setText(11, 'a dog on a couch and a dog on a couch again');
  setText(12, 'A DOG ON A COUCH', 'a_dog_on_a_couch.jpg', 'Dogs/a dog on a couch');
  setText(13, 'a a a a', 'a-a.jpg');
  setText(14, 'zebra crossing; zebra-crossing, ZEBRA crossing');
  setText(15, 'zebra crossing');
  db.transaction(() => {
    db.prepare("INSERT INTO photo_tags (photo_id, tag) VALUES (15, 'zebra crossing'), (16, 'zebra'), (16, 'crossing')").run();
    refreshSearchRow(db, 15);
    refreshSearchRow(db, 16);
  })();
  setText(17, 'zebra crossing at night');
  db.prepare("UPDATE photos SET status = 'missing' WHERE id = 17").run();
});
afterAll(() => db?.close());

describe('scorePhrases', () => {
  it('pages through one-phrase searches exactly as bm25 ranks them', () => {
    const js = new SearchService(db, { scorePhrases: 'always' });
    const jsFresh = new SearchService(db, { scorePhrases: 'always', keepSearches: false });
    const auto = new SearchService(db, { keepSearches: false });
    const bm25 = new SearchService(db, { scorePhrases: false, keepSearches: false });
    const queries = ['"a dog on a couch"', '"zebra crossing"', '"a a"', '"sitting on a"', '"white table"', '"a man"', '"on"', '"nosuchword here"', '"Sitting   ON"'];
    let scored = 0;
    for (const q of queries) {
      for (const [offset, limit] of [[0, 40], [40, 40], [0, 200], [120, 40], [SEARCH_WINDOW - 10, 40]] as const) {
        const want = shape(bm25.search(q, {}, offset, limit));
        const { result, counts } = counting(['bm25('], () => js.search(q, {}, offset, limit));
        expect(shape(result), `${q} @${offset}`).toEqual(want);
        expect(shape(jsFresh.search(q, {}, offset, limit)), `${q} @${offset} fresh`).toEqual(want);
        expect(shape(auto.search(q, {}, offset, limit)), `${q} @${offset} auto`).toEqual(want);
        if (want.total > 0 && want.total < SEARCH_WINDOW && offset < want.total) {
          expect(counts[0], `${q} @${offset}: no bm25 statement`).toBe(0);
          scored++;
        }
      }
    }
    expect(scored).toBeGreaterThan(15);
  });

  it('scores every match of a phrase as bm25() does, to the bit, counting missing photos in the IDF', () => {
    const text = '{caption tags chat file_name folder}';
    const totals = readIndexTotals(db, 'photo_fts', 6)!;
    expect(totals.rows).toBe(db.prepare('SELECT count(*) FROM photo_fts').pluck().get());
    for (const phrase of ['zebra crossing', 'a dog on a couch', 'a a', 'sitting on a', 'table']) {
      const match = `(${text} : ("${phrase}")) NOT facets : smissing`;
      const want = db
        .prepare(`SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts WHERE photo_fts MATCH ? ORDER BY rank, rowid DESC`)
        .all(match) as { id: number; rank: number }[];
      const ids = want.map((w) => w.id).sort((a, b) => a - b);
      const hits = db.prepare('SELECT count(*) FROM photo_fts WHERE photo_fts MATCH ?').pluck().get(`${text} : ("${phrase}")`) as number;
      const got = scorePhrase(db, 'photo_fts', singlePhrase(`"${phrase}"`)!, ids, hits, totals, BM25_WEIGHTS.split(',').map(Number), 5)!;
      expect(got.length, phrase).toBe(want.length);
      got.forEach((g, i) => {
        expect(g.id, `${phrase} #${i}`).toBe(want[i]!.id);
        expect(Object.is(g.rank, want[i]!.rank), `${phrase} #${i}: ${g.rank} vs ${want[i]!.rank}`).toBe(true);
      });
    }
    // The missing photo holds the phrase: bm25 counts it (hits), the search does not show it.
    expect(bm25Ids('"zebra crossing"')).not.toContain(17);
  });

  it('leaves to bm25 what it cannot tokenize as FTS5 does, filtered searches, and searches inside a transaction', () => {
    setText(18, 'zebra crossing in Zürich');
    const js = new SearchService(db, { scorePhrases: 'always', keepSearches: false });
    const bm25 = new SearchService(db, { scorePhrases: false, keepSearches: false });
    const { result, counts } = counting(['bm25(', '_content'], () => js.search('"zebra crossing"', {}, 0, 50));
    expect(shape(result)).toEqual(shape(bm25.search('"zebra crossing"', {}, 0, 50)));
    expect(counts).toEqual([1, 1]); // read the text, found "ü", ranked by bm25
    const filters: PhotoFilters[] = [{ captioned: 'yes' }, { takenFrom: '2010-01-01' }, { status: ['ok', 'missing'] }, { status: ['ok', 'broken', 'unsupported', 'missing'] }];
    for (const f of filters) expect(shape(js.search('"sitting on a"', f, 0, 60)), JSON.stringify(f)).toEqual(shape(bm25.search('"sitting on a"', f, 0, 60)));
    db.transaction(() => {
      db.prepare("UPDATE photos SET caption_text = 'zebra crossing zebra crossing', caption_source = 'user' WHERE id = 19").run();
      refreshSearchRow(db, 19);
      const inside = counting(['_content'], () => js.search('"zebra crossing"', {}, 0, 50));
      expect(shape(inside.result)).toEqual(shape(bm25.search('"zebra crossing"', {}, 0, 50)));
      expect(inside.counts[0]).toBe(0);
      expect(inside.result.items.map((i) => i.id)).toContain(19);
    })();
    setText(18, 'zebra crossing in Zurich');
    expect(shape(js.search('"zebra crossing"', {}, 0, 50))).toEqual(shape(bm25.search('"zebra crossing"', {}, 0, 50)));
  });

  it('walks a broad phrase to the same window when missing photos crowd its first rows', () => {
    const big = openDatabase(':memory:');
    const saved = db;
    db = big;
    try {
      buildSyntheticLibrary(big, { rows: 14_000 });
      const phrase = '"a"'; // one word: a one-word phrase
      const ids = big.prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH '{caption tags chat file_name folder} : ("a")' ORDER BY rowid LIMIT 3500`).pluck().all() as number[];
      expect(ids.length).toBe(3500);
      // Missing photos: every match among the first 3,500, more than the walk's slack (twice their share of 5,001).
      big.prepare(`UPDATE photos SET status = 'missing' WHERE id IN (SELECT value FROM json_each(?))`).run(JSON.stringify(ids));
      const js = new SearchService(big, { scorePhrases: 'always', keepSearches: false });
      const bm25 = new SearchService(big, { scorePhrases: false, keepSearches: false });
      for (const offset of [0, 200, SEARCH_WINDOW - 100]) {
        const { result, counts } = counting(['@after'], () => js.search(phrase, {}, offset, 200));
        expect(counts[0], 'went on from its last row').toBeGreaterThan(0);
        const want = bm25.search(phrase, {}, offset, 200);
        expect(shape(result), `@${offset}`).toEqual(shape(want));
        expect(want.total).toBe(SEARCH_WINDOW);
        expect(want.notice).toContain('More than');
      }
    } finally {
      db = saved;
      big.close();
    }
  });
});

function bm25Ids(q: string): number[] {
  return new SearchService(db, { scorePhrases: false }).search(q, {}, 0, 500).items.map((i) => i.id);
}
