import { SUMMARY_COLUMNS } from '../../src/main/core/library/photo-store';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { filterClauses, SearchService } from '../../src/main/core/search/search-service';
import type { Db } from '../../src/main/core/store/database';
import type { Sample } from '../search';
import { pct, table } from './format';
import type { BenchQuery } from './search-queries';
import { summarize } from './stats';

/** Same weights as search-service.ts (not exported there); the what-ifs must rank exactly as the service does. */
const BM25_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0';

type SearchQuery = Extract<BenchQuery, { op: 'search' }>;
type ListQuery = Extract<BenchQuery, { op: 'list' }>;

function searchParts(q: SearchQuery): { where: string; params: Record<string, unknown> } | null {
  const parsed = parseSearchQuery(q.text);
  if (parsed.match === null) return null;
  const w = filterClauses(q.filters);
  return { where: ['photo_fts MATCH @match', ...w.sql].join(' AND '), params: { ...w.params, match: parsed.match } };
}

/** Candidate rewrites of SearchService.search, each returning the same rows (checked below) in less time. */
const searchVariants: Record<string, (db: Db, q: SearchQuery) => { total: number; ids: number[] }> = {
  /** What the service does today, restated, to check the restatement and to time fairly in the same loop. */
  'current (count + ranked page with highlight)': (db, q) => {
    const p = searchParts(q)!;
    const total = (db.prepare(`SELECT count(*) AS n FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${p.where}`).get(p.params) as { n: number }).n;
    const rows = db
      .prepare(
        `SELECT ${SUMMARY_COLUMNS}, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank, highlight(photo_fts, 0, char(1), char(2)) AS hl
         FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid JOIN roots r ON r.id = p.root_id
         WHERE ${p.where} ORDER BY rank, p.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...p.params, limit: q.limit, offset: q.offset }) as { id: number }[];
    return { total, ids: rows.map((r) => r.id) };
  },
  /** highlight() is evaluated for every match before the sort; here only rank is, and 200 captions are marked after. */
  'rank first, highlight only the page': (db, q) => {
    const p = searchParts(q)!;
    const total = (db.prepare(`SELECT count(*) AS n FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${p.where}`).get(p.params) as { n: number }).n;
    const ids = db
      .prepare(
        `SELECT p.id FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid
         WHERE ${p.where} ORDER BY bm25(photo_fts, ${BM25_WEIGHTS}), p.id DESC LIMIT @limit OFFSET @offset`,
      )
      .pluck()
      .all({ ...p.params, limit: q.limit, offset: q.offset }) as number[];
    if (ids.length > 0) {
      // The page's own rows, highlighted: FTS5 answers MATCH restricted to a rowid list cheaply.
      db.prepare(
        `SELECT ${SUMMARY_COLUMNS}, highlight(photo_fts, 0, char(1), char(2)) AS hl
         FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid JOIN roots r ON r.id = p.root_id
         WHERE photo_fts MATCH @match AND photo_fts.rowid IN (SELECT value FROM json_each(@ids))`,
      ).all({ match: p.params['match'], ids: JSON.stringify(ids) });
    }
    return { total, ids };
  },
  /**
   * One evaluation of the MATCH instead of two: the total rides along as a window count.
   * (A page past the end returns no row to carry it; the service would fall back to count(*) then.)
   */
  'one statement, count(*) OVER ()': (db, q) => {
    const p = searchParts(q)!;
    const rows = db
      .prepare(
        `SELECT p.id, count(*) OVER () AS total FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid
         WHERE ${p.where} ORDER BY bm25(photo_fts, ${BM25_WEIGHTS}), p.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ ...p.params, limit: q.limit, offset: q.offset }) as { id: number; total: number }[];
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) {
      db.prepare(
        `SELECT ${SUMMARY_COLUMNS}, highlight(photo_fts, 0, char(1), char(2)) AS hl
         FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid JOIN roots r ON r.id = p.root_id
         WHERE photo_fts MATCH @match AND photo_fts.rowid IN (SELECT value FROM json_each(@ids))`,
      ).all({ match: p.params['match'], ids: JSON.stringify(ids) });
    }
    return { total: rows[0]?.total ?? 0, ids };
  },
};

