import { loadavg } from 'node:os';
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
