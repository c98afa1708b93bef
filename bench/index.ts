/**
 * `npm run bench -- index [--photos 2000] [--keep] [--subset 300] [--concurrency 1,2,3,4] [--sample 30] [--no-sweep] [--stages-only]
 *   [--versus-only] [--rounds 2]`
 *
 * Indexes a generated library of camera-sized JPEGs (4000×3000, quality 90, EXIF) from a cold data folder,
 * in-process through core.library.scan, then rescans it warm; then sweeps the indexer's concurrency on a
 * subset. The photos are generated once and cached under bench/.data/ (gitignored).
 * "Cold" means a fresh data folder; the photo files themselves are in the OS page cache after generation.
 * --stages-only skips the scans and prints only the per-stage costs and the thumbnail encoder comparison.
 * --versus-only runs only the indexer against a bare loop (hash + EXIF + small thumbnail) on --subset photos.
 */
import { mkdir, realpath, rm } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ScanCounts } from '../src/shared/api';
import { openCore } from '../src/main/core/core';
import { walkPhotos } from '../src/main/core/library/file-walker';
import { LibraryIndexer } from '../src/main/core/library/library-indexer';
import { PhotoStore } from '../src/main/core/library/photo-store';
import { thumbsExist } from '../src/main/core/library/thumbnails';
import { openDatabase } from '../src/main/core/store/database';
import { parseArgs } from './support/args';
import { dirSize, sqliteSize } from './support/dir-size';
import { fmtBytes, fmtDuration, fmtMs, fmtRate, pct, StatusLine, table } from './support/format';
import { BENCH_DATA_DIR, ensurePhotoPool, libraryFolder } from './support/photo-library';
import { machineLine, ResourceMonitor, type ResourceReport } from './support/resource-monitor';
import { instrumentIndexer, type ScanTiming } from './support/scan-timing';
import { STAGES, stageBreakdown } from './support/stage-breakdown';
import { compareThumbnailEncoders } from './support/thumbnail-what-ifs';
import { bareLoop, bareLoopBothRenditions, indexerRun, type LoopRun } from './support/bare-index-loop';

interface ScanResult {
  counts: ScanCounts;
  res: ResourceReport;
  /** Walking the tree and diffing against the database, before the first file is read. */
  walkMs: number;
  timing: ScanTiming;
}

async function timedScan(
  label: string,
  scan: (onProgress: (p: { phase: string; done: number; total: number; ratePerSec: number; etaSec: number | null }) => void) => Promise<ScanCounts>,
): Promise<ScanResult> {
  const status = new StatusLine();
  const { timing, restore } = instrumentIndexer();
  const monitor = new ResourceMonitor();
  const t0 = performance.now();
  let walkMs = 0;
  let counts: ScanCounts;
  try {
    counts = await scan((p) => {
      if (p.phase === 'indexing' && walkMs === 0) walkMs = performance.now() - t0;
      if (p.phase === 'indexing') {
        status.update(
          `${label}: ${p.done}/${p.total}  ${p.ratePerSec.toFixed(2)} photos/s  ETA ${p.etaSec === null ? '?' : fmtDuration(p.etaSec)}`,
        );
      }
    });
  } finally {
    restore();
  }
  const res = monitor.stop();
  status.done(`${label}: done in ${fmtDuration(res.wallMs / 1000)}`);
  return { counts, res, walkMs, timing };
}

/** CPU seconds this process spent per photo: unlike photos/s, it barely moves when others load the machine. */
function cpuPerPhoto(r: ResourceReport, photos: number): number {
  return (r.cpuUserMs + r.cpuSystemMs) / 1000 / Math.max(1, photos);
}

