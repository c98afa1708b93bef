/**
 * Issue 14's search and browse shortcuts must answer exactly what the plain SQL answers: facet tokens
 * instead of a join, photo_counts instead of count(*), the newest-first window, one-letter words.
 * A synthetic library (the bench's generator, 4,000 photos) is checked against reference queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSyntheticLibrary } from '../../bench/support/synthetic-library';
import { PhotoStore } from '../../src/main/core/library/photo-store';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { highlightText } from '../../src/main/core/search/highlight';
import { dateRangeTokens, facetMatch, facetTokens } from '../../src/main/core/search/search-facets';
import { rebuildSearchIndex, refreshSearchRow } from '../../src/main/core/search/search-index';
import { BM25_WEIGHTS, filterClauses, listQuery, SEARCH_WINDOW, SearchService } from '../../src/main/core/search/search-service';
import { expandPrefix, MAX_COMPLETIONS } from '../../src/main/core/search/search-terms';
import { openDatabase, type Db } from '../../src/main/core/store/database';
import type { PhotoFilters, PhotoSort } from '../../src/shared/api';

let db: Db;
let search: SearchService;
const ROWS = 4000;

beforeAll(() => {
  db = openDatabase(':memory:');
  buildSyntheticLibrary(db, { rows: ROWS });
  search = new SearchService(db);
});
afterAll(() => db?.close());

/** What the filters and words mean, in plain SQL over photos (missing photos are not text-searchable). */
function reference(text: string, filters: PhotoFilters): number[] {
  const match = parseSearchQuery(text).match!;
  const w = filterClauses(filters);
  const sql = `SELECT p.id FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid
    WHERE photo_fts MATCH @match AND ${w.sql.join(' AND ')} ORDER BY p.id`;
  return (db.prepare(sql).pluck().all({ ...w.params, match: `{caption tags chat file_name folder} : (${match})` }) as number[]);
}

function found(text: string, filters: PhotoFilters): number[] {
  const r = search.search(text, filters, 0, SEARCH_WINDOW);
  return r.items.map((i) => i.id).sort((a, b) => a - b);
}

