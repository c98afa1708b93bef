import { SUMMARY_COLUMNS } from '../../src/main/core/library/photo-store';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { filterClauses, SearchService } from '../../src/main/core/search/search-service';
import type { Db } from '../../src/main/core/store/database';
import type { Sample } from '../search';
import { pct, table } from './format';
import type { BenchQuery } from './search-queries';
import { summarize } from './stats';

/** Same weights and date order as search-service.ts (not exported there); restated queries must match the service. */
const BM25_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0';
const ORDER_TAKEN = "coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch')) DESC, p.id DESC";
const SORT_INDEX_EXPR = "coalesce(taken_at, strftime('%Y-%m-%dT%H:%M:%S', mtime_ms / 1000, 'unixepoch')) DESC, id DESC";
/** filterClauses' folder test; substr() on the column hides it from every index. */
const FOLDER_SUBSTR = "(p.folder = @folder OR substr(p.folder, 1, length(@folder) + 1) = @folder || '/')";
/** The same test as a range ('0' is the character after '/'), which photos_folder(root_id, folder) can serve. */
const FOLDER_RANGE = "(p.folder = @folder OR (p.folder >= @folder || '/' AND p.folder < @folder || '0'))";
const COUNT_CAP = 1000;

type SearchQuery = Extract<BenchQuery, { op: 'search' }>;
type ListQuery = Extract<BenchQuery, { op: 'list' }>;

function searchParts(q: SearchQuery): { where: string; params: Record<string, unknown> } | null {
  const parsed = parseSearchQuery(q.text);
  if (parsed.match === null) return null;
  const w = filterClauses(q.filters);
  return { where: ['photo_fts MATCH @match', ...w.sql].join(' AND '), params: { ...w.params, match: parsed.match } };
}

function pageSql(where: string, highlight: boolean): string {
  return `SELECT ${SUMMARY_COLUMNS}, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank${highlight ? ', highlight(photo_fts, 0, char(1), char(2)) AS hl' : ''}
    FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid JOIN roots r ON r.id = p.root_id
    WHERE ${where} ORDER BY rank, p.id DESC LIMIT @limit OFFSET @offset`;
}

type Variant = { applies: (q: SearchQuery) => boolean; run: (db: Db, q: SearchQuery) => { total: number; ids: number[] } };

/** Candidate rewrites of SearchService.search. Each must return the same page (checked), only faster. */
const searchVariants: Record<string, Variant> = {
  /** What the service runs today, restated, so variants are timed in the same loop. */
  'as is, restated': {
    applies: () => true,
    run: (db, q) => {
      const p = searchParts(q)!;
      const total = (db.prepare(`SELECT count(*) AS n FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${p.where}`).get(p.params) as { n: number }).n;
      const rows = db.prepare(pageSql(p.where, true)).all({ ...p.params, limit: q.limit, offset: q.offset }) as { id: number }[];
      return { total, ids: rows.map((r) => r.id) };
    },
  },
  /** highlight() runs for every match before the sort; this shows what it costs. */
  'without highlight()': {
    applies: () => true,
    run: (db, q) => {
      const p = searchParts(q)!;
      const total = (db.prepare(`SELECT count(*) AS n FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${p.where}`).get(p.params) as { n: number }).n;
      const rows = db.prepare(pageSql(p.where, false)).all({ ...p.params, limit: q.limit, offset: q.offset }) as { id: number }[];
      return { total, ids: rows.map((r) => r.id) };
    },
  },
  /** The UI needs "1,000+" rather than 73,694: counting stops at the cap. */
  [`count capped at ${COUNT_CAP}`]: {
    applies: () => true,
    run: (db, q) => {
      const p = searchParts(q)!;
      const total = (
        db
          .prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${p.where} LIMIT ${COUNT_CAP + 1})`)
          .get(p.params) as { n: number }
      ).n;
      const rows = db.prepare(pageSql(p.where, true)).all({ ...p.params, limit: q.limit, offset: q.offset }) as { id: number }[];
      return { total, ids: rows.map((r) => r.id) };
    },
  },
  /**
   * Count and rank inside FTS5 alone, then join only the page. The join to photos (for the status filter)
   * costs more than the full-text work; it can be skipped when no filter is set, provided the FTS table
   * holds rows for visible photos only (refreshSearchRow would delete the row of a missing photo).
   * Section A runs inside a transaction that deletes missing photos' FTS rows and is rolled back after.
   */
  'FTS-only count + rank, join the page (no filters)': {
    applies: (q) => Object.keys(q.filters).length === 0,
    run: (db, q) => {
      const match = searchParts(q)!.params['match'];
      const total = (db.prepare('SELECT count(*) AS n FROM photo_fts WHERE photo_fts MATCH @match').get({ match }) as { n: number }).n;
      const rows = db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS}, h.rank FROM (
             SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts WHERE photo_fts MATCH @match
             ORDER BY rank, rowid DESC LIMIT @limit OFFSET @offset) h
           JOIN photos p ON p.id = h.id JOIN roots r ON r.id = p.root_id ORDER BY h.rank, p.id DESC`,
        )
        .all({ match, limit: q.limit, offset: q.offset }) as { id: number }[];
      return { total, ids: rows.map((r) => r.id) };
    },
  },
};

