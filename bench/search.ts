/**
 * `npm run bench -- search [--rows 100000] [--keep] [--build-only] [--db FILE] [--queries-only]`
 *
 * Builds a fresh database of synthetic photo rows in one transaction (schema from the migrations, FTS rows
 * through the core's rebuildSearchIndex; 1,000,000 rows take ~1.5 min), then times ~570 mixed queries through
 * SearchService as the app runs them ("after"), the search as the previous session left it ("previous": the
 * same service with scorePhrases off, so one-phrase searches are ranked by bm25's own walks) and the
 * pre-issue-14 statements on a copy of the old FTS table
 * ("before"), interleaved, so all see the same data and the same load. Prints per-kind p50/p95 against the
 * issue's targets, EXPLAIN QUERY PLAN before/previous/after for the slowest query of each kind, and the
 * memory of this process (it holds the core, as the main process does).
 * --build-only keeps the database and stops after the build.
 * --db FILE reuses a database kept by an earlier --keep run (skips the build; for iterating on queries).
 * --queries-only skips the rescan and thumbnail-check sections at the end.
 */
import { mkdir, rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseSearchQuery } from '../src/main/core/search/fts-query';
import { SEARCH_WINDOW, SearchService } from '../src/main/core/search/search-service';
import { expandPrefix } from '../src/main/core/search/search-terms';
import { openDatabase, type Db } from '../src/main/core/store/database';
import { parseArgs } from './support/args';
import { sqliteSize } from './support/dir-size';
import { fmtBytes, fmtDuration, fmtMs, pct, StatusLine, table } from './support/format';
import { BENCH_DATA_DIR } from './support/photo-library';
import { machineLine, ResourceMonitor } from './support/resource-monitor';
import { makeQueries, type BenchQuery, type QueryKind } from './support/search-queries';
import { StatementProbe, type StatementCall } from './support/statement-probe';
import { summarize } from './support/stats';
import { printRescanDiff, printThumbCheck } from './support/rescan-diff';
import { buildSyntheticLibrary, checkShownCaptions } from './support/synthetic-library';
import { buildLegacyIndex, explainLines, LEGACY_FOLDERS_SQL, legacyListStatements, legacySearchStatements, runStatements, type LegacyStatements } from './support/search-before';

export interface Sample {
  q: BenchQuery;
  /** After: SearchService as the app runs it. */
  ms: number;
  total: number;
  calls: StatementCall[];
  /** The service without scorePhrases (as the previous session left it), same query, timed beside `ms` (order alternates). */
  previousMs: number;
  /** Before: the pre-issue-14 statements on legacy_fts, same query, timed right after. */
  beforeMs: number;
  beforeTotal: number;
}

/** p95 targets of issue 14 at a million photos, per kind. */
const TARGET_MS: Partial<Record<QueryKind, number>> = {
  word: 20, 'two words': 20, phrase: 20, 'word + folder': 20, 'word + date range': 20, 'word + captioned': 20,
  'name + uncaptioned': 20, 'typing prefix': 30, 'one letter': 30, 'list page 1 by date': 30, 'list page 1 + filter': 30,
  'list deep page': 30, 'sidebar folders': 50,
};

export function runQuery(service: SearchService, q: BenchQuery): number {
  if (q.op === 'search') {
    const r = service.search(q.text, q.filters, q.offset, q.limit);
    if (r.notice?.startsWith('This search could not be run')) throw new Error(`${q.text}: ${r.notice}`);
    return r.total;
  }
  if (q.op === 'folders') return service.folders().length;
  return service.list(q.filters, q.sort, q.offset, q.limit).total;
}

function beforeStatements(q: BenchQuery): LegacyStatements | null {
  if (q.op === 'search') return legacySearchStatements(q.text, q.filters, q.offset, q.limit);
  if (q.op === 'folders') return { sql: [LEGACY_FOLDERS_SQL], params: { rootId: null } };
  return legacyListStatements(q.filters, q.sort, q.offset, q.limit);
}

function runBefore(db: Db, q: BenchQuery): number {
  const s = beforeStatements(q);
  if (!s) return 0;
  if (q.op === 'folders') return db.prepare(s.sql[0]!).all(s.params).length;
  return runStatements(db, s);
}

