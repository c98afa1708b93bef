import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { missingSmallThumbs, thumbPath, thumbsExist } from '../../src/main/core/library/thumbnails';
import type { Db } from '../../src/main/core/store/database';
import { fmtBytes, table } from './format';

interface WalkedLike {
  relPath: string;
  size: number;
  mtimeMs: number;
}

/**
 * The part of a rescan that grows with the library and not with the changes: load what the database knows
 * of a root, then diff the walk's list of (path, size, mtime) against it. The walk here is simulated from the
 * rows themselves (a real 1M-file walk + stat is the disk's business; `bench index` times it per file),
 * with 0.1% of the files changed. Prints time and heap for the old `SELECT *` and for the slim select the indexer uses.
 */
export function printRescanDiff(db: Db): void {
  const rootId = db.prepare('SELECT id FROM roots ORDER BY id LIMIT 1').pluck().get() as number;
  const walked = (db.prepare('SELECT rel_path AS relPath, size, mtime_ms AS mtimeMs FROM photos WHERE root_id = ?').all(rootId) as WalkedLike[]).map(
    (f, i) => (i % 1000 === 0 ? { ...f, mtimeMs: f.mtimeMs + 1 } : f),
  );
  const variants: [string, string][] = [
    ['SELECT * (rowsForRoot, what rescans loaded before)', 'SELECT * FROM photos WHERE root_id = ?'],
    ['slim (scanRowsForRoot, what rescans load now)', 'SELECT id, rel_path, hash, size, mtime_ms, status FROM photos WHERE root_id = ?'],
  ];
  const rows: (string | number)[][] = [];
  for (const [label, sql] of variants) {
    globalThis.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const all = db.prepare(sql).all(rootId) as { rel_path: string; size: number; mtime_ms: number; status: string }[];
    const tLoad = performance.now();
    const byPath = new Map(all.map((r) => [r.rel_path, r]));
    let unchanged = 0;
    let changed = 0;
    for (const f of walked) {
      const e = byPath.get(f.relPath);
      if (e && e.status !== 'missing' && e.size === f.size && e.mtime_ms === f.mtimeMs) unchanged++;
      else changed++;
    }
    const tDiff = performance.now();
    const heap = process.memoryUsage().heapUsed - heap0;
    rows.push([label, all.length, (tLoad - t0).toFixed(0), (tDiff - tLoad).toFixed(0), (tDiff - t0).toFixed(0), fmtBytes(heap), `${unchanged} / ${changed}`]);
  }
  console.log(`\n## rescan of an unchanged tree at ${walked.length.toLocaleString('en')} files: load + diff (walk simulated), load ${loadavg()[0]!.toFixed(2)}`);
  console.log(table(['rows loaded', 'n', 'load ms', 'diff ms', 'total ms', 'heap growth', 'unchanged / to read'], rows));
}

/**
 * The other per-photo cost of a rescan of an unchanged tree: is the grid thumbnail still there? Empty files
 * in the real layout (thumbPath: 256 shard folders) stand in for a cache of N thumbnails, with 0.1% of the
 * asked hashes deleted; then the check both ways, as the indexer awaits them: one `stat` per hash (what
 * rescans did) and one listing per shard folder (missingSmallThumbs, what they do now). The cache grows
 * from the smaller size to the larger one in place, so each file is created once.
 */
export async function printThumbCheck(sizes: number[] = [100_000, 1_000_000]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-thumbcheck-'));
  const hashes: string[] = [];
  const rows: (string | number)[][] = [];
  try {
    for (const n of [...sizes].sort((a, b) => a - b)) {
      const t0 = performance.now();
      const made = new Set<string>();
      while (hashes.length < n) {
        const hash = randomBytes(32).toString('hex');
        const file = thumbPath(dir, hash, 'small');
        const shardDir = dirname(file);
        if (!made.has(shardDir)) mkdirSync(shardDir, { recursive: true });
        made.add(shardDir);
        writeFileSync(file, '');
        hashes.push(hash);
      }
      // 0.1% gone: the ones a rescan must re-read.
      const gone = hashes.filter((_, i) => i % 1000 === 7);
      for (const h of gone) rmSync(thumbPath(dir, h, 'small'));
      const createMs = performance.now() - t0;

      const load0 = loadavg()[0]!;
      let t = performance.now();
      let missingStat = 0;
      for (const h of hashes) if (!(await thumbsExist(dir, h))) missingStat++;
      const statMs = performance.now() - t;
      const load1 = loadavg()[0]!;
      t = performance.now();
      const missingList = (await missingSmallThumbs(dir, hashes)).size;
      const listMs = performance.now() - t;
      const load2 = loadavg()[0]!;
      rows.push(
        [`stat per hash (thumbsExist)`, n.toLocaleString('en'), statMs.toFixed(0), ((statMs * 1000) / n).toFixed(2), missingStat, load1.toFixed(2)],
        [`one listing per shard (missingSmallThumbs)`, n.toLocaleString('en'), listMs.toFixed(0), ((listMs * 1000) / n).toFixed(2), missingList, load2.toFixed(2)],
      );
      console.log(`  thumb cache at ${n.toLocaleString('en')}: files made in ${(createMs / 1000).toFixed(1)} s, load before checks ${load0.toFixed(2)}`);
      // Put the deleted ones back so the next, larger size starts from a full cache.
      for (const h of gone) writeFileSync(thumbPath(dir, h, 'small'), '');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n## rescan thumbnail check of an unchanged tree (0.1% of thumbnails missing), 256 shard folders, load ${loadavg()[0]!.toFixed(2)}`);
  console.log(table(['check', 'hashes', 'ms', 'µs / hash', 'missing found', 'load after'], rows));
}