function resourceLines(r: ResourceReport): string[] {
  return [
    `  CPU: this process ${(r.cpuUserMs / 1000).toFixed(1)} s user + ${(r.cpuSystemMs / 1000).toFixed(1)} s sys` +
      ` = ${pct(r.processCpuShare, 1)} of all cores; machine busy ${r.machineCpuShare === null ? '?' : pct(r.machineCpuShare, 1)}` +
      ` (the difference is other users), load ${r.loadAvgStart.toFixed(2)} → ${r.loadAvgEnd.toFixed(2)}`,
    `  main thread busy ${pct(r.mainThreadUtilization, 1)} of the time (sha256, exifr, SQLite and JS run there)`,
    `  peak RSS: sampled ${fmtBytes(r.peakRssSampled)}, kernel maxRSS so far ${fmtBytes(r.maxRssProcess)}`,
  ];
}

/**
 * The parts of a warm rescan: walking the folder tree, and the per-photo thumbnail check that the
 * indexer awaits one photo at a time (two stat calls each), run as the indexer runs them.
 */
async function rescanParts(dir: string, thumbsDir: string, hashes: string[]): Promise<string> {
  let t = performance.now();
  const files = await walkPhotos(dir);
  const walkMs = performance.now() - t;
  t = performance.now();
  for (const h of hashes) await thumbsExist(thumbsDir, h);
  const checkMs = performance.now() - t;
  return (
    `  of which walkPhotos ${fmtMs(walkMs)} (${files.length} files), thumbsExist awaited one by one ${fmtMs(checkMs)} ` +
    `(${((checkMs * 1000) / Math.max(1, hashes.length)).toFixed(0)} µs/photo); the rest is reading rows and diffing`
  );
}

/** Per-stage cost of one photo, and what other thumbnail encoders would cost on the same pixels. */
async function printStages(
  lib: { dir: string; specs: { relPath: string }[] },
  count: number,
  sampleSize: number,
  thumbsDir: string,
  dbPerPhoto: number | null,
): Promise<void> {
  const step = Math.max(1, Math.floor(count / sampleSize));
  const sample = lib.specs.filter((_, i) => i % step === 0).slice(0, sampleSize).map((s) => join(lib.dir, s.relPath));
  const stages = await stageBreakdown(sample, thumbsDir);
  const db = dbPerPhoto ?? 0;
  const stageTotal = STAGES.reduce((n, s) => n + stages.meanMs[s], 0);
  console.log(`\n## time per photo by stage (${stages.photos} photos, one at a time, single libvips thread)`);
  const stageRows: (string | number)[][] = STAGES.map((s) => [s, stages.meanMs[s].toFixed(1), pct(stages.meanMs[s], stageTotal + db)]);
  stageRows.push(['  of which encode+write', (stages.meanMs.thumbnails - stages.meanMs['decode+resize']).toFixed(1), '']);
  if (dbPerPhoto !== null) stageRows.push(['db record (from scan)', db.toFixed(1), pct(db, stageTotal + db)]);
  const perPhoto = stageTotal + db - stages.meanMs['decode+resize'];
  stageRows.push(['total as the indexer runs it', perPhoto.toFixed(1), '']);
  console.log(table(['stage', 'ms/photo', 'share'], stageRows));
  console.log(
    `  (decode+resize is measured separately and also happens inside thumbnails; the indexer total counts it once)\n` +
      `  ⇒ one core sustains ~${(1000 / perPhoto).toFixed(2)} photos/s; two cores at best ~${(2000 / perPhoto).toFixed(2)} photos/s`,
  );

  const enc = await compareThumbnailEncoders(sample.slice(0, Math.min(sample.length, 15)));
  const current = enc.find((e) => e.name.startsWith('webp q82 effort 2'))!;
  console.log(`\n## thumbnail encoders on the same decoded 1280 px pixels (${Math.min(sample.length, 15)} photos)`);
  console.log(
    table(
      ['encoder', 'ms/photo', 'bytes/photo', 'time vs current large'],
      enc.map((e) => [e.name, e.meanMs.toFixed(1), fmtBytes(e.meanBytes), e.name.startsWith('small') ? '' : pct(e.meanMs, current.meanMs)]),
    ),
  );
}

