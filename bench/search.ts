/**
 * `npm run bench -- search [--rows 100000] [--keep] [--slow-ms 50] [--db FILE]`
 *
 * Builds a fresh database of synthetic photo rows (schema from the migrations, FTS rows through the core's
 * refreshSearchRow), then times ~500 mixed queries through SearchService.search/list as the app runs them.
 * Kinds whose p95 is over --slow-ms are explained (EXPLAIN QUERY PLAN of the statements actually run), and
 * candidate fixes are timed on the same data as what-ifs; core files are not touched.
 * --db FILE reuses a database kept by an earlier --keep run (skips the build; for iterating on queries).
 */
import { mkdir, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { SearchService } from '../src/main/core/search/search-service';
import { openDatabase, type Db } from '../src/main/core/store/database';
import { parseArgs } from './support/args';
import { sqliteSize } from './support/dir-size';
import { fmtBytes, fmtDuration, fmtMs, pct, StatusLine, table } from './support/format';
import { BENCH_DATA_DIR } from './support/photo-library';
import { machineLine, ResourceMonitor } from './support/resource-monitor';
import { makeQueries, type BenchQuery, type QueryKind } from './support/search-queries';
import { StatementProbe, type StatementCall } from './support/statement-probe';
import { summarize, type Summary } from './support/stats';
import { buildSyntheticLibrary, checkShownCaptions } from './support/synthetic-library';
import { runWhatIfs } from './support/search-what-ifs';

export interface Sample {
  q: BenchQuery;
  ms: number;
  total: number;
  calls: StatementCall[];
  /** Time spent compiling statements: SearchService prepares its SQL on every call. */
  prepareMs: number;
}

export function runQuery(service: SearchService, q: BenchQuery): number {
  if (q.op === 'search') {
    const r = service.search(q.text, q.filters, q.offset, q.limit);
    if (r.notice?.startsWith('This search could not be run')) throw new Error(`${q.text}: ${r.notice}`);
    return r.total;
  }
  return service.list(q.filters, q.sort, q.offset, q.limit).total;
}

export function describe(q: BenchQuery): string {
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
    `  rows + captions + tags: ${fmtDuration(build.rowsMs / 1000)}; FTS rows via refreshSearchRow: ${fmtDuration(build.ftsMs / 1000)} ` +
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
  const slowMs = args.number('slow-ms', 50);
  const reuse = args.string('db', '');
  console.log(`# search benchmark: ${rows.toLocaleString('en')} photos`);
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

    // 2. Queries.
    const service = new SearchService(db);
    const queries = makeQueries(db);
    const probe = new StatementProbe(db);
    // Untimed warm-up: JIT, and the first touch of each table through the OS page cache.
    for (const q of queries.slice(0, 30)) runQuery(service, q);
    const samples: Sample[] = [];
    const qMonitor = new ResourceMonitor();
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      probe.reset();
      const t0 = performance.now();
      const total = runQuery(service, q);
      const ms = performance.now() - t0;
      samples.push({ q, ms, total, calls: probe.calls, prepareMs: probe.prepareMs });
      if (i % 50 === 0) status.update(`queries ${i}/${queries.length}`);
    }
    const qRes = qMonitor.stop();
    status.done(`ran ${samples.length} queries in ${fmtDuration(qRes.wallMs / 1000)}`);

    const kinds = [...new Set(samples.map((s) => s.q.kind))].sort();
    const byKind = new Map<QueryKind, Sample[]>(kinds.map((k) => [k, samples.filter((s) => s.q.kind === k)]));
    const summaries = new Map<QueryKind, Summary>();
    const rowsOut: (string | number)[][] = [];
    for (const [kind, list] of byKind) {
      const s = summarize(list.map((x) => x.ms));
      summaries.set(kind, s);
      const totals = summarize(list.map((x) => x.total));
      // The count(*) statement runs first in both search() and list().
      const countShare = list.reduce((n, x) => n + (x.calls[0]?.ms ?? 0), 0) / list.reduce((n, x) => n + x.ms, 0);
      const prepare = list.reduce((n, x) => n + x.prepareMs, 0) / list.length;
      rowsOut.push([
        kind, s.n, s.p50.toFixed(2), s.p95.toFixed(2), s.p99.toFixed(2), s.max.toFixed(2), s.mean.toFixed(2),
        Math.round(totals.p50), Math.round(totals.max), pct(countShare, 1), prepare.toFixed(2), s.p95 > slowMs ? 'SLOW' : '',
      ]);
    }
    const all = summarize(samples.map((x) => x.ms));
    const allPrepare = samples.reduce((n, x) => n + x.prepareMs, 0) / samples.length;
    rowsOut.push(['ALL', all.n, all.p50.toFixed(2), all.p95.toFixed(2), all.p99.toFixed(2), all.max.toFixed(2), all.mean.toFixed(2), '', '', '', allPrepare.toFixed(2), '']);
    console.log(`\n## latency per query kind (ms, limit 200, ${rows.toLocaleString('en')} photos)`);
    console.log(
      table(['kind', 'n', 'p50', 'p95', 'p99', 'max', 'mean', 'hits p50', 'hits max', 'count(*) share', 'prepare mean', `p95>${slowMs}`], rowsOut),
    );
    console.log(
      `  main thread busy ${pct(qRes.mainThreadUtilization, 1)}; machine CPU ${qRes.machineCpuShare === null ? '?' : pct(qRes.machineCpuShare, 1)}, ` +
        `this process ${pct(qRes.processCpuShare, 1)} (of ${cpus().length} cores; SQLite runs on the main thread only); load ${qRes.loadAvgStart.toFixed(2)} → ${qRes.loadAvgEnd.toFixed(2)}`,
    );

    // 3. Why slow kinds are slow.
    const slow = [...summaries].filter(([, s]) => s.p95 > slowMs).map(([k]) => k);
    for (const kind of slow) {
      const list = byKind.get(kind)!;
      const worst = [...list].sort((a, b) => b.ms - a.ms).slice(0, 3);
      console.log(`\n## slow: ${kind} (p95 ${summaries.get(kind)!.p95.toFixed(1)} ms)`);
      for (const w of worst) {
        const split = w.calls.map((c) => `${c.sql.trim().startsWith('SELECT count') ? 'count' : 'page'} ${fmtMs(c.ms)}`).join(', ');
        console.log(`  ${fmtMs(w.ms)}  ${describe(w.q)} → ${w.total} hits (${split})`);
      }
      const w = worst[0]!;
      for (const call of w.calls) {
        console.log(`  plan of the ${call.sql.trim().startsWith('SELECT count') ? 'count' : 'page'} statement:`);
        for (const line of probe.explain(call)) console.log(`  ${line}`);
      }
    }
    probe.restore();

    // 4. Candidate fixes, timed on this data.
    await runWhatIfs(db, samples, slowMs);

    db.close();
    if (keep && !reuse) console.log(`\nkept: ${dbFile}`);
  } finally {
    if (!keep || reuse) await rm(runDir, { recursive: true, force: true });
  }
}