function listRestated(db: Db, q: ListQuery, folderRange: boolean): number {
  const w = filterClauses(q.filters);
  const sql = w.sql.map((c) => (folderRange && c === FOLDER_SUBSTR ? FOLDER_RANGE : c));
  const where = sql.length ? `WHERE ${sql.join(' AND ')}` : '';
  const total = (db.prepare(`SELECT count(*) AS n FROM photos p ${where}`).get(w.params) as { n: number }).n;
  db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id ${where} ORDER BY ${ORDER_TAKEN} LIMIT @limit OFFSET @offset`).all({
    ...w.params,
    limit: q.limit,
    offset: q.offset,
  });
  return total;
}

function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

const HEADER = ['variant', 'n', 'p50', 'p95', 'p99', 'p95 vs as-is'];

function summaryRow(name: string, ms: number[], baseline: number[] | null): (string | number)[] {
  const s = summarize(ms);
  const b = baseline ? summarize(baseline) : null;
  return [name, s.n, s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2), b ? pct(s.p95, b.p95) : '100%'];
}

function runQuery(service: SearchService, q: BenchQuery): void {
  if (q.op === 'search') service.search(q.text, q.filters, q.offset, q.limit);
  else service.list(q.filters, q.sort, q.offset, q.limit);
}

function dropStats(db: Db): void {
  for (const t of ['sqlite_stat1', 'sqlite_stat4']) {
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(t)) db.exec(`DROP TABLE ${t}`);
  }
}

/**
 * Times candidate fixes on the same database. Where a fix is a query rewrite, variants run interleaved
 * query by query so machine noise hits them alike; where it changes the schema, before and after run
 * back to back. Everything is undone afterwards.
 */
export async function runWhatIfs(db: Db, samples: Sample[], slowMs: number): Promise<void> {
  const service = new SearchService(db);
  const queries = samples.map((s) => s.q);
  console.log(`\n## what-ifs (candidate fixes timed on this data; not applied to core)`);

  // A. Query rewrites of the ranked search, on the searches of slow kinds (all searches if none is slow).
  const byKind = new Map<string, number[]>();
  for (const s of samples) if (s.q.op === 'search') byKind.set(s.q.kind, [...(byKind.get(s.q.kind) ?? []), s.ms]);
  const slowKinds = new Set([...byKind].filter(([, ms]) => summarize(ms).p95 > slowMs).map(([k]) => k));
  const searches = queries.filter(
    (q): q is SearchQuery => q.op === 'search' && (slowKinds.size === 0 || slowKinds.has(q.kind)) && searchParts(q) !== null,
  );
  if (searches.length > 0) {
    // Simulates "FTS rows for visible photos only" for the last variant; the as-is SQL filters them out anyway.
    db.exec('BEGIN');
    const hidden = db.prepare("DELETE FROM photo_fts WHERE rowid IN (SELECT id FROM photos WHERE status = 'missing')").run().changes;
    const names = Object.keys(searchVariants);
    const ms = new Map<string, number[]>(names.map((n) => [n, []]));
    const serviceMs: number[] = [];
    const differs = new Map<string, number>();
    for (const q of searches) {
      serviceMs.push(time(() => service.search(q.text, q.filters, q.offset, q.limit)));
      let reference: string | null = null;
      for (const name of names) {
        const v = searchVariants[name]!;
        if (!v.applies(q)) continue;
        let out: { total: number; ids: number[] } = { total: 0, ids: [] };
        ms.get(name)!.push(time(() => (out = v.run(db, q))));
        const key = out.ids.join();
        if (reference === null) reference = key;
        else if (key !== reference) differs.set(name, (differs.get(name) ?? 0) + 1);
      }
    }
    db.exec('ROLLBACK');
    console.log(`A. ranked search rewrites, ${searches.length} searches of kinds: ${slowKinds.size ? [...slowKinds].join(', ') : 'all'} (interleaved)`);
    console.log(`   (inside a rolled-back transaction without the FTS rows of the ${hidden} missing photos)`);
    const rows = [summaryRow('SearchService.search (as is)', serviceMs, null)];
    for (const name of names) {
      const list = ms.get(name)!;
      if (list.length === 0) continue;
      const base = serviceMs.filter((_, i) => searchVariants[name]!.applies(searches[i]!));
      rows.push(summaryRow(list.length === serviceMs.length ? name : `${name} [${list.length}]`, list, base));
    }
    console.log(table(HEADER, rows));
    console.log(
      `   pages identical to as-is: ${names.filter((n) => ms.get(n)!.length > 0).map((n) => `${n}: ${differs.has(n) ? `${differs.get(n)} differ` : 'yes'}`).join('; ')}`,
    );
  }

  // B. Planner statistics. Without them SQLite trusts photos_status (3 values, ~97% 'ok') as if it were selective.
  {
    const run = (): number[] => queries.map((q) => time(() => runQuery(service, q)));
    const before = run();
    db.exec('ANALYZE');
    const after = run();
    dropStats(db);
    console.log(`B. every query kind, before and after ANALYZE (no new index; back to back):`);
    const rows: (string | number)[][] = [];
    for (const kind of [...new Set(queries.map((q) => q.kind))].sort()) {
      const pick = (ms: number[]): number[] => ms.filter((_, i) => queries[i]!.kind === kind);
      const b = summarize(pick(before));
      const a = summarize(pick(after));
      rows.push([kind, b.n, b.p50.toFixed(2), a.p50.toFixed(2), b.p95.toFixed(2), a.p95.toFixed(2), pct(a.p95, b.p95)]);
    }
    const b = summarize(before);
    const a = summarize(after);
    rows.push(['ALL', b.n, b.p50.toFixed(2), a.p50.toFixed(2), b.p95.toFixed(2), a.p95.toFixed(2), pct(a.p95, b.p95)]);
    console.log(table(['kind', 'n', 'p50 as is', 'p50 +ANALYZE', 'p95 as is', 'p95 +ANALYZE', 'p95 ratio'], rows));
  }

  // C. Browsing by date: an index on list()'s exact ORDER BY expression, and the folder test as a range.
  const lists = queries.filter((q): q is ListQuery => q.op === 'list');
  if (lists.length > 0) {
    const run = (folderRange: boolean): number[] => lists.map((q) => time(() => listRestated(db, q, folderRange)));
    const asIs = run(false);
    db.exec(`CREATE INDEX bench_photos_sort_taken ON photos(${SORT_INDEX_EXPR})`);
    const withIndex = run(false);
    db.exec('ANALYZE');
    const withStats = run(false);
    const withRange = run(true);
    const plan = (
      db
        .prepare(`EXPLAIN QUERY PLAN SELECT p.id FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.status IN ('ok','unsupported','broken') ORDER BY ${ORDER_TAKEN} LIMIT 200`)
        .all() as { detail: string }[]
    ).map((p) => p.detail);
    db.exec('DROP INDEX bench_photos_sort_taken');
    dropStats(db);
    console.log(`C. list(sort='taken'), ${lists.length} pages (restated), schema changes applied in turn:`);
    const rows: (string | number)[][] = [];
    for (const kind of [...new Set(lists.map((q) => q.kind))].sort()) {
      const pick = (ms: number[]): number[] => ms.filter((_, i) => lists[i]!.kind === kind);
      rows.push(summaryRow(`${kind}: as is`, pick(asIs), null));
      rows.push(summaryRow(`${kind}: + sort index`, pick(withIndex), pick(asIs)));
      rows.push(summaryRow(`${kind}: + sort index + ANALYZE`, pick(withStats), pick(asIs)));
      rows.push(summaryRow(`${kind}: + … + folder range`, pick(withRange), pick(asIs)));
    }
    console.log(table(HEADER, rows));
    console.log(`   first page plan with the index: ${plan.join(' | ')}`);
  }

  // D. The connection's page cache: openDatabase keeps the driver's default, smaller than photos + FTS here.
  if (searches.length > 0) {
    const previous = db.pragma('cache_size', { simple: true }) as number;
    const run = (): number[] => searches.map((q) => time(() => service.search(q.text, q.filters, q.offset, q.limit)));
    const before = run();
    db.pragma('cache_size = -65536');
    run(); // fill the larger cache
    const after = run();
    db.pragma(`cache_size = ${previous}`);
    console.log(`D. the searches of A with PRAGMA cache_size = 64 MiB (default ${-previous} KiB):`);
    console.log(table(HEADER, [summaryRow('default cache', before, null), summaryRow('64 MiB cache', after, before)]));
  }

  // E. One-letter prefixes while typing: the FTS table has prefix indexes for 2–4 letters only.
  const oneLetter = queries.filter((q): q is SearchQuery => q.op === 'search' && q.kind === 'typing prefix' && /^\p{L}$/u.test(q.text.trim()));
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
    const page = (fts: string, q: SearchQuery): number => {
      const p = searchParts(q)!;
      const where = p.where.replace('photo_fts MATCH', `${fts} MATCH`);
      return time(() => {
        db.prepare(`SELECT count(*) FROM ${fts} JOIN photos p ON p.id = ${fts}.rowid WHERE ${where}`).get(p.params);
        db.prepare(pageSql(where, true).replaceAll('photo_fts', fts)).all({ ...p.params, limit: q.limit, offset: q.offset });
      });
    };
    const cur: number[] = [];
    const p1: number[] = [];
    for (const q of oneLetter) {
      cur.push(page('photo_fts', q));
      p1.push(page('bench_fts_p1', q));
    }
    db.exec('DROP TABLE bench_fts_p1');
    console.log(`E. ${oneLetter.length} one-letter searches with a prefix='1 2 3 4' FTS table (built in ${(buildMs / 1000).toFixed(1)} s; ${sizes}):`);
    console.log(table(HEADER, [summaryRow("prefix='2 3 4' (as is)", cur, null), summaryRow("prefix='1 2 3 4'", p1, cur)]));
  }
}

function fmtMiB(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