/**
 * Issue 14's goal: the indexer at ≥ 90% of a bare loop that hashes, reads metadata and writes the grid's
 * thumbnail, on the same files. Runs alternate (bare, Tandem, bare, Tandem, …) so load from others hits
 * both alike; the ratio is of the best run of each.
 */
async function printVersus(subset: number, runDir: string, rounds: number, withBefore = true): Promise<void> {
  const sub = await libraryFolder(subset);
  const dir = await realpath(sub.dir);
  const files = sub.specs.map((s) => join(dir, s.relPath));
  const runs: LoopRun[] = [];
  for (let i = 0; i < rounds; i++) {
    runs.push(await bareLoop(files, join(runDir, `bare-${i}`), 3));
    await rm(join(runDir, `bare-${i}`), { recursive: true, force: true });
    runs.push(await indexerRun(dir, join(runDir, `versus-${i}`), 3));
    await rm(join(runDir, `versus-${i}`), { recursive: true, force: true });
  }
  if (withBefore) {
    runs.push(await bareLoopBothRenditions(files, join(runDir, 'bare-both'), 3));
    await rm(join(runDir, 'bare-both'), { recursive: true, force: true });
  }
  console.log(`\n## Tandem vs a bare loop (read + sha256 + EXIF + 320 px WebP), ${subset} photos, 3 in flight, alternated`);
  console.log(table(['run', 'photos', 'wall', 'photos/s', 'load (1 min)'], runs.map((r) => [r.label, r.photos, fmtDuration(r.wallMs / 1000), fmtRate(r.photos, r.wallMs / 1000), r.load.toFixed(2)])));
  const best = (label: string) => Math.max(...runs.filter((r) => r.label === label).map((r) => r.photos / (r.wallMs / 1000)));
  const ratio = best('Tandem indexer') / best('bare loop');
  console.log(`  best Tandem ${best('Tandem indexer').toFixed(2)} photos/s vs best bare ${best('bare loop').toFixed(2)} photos/s: ${pct(ratio, 1)} (goal ≥ 90%)`);
  if (withBefore) {
    const before = best('bare loop, both renditions (before)');
    console.log(`  the old eager pipeline (1280 px preview + 320 px thumbnail) as a bare loop: ${before.toFixed(2)} photos/s; Tandem now makes ${(best('Tandem indexer') / before).toFixed(1)}× as many photos/s`);
  }
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = args.number('photos', 2000);
  const subset = Math.min(count, args.number('subset', 300));
  const keep = args.flag('keep');
  const sampleSize = Math.min(count, args.number('sample', 30));
  const levels = args
    .string('concurrency', '1,2,3,4')
    .split(',')
    .filter(Boolean)
    .map(Number);
  const skipSweep = args.flag('no-sweep');
  const stagesOnly = args.flag('stages-only');
  const versusOnly = args.flag('versus-only');
  const rounds = args.number('rounds', 2);

  console.log(`# index benchmark: ${count} photos, 4000×3000 JPEG q90`);
  console.log(`machine: ${machineLine()}, node ${process.version}`);
  console.log(
    `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}: ${sharp.concurrency()} libvips thread(s) per image, ` +
      `libuv pool ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}, indexer default concurrency 3`,
  );

  // 1. The photos (cached).
  const gen = await ensurePhotoPool(count);
  if (gen.generated > 0) {
    console.log(
      `generation: ${gen.generated} new photos in ${fmtDuration(gen.wallMs / 1000)} with ${gen.workers} worker processes ` +
        `(${fmtRate(gen.generated, gen.wallMs / 1000)} photos/s; ${fmtMs(gen.photoMsMean)} per photo in a worker, ` +
        `bases ${fmtDuration(gen.baseMs / 1000)} summed), ${gen.reused} reused from the cache`,
    );
  } else {
    console.log(`generation: all ${count} photos reused from the cache (bench/.data/)`);
  }
  const lib = await libraryFolder(count);
  console.log(`library: ${lib.dir}\n  ${count} files, ${fmtBytes(lib.bytes)} (${fmtBytes(lib.bytes / count)} per photo)`);

  const runDir = join(BENCH_DATA_DIR, 'runs', `index-${Date.now()}`);
  await mkdir(runDir, { recursive: true });
  if (versusOnly) {
    try {
      await printVersus(subset, runDir, rounds);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
    return;
  }
  if (stagesOnly) {
    try {
      await printStages(lib, count, sampleSize, join(runDir, 'stage-thumbs'), null);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
    return;
  }
  try {
    // 2. Cold index through the core, as the app and CLI do it.
    const core = openCore({ dataDir: join(runDir, 'main') });
    const root = await core.library.addRoot(lib.dir);
    const cold = await timedScan('cold index', (onProgress) => core.library.scan([root.id], { onProgress }));
    const dbLive = await sqliteSize(core.paths.dbFile);
    const thumbs = await dirSize(core.paths.thumbsDir);
    const warm = await timedScan('warm rescan', (onProgress) => core.library.scan([root.id], { onProgress }));
    const hashes = core.db.prepare('SELECT hash FROM photos').pluck().all() as string[];
    const warmParts = await rescanParts(lib.dir, core.paths.thumbsDir, hashes);
    await core.close();
    const dbClosed = await sqliteSize(core.paths.dbFile);

    const c = cold.counts;
    const sec = cold.res.wallMs / 1000;
    console.log(`\n## cold index (fresh data folder)`);
    console.log(`  counts: ${c.seen} seen, ${c.ok} ok, ${c.broken} broken, ${c.unsupported} unsupported, ${c.thumbnails} with thumbnails`);
    console.log(
      `  wall ${fmtDuration(sec)}: ${fmtRate(c.seen, sec)} photos/s overall, ${fmtRate(c.thumbnails, sec)} thumbnail pairs/s ` +
        `(${fmtRate(c.thumbnails * 2, sec)} thumbnail files/s), ${(lib.bytes / 1048576 / sec).toFixed(1)} MiB/s of JPEG`,
    );
    console.log(`  walk + diff before the first file: ${fmtMs(cold.walkMs)}`);
    console.log(
      `  per photo inside the scan: readFile (read+hash+probe+exif+thumbnails) ${fmtMs(cold.timing.readMs / Math.max(1, cold.timing.readCalls))} wall` +
        ` (overlapping: LibraryService's default of 3 in flight), record (SQLite transaction) ${fmtMs(cold.timing.recordMs / Math.max(1, cold.timing.recordCalls))}` +
        ` = ${fmtDuration(cold.timing.recordMs / 1000)} total, ${pct(cold.timing.recordMs, cold.res.wallMs)} of wall`,
    );
    for (const l of resourceLines(cold.res)) console.log(l);
    const coldCpu = cpuPerPhoto(cold.res, c.seen);
    console.log(
      `  ${coldCpu.toFixed(3)} CPU s per photo ⇒ on an idle machine with ${cpus().length} cores: ~${(cpus().length / coldCpu).toFixed(1)} photos/s, ` +
        `${fmtDuration((coldCpu * c.seen) / cpus().length)} for this library (if the work spreads over all cores)`,
    );
    console.log(
      `  database: ${fmtBytes(dbLive.main + dbLive.wal)} live (${fmtBytes(dbLive.main)} + WAL ${fmtBytes(dbLive.wal)}), ` +
        `${fmtBytes(dbClosed.main)} after close (${fmtBytes(dbClosed.main / count)} per photo)`,
    );
    console.log(
      `  thumbnail cache: ${fmtBytes(thumbs.bytes)} in ${thumbs.files} files (${fmtBytes(thumbs.bytes / Math.max(1, c.thumbnails))} per photo, ` +
        `${pct(thumbs.bytes, lib.bytes)} of the originals)`,
    );

    const w = warm.counts;
    console.log(`\n## warm rescan (nothing changed)`);
    console.log(`  counts: ${w.seen} seen, ${w.unchanged} unchanged, ${w.added} added, ${w.changed} changed`);
    console.log(
      `  wall ${fmtMs(warm.res.wallMs)} (${fmtRate(w.seen, warm.res.wallMs / 1000)} photos/s; walk + diff ${fmtMs(warm.walkMs)})`,
    );
    console.log(warmParts);
    for (const l of resourceLines(warm.res)) console.log(l);

    // 2b. Against the floor: a bare loop on the same files, alternated with the indexer.
    await printVersus(subset, runDir, rounds);

    // 3. Where one photo's time goes, one at a time.
    await printStages(lib, count, sampleSize, join(runDir, 'stage-thumbs'), cold.timing.recordMs / Math.max(1, cold.timing.recordCalls));

    // 4. Indexer concurrency on a subset, constructed directly (LibraryService does not pass concurrency).
    const sweep: { level: number; r: ScanResult }[] = [];
    if (!skipSweep) {
      const sub = await libraryFolder(subset);
      for (const level of levels) {
        const dir = join(runDir, `sweep-${level}`);
        const db = openDatabase(join(dir, 'tandem.db'));
        const rootRow = new PhotoStore(db).insertRoot(await realpath(sub.dir));
        const indexer = new LibraryIndexer({ db, thumbsDir: join(dir, 'thumbs'), concurrency: level });
        const r = await timedScan(`concurrency ${level}`, (onProgress) => indexer.scan([rootRow], { onProgress }));
        db.close();
        sweep.push({ level, r });
        await rm(dir, { recursive: true, force: true });
      }
      console.log(`\n## indexer concurrency, ${subset} photos, fresh data folder each`);
      console.log(`  (proc CPU = share of all cores this process got; when machine CPU is ~100%, others took the rest)`);
      console.log(
        table(
          ['concurrency', 'wall', 'photos/s', 'CPU s/photo', 'proc CPU', 'machine CPU', 'main thread', 'peak RSS (sampled)'],
          sweep.map(({ level, r }) => [
            level,
            fmtDuration(r.res.wallMs / 1000),
            fmtRate(r.counts.seen, r.res.wallMs / 1000),
            cpuPerPhoto(r.res, r.counts.seen).toFixed(3),
            pct(r.res.processCpuShare, 1),
            r.res.machineCpuShare === null ? '?' : pct(r.res.machineCpuShare, 1),
            pct(r.res.mainThreadUtilization, 1),
            fmtBytes(r.res.peakRssSampled),
          ]),
        ),
      );
    }

    // 5. Summary.
    console.log(`\n## summary`);
    const rows: (string | number)[][] = [
      ['photos', count],
      ['library size', fmtBytes(lib.bytes)],
      ['generation (this run)', gen.generated > 0 ? `${fmtDuration(gen.wallMs / 1000)} for ${gen.generated}` : 'cached'],
      ['cold index wall', fmtDuration(sec)],
      ['photos/s', fmtRate(c.seen, sec)],
      ['thumbnail pairs/s', fmtRate(c.thumbnails, sec)],
      ['peak RSS (sampled / maxRSS)', `${fmtBytes(cold.res.peakRssSampled)} / ${fmtBytes(cold.res.maxRssProcess)}`],
      ['process CPU / machine CPU', `${pct(cold.res.processCpuShare, 1)} / ${cold.res.machineCpuShare === null ? '?' : pct(cold.res.machineCpuShare, 1)}`],
      ['db size (closed)', fmtBytes(dbClosed.main)],
      ['thumbnail cache', `${fmtBytes(thumbs.bytes)} (${thumbs.files} files)`],
      ['warm rescan wall', fmtMs(warm.res.wallMs)],
      ...sweep.map(({ level, r }) => [`concurrency ${level} (${subset} photos)`, `${fmtRate(r.counts.seen, r.res.wallMs / 1000)} photos/s`]),
    ];
    console.log(table(['metric', 'value'], rows));
    if (keep) console.log(`\nkept: ${runDir}`);
  } finally {
    if (!keep) await rm(runDir, { recursive: true, force: true });
  }
}