export function describe(q: BenchQuery): string {
  if (q.op === 'folders') return 'folders()';
  const f = Object.keys(q.filters).length ? ` ${JSON.stringify(q.filters)}` : '';
  return q.op === 'search' ? `search ${JSON.stringify(q.text)}${f}` : `list sort=${q.sort} offset=${q.offset}${f}`;
}

function storageBreakdown(db: Db): { name: string; bytes: number }[] | null {
  try {
    return db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as {
      name: string;
      bytes: number;
    }[];
  } catch {
    return null; // SQLite built without the dbstat table
  }
}

/** Builds the synthetic library and prints what it cost and what it holds. */
async function buildAndReport(db: Db, rows: number, dbFile: string, status: StatusLine): Promise<void> {
  const monitor = new ResourceMonitor();
  const build = buildSyntheticLibrary(db, {
    rows,
    onProgress: (done, total, phase) => status.update(`building: ${phase} ${done}/${total}`),
  });
  const buildRes = monitor.stop();
  status.done(`built ${build.rows} rows in ${fmtDuration(build.totalMs / 1000)}`);
  const mismatches = checkShownCaptions(db, 300);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const size = await sqliteSize(dbFile);
  console.log(`\n## build (one transaction)`);
  console.log(
    `  ${build.rows} photos, ${build.captioned} model captions (${pct(build.captioned, build.rows)}), ${build.userCaptions} user captions, ` +
      `${build.tagged} tagged, ${build.chats} chats`,
  );
  console.log(
    `  rows + captions + tags: ${fmtDuration(build.rowsMs / 1000)}; FTS rows via rebuildSearchIndex: ${fmtDuration(build.ftsMs / 1000)} ` +
      `(${((build.ftsMs * 1000) / build.rows).toFixed(0)} µs/photo); total ${fmtDuration(build.totalMs / 1000)}; ` +
      `peak RSS ${fmtBytes(buildRes.peakRssSampled)}`,
  );
  console.log(`  shown caption check against CaptionStore.refreshShown on 300 random photos: ${mismatches} mismatches`);
  console.log(`  database: ${fmtBytes(size.main)} after checkpoint (${fmtBytes(size.main / build.rows)} per photo)`);
  const breakdown = storageBreakdown(db);
  if (breakdown) {
    const top = breakdown.slice(0, 8).map((b) => `${b.name} ${fmtBytes(b.bytes)}`);
    console.log(`  largest: ${top.join(', ')}`);
  }
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const rows = args.number('rows', 100_000);
  const keep = args.flag('keep');
  const reuse = args.string('db', '');
  const buildOnly = args.flag('build-only');
  const queriesOnly = args.flag('queries-only');
  console.log(`# search benchmark: ${reuse ? `database ${reuse}` : `${rows.toLocaleString('en')} photos`}`);
  console.log(`machine: ${machineLine()}, node ${process.version}`);

  const runDir = join(BENCH_DATA_DIR, 'runs', `search-${Date.now()}`);
  await mkdir(runDir, { recursive: true });
  const dbFile = reuse || join(runDir, 'tandem.db');
  try {
    const db = openDatabase(dbFile);
    const sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    const cacheKiB = -(db.pragma('cache_size', { simple: true }) as number);
    console.log(`SQLite ${sqliteVersion}, page cache ${cacheKiB} KiB (connection default), WAL, synchronous=NORMAL`);

    // 1. Build.
    const status = new StatusLine();
    if (reuse) {
      const n = (db.prepare('SELECT count(*) AS n FROM photos').get() as { n: number }).n;
      console.log(`\nreusing ${reuse} (${n} photos, ${fmtBytes((await sqliteSize(reuse)).main)}); build skipped`);
    } else {
      await buildAndReport(db, rows, dbFile, status);
    }

    if (buildOnly) {
      printRescanDiff(db);
      await printThumbCheck([rows]);
      db.close();
      console.log(`\nkept: ${dbFile}`);
      return;
    }

    // 2. The old FTS table beside the new one, so "before" runs on the same rows in the same run.
    const legacyMs = buildLegacyIndex(db);
    console.log(`\nlegacy_fts (the schema before issue 14) built for comparison in ${fmtDuration(legacyMs / 1000)}`);

    // 3. Queries: each one after (the service), then before (restated old SQL), interleaved so load hits both alike.
    // Every timed search is a fresh one: the service keeps recent searches for their next pages, and the
    // warm-up and the EXPLAIN re-runs below repeat queries.
    const service = new SearchService(db, { keepSearches: false });
    const previous = new SearchService(db, { keepSearches: false, scorePhrases: false });
    // Browsing did not change: "previous" times the service itself for list and folders.
    const runPrevious = (q: BenchQuery): number => (q.op === 'search' ? previous.search(q.text, q.filters, q.offset, q.limit).total : runQuery(service, q));
    const queries = makeQueries(db);
    const probe = new StatementProbe(db);
    for (const q of queries.slice(0, 30)) {
      runQuery(service, q);
      runPrevious(q);
      runBefore(db, q);
    }
    const samples: Sample[] = [];
    const qMonitor = new ResourceMonitor();
    let totalsDiffer = 0;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      let previousMs = 0;
      const timePrevious = (): void => {
        const t = performance.now();
        runPrevious(q);
        previousMs = performance.now() - t;
      };
      if (i % 2 === 1) timePrevious();
      probe.reset();
      const t0 = performance.now();
      const total = runQuery(service, q);
      const ms = performance.now() - t0;
      const calls = probe.calls;
      if (i % 2 === 0) timePrevious();
      const t1 = performance.now();
      const beforeTotal = runBefore(db, q);
      const beforeMs = performance.now() - t1;
      if (q.op !== 'search' && q.op !== 'folders' && total !== beforeTotal) totalsDiffer++;
      samples.push({ q, ms, total, calls, previousMs, beforeMs, beforeTotal });
      if (i % 20 === 0) status.update(`queries ${i}/${queries.length}, load ${loadavg()[0]!.toFixed(2)}`);
    }
    const qRes = qMonitor.stop();
    status.done(`ran ${samples.length} queries three times (after, previous, before) in ${fmtDuration(qRes.wallMs / 1000)}`);

    const kinds = [...new Set(samples.map((s) => s.q.kind))].sort();
    const byKind = new Map<QueryKind, Sample[]>(kinds.map((k) => [k, samples.filter((s) => s.q.kind === k)]));
    const rowsOut: (string | number)[][] = [];
    const mixed: Sample[] = [];
    for (const [kind, list] of byKind) {
      const after = summarize(list.map((x) => x.ms));
      const before = summarize(list.map((x) => x.beforeMs));
      const prev = summarize(list.map((x) => x.previousMs));
      const hits = summarize(list.map((x) => x.total));
      const target = TARGET_MS[kind];
      if (list[0]!.q.op === 'search' && kind !== 'typing prefix' && kind !== 'one letter') mixed.push(...list);
      rowsOut.push([
        kind, list.length, before.p50.toFixed(1), before.p95.toFixed(1), prev.p50.toFixed(2), prev.p95.toFixed(2), after.p50.toFixed(2), after.p95.toFixed(2), after.max.toFixed(1),
        Math.round(hits.p50), target ?? '', target === undefined ? '' : after.p95 <= target ? 'met' : 'MISSED',
      ]);
    }
    const mb = summarize(mixed.map((x) => x.beforeMs));
    const ma = summarize(mixed.map((x) => x.ms));
    const mp = summarize(mixed.map((x) => x.previousMs));
    rowsOut.push(['mixed searches', mixed.length, mb.p50.toFixed(1), mb.p95.toFixed(1), mp.p50.toFixed(2), mp.p95.toFixed(2), ma.p50.toFixed(2), ma.p95.toFixed(2), ma.max.toFixed(1), '', 20, ma.p95 <= 20 ? 'met' : 'MISSED']);
    const photoCount = (db.prepare('SELECT count(*) FROM photos').pluck().get() as number).toLocaleString('en');
    console.log(`\n## latency per query kind (ms, page of 200, ${photoCount} photos), before → after, same run`);
    console.log('  before: the statements from before issue 14; previous: the search as the last session left it (one-phrase searches ranked by bm25)');
    console.log(table(['kind', 'n', 'before p50', 'before p95', 'previous p50', 'previous p95', 'after p50', 'after p95', 'after max', 'hits p50 (after)', 'target p95', ''], rowsOut));
    console.log(
      `  load average ${qRes.loadAvgStart.toFixed(2)} → ${qRes.loadAvgEnd.toFixed(2)} (${loadavg().map((l) => l.toFixed(2)).join(' / ')} now); ` +
        `this process ${pct(qRes.processCpuShare, 1)} of ${cpus().length} cores; list/count totals that differ before vs after: ${totalsDiffer}`,
    );
    console.log(`  search totals after are capped at ${SEARCH_WINDOW.toLocaleString('en')} (the ranked window; the notice says when there are more)`);

    // 4. Plans, before, previous and after, for the slowest query of each kind (slowest as the previous session ran it).
    console.log(`\n## EXPLAIN QUERY PLAN, before → previous → after (the slowest query of each kind, as run)`);
    for (const [kind, list] of byKind) {
      const w = [...list].sort((a, b) => b.previousMs - a.previousMs)[0]!;
      console.log(`\n### ${kind}: ${describe(w.q)}  before ${fmtMs(w.beforeMs)} → previous ${fmtMs(w.previousMs)} → after ${fmtMs(w.ms)}`);
      const before = beforeStatements(w.q);
      if (before) {
        for (const sql of before.sql) {
          console.log(`  before: ${sql.trim().split('\n')[0]!.slice(0, 110)}`);
          for (const line of explainLines(db, sql, before.params)) console.log(`    ${line}`);
        }
      }
      // Re-run to capture the statements of this exact query.
      if (w.q.op === 'search') {
        probe.reset();
        runPrevious(w.q);
        const seenBefore = new Set<string>();
        for (const call of probe.calls) {
          if (seenBefore.has(call.sql)) continue;
          seenBefore.add(call.sql);
          console.log(`  previous (${fmtMs(call.ms)}): ${call.sql.trim().replace(/\s+/g, ' ').slice(0, 110)}`);
          for (const line of probe.explain(call)) console.log(`    ${line}`);
        }
      }
      probe.reset();
      runQuery(service, w.q);
      const seen = new Set<string>();
      for (const call of probe.calls) {
        if (seen.has(call.sql)) continue; // the per-hit detail statement runs once per row of the page
        seen.add(call.sql);
        console.log(`  after (${fmtMs(call.ms)}): ${call.sql.trim().replace(/\s+/g, ' ').slice(0, 110)}`);
        for (const line of probe.explain(call)) console.log(`    ${line}`);
      }
    }
    probe.restore();

    // 4b. The search text sent to SQLite: the slowest query of each search kind, with and without prefix expansion.
    console.log(`\n## FTS5 MATCH text: the slowest query (after) of each search kind, without → with prefix expansion`);
    for (const [kind, list] of byKind) {
      const w = [...list].sort((a, b) => b.ms - a.ms)[0]!;
      if (w.q.op !== 'search') continue;
      const plain = parseSearchQuery(w.q.text).match;
      const expanded = parseSearchQuery(w.q.text, (prefix) => expandPrefix(db, prefix)).match;
      console.log(`  ${kind}: ${describe(w.q)}  ${fmtMs(w.ms)}`);
      console.log(`    unexpanded MATCH ${plain}`);
      console.log(`    sent       MATCH ${expanded}`);
    }

    // 4c. Memory of this process, which holds the core and its SQLite connection as the main process does.
    const mem = process.memoryUsage();
    console.log(
      `\n## memory of the process holding the core (after ${samples.length * 3} searches of a ${photoCount}-photo library)\n` +
        `  RSS ${fmtBytes(mem.rss)} (kernel high-water mark ${fmtBytes(process.resourceUsage().maxRSS * 1024)}), JS heap ${fmtBytes(mem.heapUsed)} of ${fmtBytes(mem.heapTotal)}, ` +
        `buffers ${fmtBytes(mem.external)}; SQLite page cache ${cacheKiB} KiB per connection`,
    );

    // 5. What a rescan of a tree this size costs before any file is read (--queries-only skips it: it loads
    // every row twice, ~2 GiB, and takes minutes at a million).
    if (!queriesOnly) {
      printRescanDiff(db);
      await printThumbCheck([rows]);
    }

    db.close();
    if (keep && !reuse) console.log(`\nkept: ${dbFile}`);
  } finally {
    if ((!keep && !buildOnly) || reuse) await rm(runDir, { recursive: true, force: true });
  }
}