function time<T>(fn: () => T): { ms: number; value: T } {
  const t = performance.now();
  const value = fn();
  return { ms: performance.now() - t, value };
}

function summaryRow(name: string, ms: number[], baseline: number[] | null): (string | number)[] {
  const s = summarize(ms);
  const b = baseline ? summarize(baseline) : null;
  return [name, s.n, s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2), b ? pct(s.p95, b.p95) : '100%'];
}

/**
 * Times candidate fixes for the slow kinds on the same database. Variants run interleaved query by query,
 * so machine noise hits them alike. The database is left as it was.
 */
export async function runWhatIfs(db: Db, samples: Sample[], slowMs: number): Promise<void> {
  const service = new SearchService(db);
  console.log(`\n## what-ifs (candidate fixes timed on this data, interleaved; not applied to core)`);

  // A. The ranked search page: every search sample whose kind is slow, or all searches when none is.
  const kinds = new Map<string, number[]>();
  for (const s of samples) kinds.set(s.q.kind, [...(kinds.get(s.q.kind) ?? []), s.ms]);
  const searchKinds = new Set(samples.filter((s) => s.q.op === 'search').map((s) => s.q.kind));
  const slowKinds = new Set([...kinds].filter(([k, ms]) => searchKinds.has(k as SearchQuery['kind']) && summarize(ms).p95 > slowMs).map(([k]) => k));
  const searches = samples
    .map((s) => s.q)
    .filter((q): q is SearchQuery => q.op === 'search' && (slowKinds.size === 0 || slowKinds.has(q.kind)) && searchParts(q) !== null);
  if (searches.length > 0) {
    const names = Object.keys(searchVariants);
    const ms = new Map<string, number[]>(names.map((n) => [n, []]));
    const serviceMs: number[] = [];
    let mismatched = 0;
    for (const q of searches) {
      serviceMs.push(time(() => service.search(q.text, q.filters, q.offset, q.limit)).ms);
      let reference: number[] | null = null;
      for (const name of names) {
        const r = time(() => searchVariants[name]!(db, q));
        ms.get(name)!.push(r.ms);
        if (reference === null) reference = r.value.ids;
        else if (r.value.ids.join() !== reference.join()) mismatched++;
      }
    }
    console.log(`A. ranked search page, ${searches.length} queries of kinds ${slowKinds.size ? [...slowKinds].join(', ') : 'all'}:`);
    const rows = [summaryRow('SearchService.search (as is)', serviceMs, null)];
    for (const name of names) rows.push(summaryRow(name, ms.get(name)!, serviceMs));
    console.log(table(['variant', 'n', 'p50', 'p95', 'p99', 'p95 vs as-is'], rows));
    console.log(`   same page ids in every variant: ${mismatched === 0 ? 'yes' : `NO (${mismatched} differ)`}`);
  }

  // B. Browsing by date: an index on the exact ORDER BY expression of list(sort='taken').
  const lists = samples.map((s) => s.q).filter((q): q is ListQuery => q.op === 'list');
  if (lists.length > 0) {
    const run = (): number[] => lists.map((q) => time(() => service.list(q.filters, q.sort, q.offset, q.limit)).ms);
    const before = run();
    const sortExpr = "coalesce(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000, 'unixepoch'))";
    db.exec(`CREATE INDEX bench_photos_sort_taken ON photos(${sortExpr} DESC, id DESC)`);
    db.exec('ANALYZE');
    const after = run();
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT p.id FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.status IN ('ok','unsupported','broken')
         ORDER BY coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch')) DESC, p.id DESC LIMIT 200`,
      )
      .all() as { detail: string }[];
    db.exec('DROP INDEX bench_photos_sort_taken');
    db.exec('DROP TABLE IF EXISTS sqlite_stat1');
    db.exec('DROP TABLE IF EXISTS sqlite_stat4');
    console.log(`B. list(sort='taken'), ${lists.length} queries, with an index on the sort expression:`);
    const byKind = (ms: number[], kind: string): number[] => ms.filter((_, i) => lists[i]!.kind === kind);
    const rows: (string | number)[][] = [];
    for (const kind of [...new Set(lists.map((q) => q.kind))].sort()) {
      rows.push(summaryRow(`${kind}: as is`, byKind(before, kind), null));
      rows.push(summaryRow(`${kind}: + index`, byKind(after, kind), byKind(before, kind)));
    }
    console.log(table(['variant', 'n', 'p50', 'p95', 'p99', 'p95 vs as-is'], rows));
    console.log(`   plan with the index: ${plan.map((p) => p.detail).join(' | ')}`);
  }

  // C. The connection's page cache: openDatabase keeps SQLite's 2 MiB default, smaller than the FTS index.
  if (searches.length > 0) {
    const previous = db.pragma('cache_size', { simple: true }) as number;
    const run = (): number[] => searches.map((q) => time(() => service.search(q.text, q.filters, q.offset, q.limit)).ms);
    const before = run();
    db.pragma('cache_size = -65536');
    run(); // fill the larger cache
    const after = run();
    db.pragma(`cache_size = ${previous}`);
    console.log(`C. the same searches with PRAGMA cache_size = 64 MiB (default ${-previous} KiB):`);
    console.log(
      table(['variant', 'n', 'p50', 'p95', 'p99', 'p95 vs as-is'], [summaryRow('default cache', before, null), summaryRow('64 MiB cache', after, before)]),
    );
  }

  // D. One-letter prefixes while typing: the FTS table has prefix indexes for 2–4 letters only.
  const oneLetter = samples
    .map((s) => s.q)
    .filter((q): q is SearchQuery => q.op === 'search' && q.kind === 'typing prefix' && /^\p{L}$/u.test(q.text.trim()));
  if (oneLetter.length > 0) {
    const sizeOf = (name: string): number =>
      (db.prepare("SELECT coalesce(sum(pgsize), 0) AS n FROM dbstat WHERE name LIKE ? || '%'").get(name) as { n: number }).n;
    const t0 = performance.now();
    db.exec(`CREATE VIRTUAL TABLE bench_fts_p1 USING fts5(caption, tags, chat, file_name, folder,
      tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3 4')`);
    db.exec('INSERT INTO bench_fts_p1 (rowid, caption, tags, chat, file_name, folder) SELECT rowid, caption, tags, chat, file_name, folder FROM photo_fts');
    const buildMs = performance.now() - t0;
    let sizes: string;
    try {
      sizes = `photo_fts ${fmtMiB(sizeOf('photo_fts'))} → with 1-letter prefixes ${fmtMiB(sizeOf('bench_fts_p1'))}`;
    } catch {
      sizes = 'sizes unavailable (no dbstat)';
    }
    const page = (table: string, q: SearchQuery): number => {
      const p = searchParts(q)!;
      const where = p.where.replace('photo_fts MATCH', `${table} MATCH`);
      return time(() => {
        db.prepare(`SELECT count(*) FROM ${table} JOIN photos p ON p.id = ${table}.rowid WHERE ${where}`).get(p.params);
        db.prepare(
          `SELECT ${SUMMARY_COLUMNS}, bm25(${table}, ${BM25_WEIGHTS}) AS rank, highlight(${table}, 0, char(1), char(2)) AS hl
           FROM ${table} JOIN photos p ON p.id = ${table}.rowid JOIN roots r ON r.id = p.root_id
           WHERE ${where} ORDER BY rank, p.id DESC LIMIT @limit OFFSET @offset`,
        ).all({ ...p.params, limit: q.limit, offset: q.offset });
      }).ms;
    };
    const cur: number[] = [];
    const p1: number[] = [];
    for (const q of oneLetter) {
      cur.push(page('photo_fts', q));
      p1.push(page('bench_fts_p1', q));
    }
    db.exec('DROP TABLE bench_fts_p1');
    console.log(`D. ${oneLetter.length} one-letter searches with a prefix='1 2 3 4' FTS table (built in ${(buildMs / 1000).toFixed(1)} s; ${sizes}):`);
    console.log(
      table(['variant', 'n', 'p50', 'p95', 'p99', 'p95 vs as-is'], [summaryRow("prefix='2 3 4' (as is)", cur, null), summaryRow("prefix='1 2 3 4'", p1, cur)]),
    );
  }
}

function fmtMiB(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