describe('search at scale', () => {
  it('finds with facet tokens exactly what the SQL filters find', () => {
    const folders = db.prepare("SELECT DISTINCT folder FROM photos WHERE folder != '' ORDER BY folder LIMIT 40").pluck().all() as string[];
    const years = [...new Set(folders.map((f) => f.split('/')[0]!))];
    const cases: [string, PhotoFilters][] = [
      ['dog', {}],
      ['man', { folder: years[0]! }],
      ['a', { folder: folders[3]! }],
      ['table', { takenFrom: '2008-03-17', takenTo: '2012-02-03' }],
      ['on', { takenFrom: '2010-01-01', takenTo: '2010-12-31' }],
      ['img', { takenFrom: '2010-05-01' }],
      ['white', { captioned: 'yes' }],
      ['jpg', { captioned: 'no', folder: years[1]! }],
      ['a', { status: ['broken', 'unsupported'] }],
      ['sitting', { problems: true }],
      ['"sitting on"', { rootId: 1 }],
      ['dog OR cat -couch', { takenFrom: '2005-01-01', takenTo: '2019-06-30' }],
    ];
    for (const [text, filters] of cases) {
      const want = reference(text, filters);
      expect(want.length, `${text} ${JSON.stringify(filters)} should be a case under the window`).toBeLessThanOrEqual(SEARCH_WINDOW);
      expect(found(text, filters), `${text} ${JSON.stringify(filters)}`).toEqual(want);
      expect(search.search(text, filters, 0, 10).total).toBe(want.length);
    }
  });

  it('covers a date range with years, months and days, exactly', () => {
    const t = dateRangeTokens('2009-11-29', '2012-01-02');
    expect(t).toEqual(['t20091129', 't20091130', 'm200912', 'y2010', 'y2011', 't20120101', 't20120102']);
    expect(dateRangeTokens('2012-02-01', '2012-02-29')).toEqual(['m201202']);
    expect(dateRangeTokens('2012-03-05', '2012-03-01')).toEqual([]);
    expect(facetTokens({ root_id: 2, folder: 'a/b', taken_at: '2010-05-17T10:00:00', caption_text: null, status: 'ok' })).toBe(
      `r2 d${Buffer.from('a').toString('hex')} d${Buffer.from('a/b').toString('hex')} c0 y2010 m201005 t20100517 sok`,
    );
  });

  it('keeps words out of the facets and the facets out of words', () => {
    const id = db.prepare("SELECT id FROM photos WHERE status = 'ok' ORDER BY id LIMIT 1").pluck().get() as number;
    const tokens = facetTokens(db.prepare('SELECT * FROM photos WHERE id = ?').get(id) as Parameters<typeof facetTokens>[0]);
    expect(search.search(tokens.split(' ')[0]!, {}, 0, 10).total).toBe(0); // "r1" is not a word of any photo
  });

  it('counts from photo_counts what count(*) counts, through inserts, updates and deletes', () => {
    const check = () => {
      const want = db
        .prepare(
          `SELECT root_id, folder, status, caption_text IS NOT NULL AS captioned, count(*) AS n FROM photos
           GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
        )
        .all();
      const got = db.prepare('SELECT root_id, folder, status, captioned, n FROM photo_counts WHERE n > 0 ORDER BY 1, 2, 3, 4').all();
      expect(got).toEqual(want);
    };
    check();
    db.transaction(() => {
      db.prepare("UPDATE photos SET caption_text = 'a new caption', caption_source = 'user' WHERE id % 7 = 0").run();
      db.prepare("UPDATE photos SET status = 'missing' WHERE id % 11 = 0").run();
      db.prepare("UPDATE photos SET folder = 'moved/here' WHERE id % 13 = 0").run();
      db.prepare("UPDATE photos SET taken_at = '1999-01-01T00:00:00' WHERE id % 17 = 0").run();
      db.prepare('DELETE FROM photos WHERE id % 19 = 0').run();
      for (const id of db.prepare('SELECT id FROM photos WHERE id % 7 = 0 OR id % 13 = 0 OR id % 17 = 0').pluck().all() as number[]) {
        refreshSearchRow(db, id);
      }
    })();
    check();
    const span = db.prepare("SELECT min(first_key) AS lo FROM photo_counts WHERE n > 0").get() as { lo: string };
    expect(span.lo).toBe('1999-01-01T00:00:00');
    // Browsing agrees with the plain count for every filter photo_counts answers.
    for (const f of [{}, { folder: 'moved' }, { captioned: 'yes' as const }, { status: ['missing' as const] }, { rootId: 1, captioned: 'no' as const }]) {
      const w = filterClauses(f);
      const n = (db.prepare(`SELECT count(*) AS n FROM photos p WHERE ${w.sql.join(' AND ')}`).get(w.params) as { n: number }).n;
      expect(search.list(f, 'taken', 0, 10).total, JSON.stringify(f)).toBe(n);
    }
    const visible = db.prepare("SELECT count(*) FROM photos WHERE status != 'missing'").pluck().get();
    expect(new PhotoStore(db).listRoots()[0]!.photoCount).toBe(visible);
    // A photo gone missing (a bare UPDATE, as the indexer does it) had its status token rewritten by the
    // trigger: hidden by default, found when missing photos are asked for.
    const gone = db.prepare("SELECT id FROM photos WHERE status = 'missing' AND id % 11 = 0 LIMIT 1").pluck().get() as number;
    expect(db.prepare('SELECT facets FROM photo_fts WHERE rowid = ?').pluck().get(gone)).toMatch(/ smissing$/);
    for (const f of [{ folder: 'moved' }, { status: ['missing' as const] }, { status: ['missing' as const, 'ok' as const] }, {}]) {
      expect(found('a', f), JSON.stringify(f)).toEqual(reference('a', f));
    }
  });

  it('pages a big folder and a date range in date order, as the plain sort does', () => {
    const year = (db.prepare("SELECT folder FROM photos WHERE folder GLOB '[0-9][0-9][0-9][0-9]/*' LIMIT 1").pluck().get() as string).slice(0, 4);
    for (const f of [{ folder: year }, { takenFrom: '2008-01-01', takenTo: '2014-12-31' }]) {
      const w = filterClauses(f);
      const want = db
        .prepare(
          `SELECT p.id FROM photos p WHERE ${w.sql.join(' AND ')}
           ORDER BY coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch')) DESC, p.id DESC LIMIT 50 OFFSET 20`,
        )
        .pluck()
        .all(w.params);
      expect(search.list(f, 'taken', 20, 50).items.map((i) => i.id), JSON.stringify(f)).toEqual(want);
    }
  });

  it('pages from rows it has served (forward and backward) exactly as OFFSET pages, and forgets them after a write', () => {
    const plain = (f: PhotoFilters, sort: PhotoSort, offset: number, limit: number) => {
      const q = listQuery(f, sort);
      return (db.prepare(q.pageSql).all({ ...q.params, limit, offset }) as { id: number }[]).map((r) => r.id);
    };
    const s = new SearchService(db);
    let seeks = 0;
    const prepare = db.prepare.bind(db);
    (db as { prepare: unknown }).prepare = (sql: string) => {
      if (sql.includes('@markId')) seeks++;
      return prepare(sql);
    };
    try {
      for (const sort of ['taken', 'name', 'added'] as PhotoSort[]) {
        for (const f of [{}, { captioned: 'yes' as const }]) {
          for (const offset of [2500, 2600, 2400, 2800, 2050, 2049, 3300, 3200]) {
            expect(s.list(f, sort, offset, 100).items.map((i) => i.id), `${sort} ${JSON.stringify(f)} @${offset}`).toEqual(plain(f, sort, offset, 100));
          }
        }
      }
      expect(seeks).toBeGreaterThan(30);
      // A far page with no mark near it, in a fresh list of the whole library: counted in the sort index alone.
      for (const sort of ['taken', 'name', 'added'] as PhotoSort[]) {
        const fresh = new SearchService(db);
        expect(fresh.list({}, sort, 3100, 100).items.map((i) => i.id), `deep ${sort}`).toEqual(plain({}, sort, 3100, 100));
        expect(listQuery({}, sort, { deep: true }).pageSql).toContain("NOT IN (SELECT id FROM photos WHERE status = 'missing')");
      }
      // A write moves rows: three photos from further down become the newest, so every row above them moves
      // down by three and the marks of the list before the write point at the wrong positions.
      const moved = s.list({}, 'taken', 3000, 3).items.map((i) => i.id);
      s.list({}, 'taken', 2600, 100);
      db.prepare("UPDATE photos SET taken_at = '2099-01-01T00:00:00' WHERE id IN (?, ?, ?)").run(...moved);
      for (const offset of [2700, 2500, 2600]) expect(s.list({}, 'taken', offset, 100).items.map((i) => i.id), `after a write @${offset}`).toEqual(plain({}, 'taken', offset, 100));
    } finally {
      (db as { prepare: unknown }).prepare = prepare;
    }
  });

  it('pages through a search from what its first page found, exactly as fresh searches page, until a write', () => {
    const kept = new SearchService(db);
    const fresh = new SearchService(db, { keepSearches: false });
    let walks = 0;
    const prepare = db.prepare.bind(db);
    (db as { prepare: unknown }).prepare = (sql: string) => {
      // The first pass's walk (rankWithin's probe of the words alone is another statement); a one-phrase
      // search ("table" is one word) walks the phrase alone with a bound of its own (scorePhrases).
      const phraseWalk = sql.includes('MATCH @match LIMIT @limit');
      if (sql.includes('SELECT photo_fts.rowid FROM photo_fts') && (sql.includes(`LIMIT ${SEARCH_WINDOW + 1}`) || phraseWalk)) walks++;
      return prepare(sql);
    };
    try {
      const cases: [string, PhotoFilters][] = [['table', {}], ['"sitting on"', {}], ['dog', { captioned: 'yes' }], ['jpg', {}], ['white', { takenFrom: '2010-05-01' }]];
      for (const [text, filters] of cases) {
        walks = 0;
        for (const offset of [0, 40, 80, 0, 120]) {
          const a = kept.search(text, filters, offset, 40);
          const b = fresh.search(text, filters, offset, 40);
          expect(a.items.map((i) => [i.id, i.rank, i.highlight]), `${text} @${offset}`).toEqual(b.items.map((i) => [i.id, i.rank, i.highlight]));
          expect(a.total).toBe(b.total);
          expect(a.notice).toBe(b.notice);
        }
        expect(walks, text).toBe(5 + 1); // five fresh searches, and the kept one's first page only
      }
      // A write changes what matches: the kept results are forgotten.
      const before = kept.search('table', {}, 40, 40);
      const id = before.items[0]!.id;
      db.transaction(() => {
        db.prepare("UPDATE photos SET caption_text = 'a horse in a field', caption_source = 'user' WHERE id = ?").run(id);
        refreshSearchRow(db, id);
      })();
      const after = kept.search('table', {}, 40, 40);
      expect(after.items.map((i) => i.id)).toEqual(fresh.search('table', {}, 40, 40).items.map((i) => i.id));
      expect(after.items.map((i) => i.id)).not.toContain(id);
    } finally {
      (db as { prepare: unknown }).prepare = prepare;
    }
  });

  it('caps a broad search at the window, newest first, and says so', () => {
    const big = openDatabase(':memory:');
    try {
      buildSyntheticLibrary(big, { rows: SEARCH_WINDOW + 1500 });
      const s = new SearchService(big);
      const r = s.search('jpg', {}, 0, 100);
      expect(r.total).toBe(SEARCH_WINDOW);
      expect(r.notice).toMatch(/More than 5,000 photos match/);
      const ids = r.items.map((i) => i.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(ids[0]).toBe(big.prepare("SELECT max(id) FROM photos WHERE status != 'missing'").pluck().get());
      // Pages of the window are the newest matches, in order, up to the window's end and no further.
      const newest = big
        .prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH '{caption tags chat file_name folder} : "jpg"* NOT facets : smissing' ORDER BY rowid DESC LIMIT ${SEARCH_WINDOW}`)
        .pluck()
        .all() as number[];
      expect(s.search('jpg', {}, 300, 100).items.map((i) => i.id)).toEqual(newest.slice(300, 400));
      const last = s.search('jpg', {}, SEARCH_WINDOW - 40, 100);
      expect(last.total).toBe(SEARCH_WINDOW);
      expect(last.items.map((i) => i.id)).toEqual(newest.slice(SEARCH_WINDOW - 40));
      expect(s.search('jpg', {}, SEARCH_WINDOW, 100).items).toEqual([]);
      // A narrow search in the same library is ranked, and counted exactly.
      const narrow = s.search('jpg', { folder: big.prepare("SELECT folder FROM photos WHERE folder != '' LIMIT 1").pluck().get() as string }, 0, 5000);
      expect(narrow.total).toBeLessThan(SEARCH_WINDOW);
      expect(narrow.items.length).toBe(narrow.total);
      expect(narrow.notice).toBeNull();
      // The bulk rebuild (what the generator used) writes the same rows as the per-photo upkeep.
      const rowsNow = () => big.prepare('SELECT rowid, caption, tags, chat, file_name, folder, facets FROM photo_fts ORDER BY rowid').all();
      const bulk = rowsNow();
      big.transaction(() => {
        for (const id of big.prepare('SELECT id FROM photos').pluck().all() as number[]) refreshSearchRow(big, id);
      })();
      expect(rowsNow()).toEqual(bulk);
      big.transaction(() => rebuildSearchIndex(big))();
      expect(rowsNow()).toEqual(bulk);
    } finally {
      big.close();
    }
  });

  it('highlights the caption exactly as FTS5 highlight() does', () => {
    const queries = ['man', 'sitting', 'a', 'white table', '"sitting on a"', 'dog OR cat', 'wom -beach', '"a man" sitting', 'on on', 'ta'];
    let compared = 0;
    for (const text of queries) {
      const parsed = parseSearchQuery(text);
      const rows = db
        .prepare(
          `SELECT rowid, caption, highlight(photo_fts, 0, char(1), char(2)) AS hl FROM photo_fts
           WHERE photo_fts MATCH ? AND caption != '' ORDER BY rowid DESC LIMIT 200`,
        )
        .all(`{caption tags chat file_name folder} : (${parsed.match})`) as { rowid: number; caption: string; hl: string }[];
      for (const r of rows) expect(highlightText(r.caption, parsed.phrases), `${text} #${r.rowid}`).toBe(r.hl);
      compared += rows.length;
    }
    expect(compared).toBeGreaterThan(1000);
    // Case, diacritics and odd punctuation, against FTS5 on a table of its own.
    const t = openDatabase(':memory:');
    t.exec("CREATE VIRTUAL TABLE t USING fts5(c, tokenize = 'unicode61 remove_diacritics 2')");
    const texts = ['Café CAFÉ cafe—latte, naïve Éclair', 'Ёлка и ёжик: ЁЛКА', 'x-ray_photo #42 of 42nd st.', 'Morning coffee in Paris'];
    for (const c of texts) t.prepare('INSERT INTO t (c) VALUES (?)').run(c);
    for (const text of ['cafe', 'éclair', 'ёлка', 'ray', '42', '"coffee in paris"', 'morning coffee', 'naive']) {
      const parsed = parseSearchQuery(text);
      for (const r of t.prepare("SELECT c, highlight(t, 0, char(1), char(2)) AS hl FROM t WHERE t MATCH ?").all(parsed.match) as { c: string; hl: string }[]) {
        expect(highlightText(r.c, parsed.phrases), text).toBe(r.hl);
      }
    }
    t.close();
  });

  it('finds through whole words exactly what a long prefix finds, filters and exclusions included', () => {
    const cases: [string, PhotoFilters][] = [
      ['sitting', {}],
      ['sitt', {}],
      ['lighth', {}],
      ['cozy lighthou', {}],
      ['wooden table', { takenFrom: '2008-03-17', takenTo: '2012-02-03' }],
      ['standi', { captioned: 'yes' }],
      ['white OR lighthouse -sittin', {}],
      ['"sitting on" tabl', {}],
      ['dscf0', { captioned: 'no' }],
      ['nosuchword', {}],
    ];
    const unexpanded = new SearchService(db, { expandPrefixes: false });
    for (const [text, filters] of cases) {
      const want = reference(text, filters); // the FTS5 prefix query, unexpanded
      expect(found(text, filters), `${text} ${JSON.stringify(filters)}`).toEqual(want);
      expect(search.search(text, filters, 0, 10).total, text).toBe(unexpanded.search(text, filters, 0, 10).total);
    }
    expect(expandPrefix(db, 'sitting')).toEqual(['sitting']);
    expect(expandPrefix(db, 'sitt')).toBeNull(); // a prefix index serves 2–4 letters lazily
    expect(expandPrefix(db, 'dscf0')).toBeNull(); // thousands of file names: left to FTS5
    expect(expandPrefix(db, 'nosuchword')).toEqual([]);
    const many = db.prepare("SELECT count(*) FROM search_terms WHERE term >= 'dscf0' AND term < 'dscf1'").pluck().get() as number;
    expect(many).toBeGreaterThan(MAX_COMPLETIONS);
  });

  it('ranks a filtered search from its words exactly as bm25 ranks the whole match', () => {
    const unexpanded = new SearchService(db, { expandPrefixes: false, rankByWords: false });
    // Words matching more photos than this are ranked by the whole query (the facets included): same answer.
    const fullQuery = new SearchService(db, { rankWithinWords: 10 });
    let compared = 0;
    const cases: [string, PhotoFilters][] = [
      ['mountain', { captioned: 'yes' }],
      ['table', { takenFrom: '2008-03-17', takenTo: '2012-02-03' }],
      ['"sitting on"', { captioned: 'yes', rootId: 1 }],
      ['jpg', { captioned: 'no' }],
      ['a', { captioned: 'yes' }],
      ['white OR wooden -table', { takenFrom: '2006-01-01', takenTo: '2016-12-31' }],
      ['dog', { folder: '2010' }],
    ];
    for (const [text, filters] of cases) {
      const f = facetMatch(filters);
      const match = `{caption tags chat file_name folder} : (${parseSearchQuery(text).match}) AND facets : (${f.expr})${f.exclude ? ` NOT facets : ${f.exclude}` : ''}`;
      const want = db
        .prepare(`SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts WHERE photo_fts MATCH ? ORDER BY rank, rowid DESC LIMIT 30 OFFSET 5`)
        .all(match)
        // Earlier tests deleted photos under the index: both rank those rows, neither shows them.
        .filter((w) => db.prepare('SELECT 1 FROM photos WHERE id = ?').get((w as { id: number }).id)) as { id: number; rank: number }[];
      const r = search.search(text, filters, 5, 30);
      if (r.total >= SEARCH_WINDOW || want.length === 0) continue;
      compared++;
      expect(r.items.map((i) => [i.id, i.rank]), `${text} ${JSON.stringify(filters)}`).toEqual(want.map((w) => [w.id, w.rank]));
      expect(fullQuery.search(text, filters, 5, 30).items.map((i) => [i.id, i.rank]), text).toEqual(want.map((w) => [w.id, w.rank]));
      expect(unexpanded.search(text, filters, 5, 30).items.map((i) => i.id), text).toEqual(want.map((w) => w.id));
    }
    expect(compared).toBeGreaterThanOrEqual(5);
    // Filters the facet tokens cannot say (one bound of a date range, "needs attention") are checked on photos;
    // the words still rank only the photos that passed them.
    for (const [text, filters] of [['table', { takenFrom: '2010-05-01' }], ['sitting', { problems: true }], ['a', { takenTo: '2012-06-30' }]] as [string, PhotoFilters][]) {
      const want = reference(text, filters);
      if (want.length === 0 || want.length > SEARCH_WINDOW) continue;
      const ranked = db
        .prepare(`SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts WHERE photo_fts MATCH ? ORDER BY rank, rowid DESC`)
        .all(`{caption tags chat file_name folder} : (${parseSearchQuery(text).match})`) as { id: number; rank: number }[];
      const keep = new Set(want);
      const r = search.search(text, filters, 0, 50);
      expect(r.total, text).toBe(want.length);
      expect(r.items.map((i) => [i.id, i.rank]), `${text} ${JSON.stringify(filters)}`).toEqual(ranked.filter((x) => keep.has(x.id)).slice(0, 50).map((x) => [x.id, x.rank]));
    }
  });

  it('keeps search_terms holding every word of the text columns, through edits, in any script', () => {
    const ids = db.prepare("SELECT id FROM photos WHERE status = 'ok' ORDER BY id DESC LIMIT 3").pluck().all() as number[];
    const texts = ['A tablecloth-pattern on the Tablecloths', 'Ταβέρνα στη θάλασσα, café-crème naïveté', 'x_ray42 ĳssel ﬁsh Straße'];
    db.transaction(() => {
      ids.forEach((id, i) => db.prepare("UPDATE photos SET caption_text = ?, caption_source = 'user' WHERE id = ?").run(texts[i], id));
      for (const id of ids) refreshSearchRow(db, id);
    })();
    // Every word FTS5 itself indexes outside the facets is in search_terms, spelled as FTS5 spells it.
    db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.check_words USING fts5vocab(main, photo_fts, 'col')");
    const missing = db
      .prepare("SELECT DISTINCT term FROM temp.check_words WHERE col != 'facets' AND term NOT IN (SELECT term FROM search_terms)")
      .pluck()
      .all();
    expect(missing).toEqual([]);
    for (const [text, id] of [['tablecl', ids[0]], ['θάλασσ', ids[1]], ['naivet', ids[1]], ['ray42', ids[2]]] as const) {
      const hits = search.search(text, {}, 0, 50).items.map((i) => i.id);
      expect(hits, text).toEqual(reference(text, {}).sort((a, b) => b - a).filter((x) => hits.includes(x)));
      expect(found(text, {}), text).toEqual(reference(text, {}));
      if (id !== undefined) expect(hits, text).toContain(id);
    }
    expect(expandPrefix(db, 'tablecl')).toEqual(['tablecloth', 'tablecloths']);
    // A library upgraded to migration 6 has an empty search_terms: the first open fills it from the index,
    // with exactly the words FTS5 holds (the upkeep above may also keep words no photo holds any more).
    const kept = new Set(db.prepare('SELECT term FROM search_terms').pluck().all());
    db.prepare('DELETE FROM search_terms').run();
    new SearchService(db);
    const filled = db.prepare('SELECT term FROM search_terms ORDER BY term').pluck().all();
    expect(filled).toEqual(db.prepare("SELECT DISTINCT term FROM temp.check_words WHERE col != 'facets' ORDER BY term").pluck().all());
    expect(filled.filter((t) => !kept.has(t))).toEqual([]);
    // The service's highlight of an expanded prefix is the prefix's highlight.
    const hit = search.search('tablecl', {}, 0, 10).items.find((i) => i.id === ids[0])!;
    expect(hit.highlight).toBe('A \u0001tablecloth\u0002-pattern on the \u0001Tablecloths\u0002');
  });

  it('reads one letter as a whole word, not a prefix', () => {
    expect(parseSearchQuery('d').match).toBe('"d"');
    expect(parseSearchQuery('dog c').match).toBe('"dog"* AND "c"');
    expect(parseSearchQuery('"a dog"').match).toBe('"a dog"');
    expect(search.search('a', {}, 0, 10).total).toBeGreaterThan(0); // "a" is a word of most captions
  });
});
