import { LibraryIndexer } from '../../src/main/core/library/library-indexer';

/** Time the indexer spent in its two halves during a real scan, summed over its concurrent workers. */
export interface ScanTiming {
  /** readFile: read + sha256 + probe + EXIF + decode + thumbnails. Wall time per call, overlapping across workers. */
  readMs: number;
  readCalls: number;
  /** record: the per-photo SQLite transaction (row, embedded caption/tags, FTS row). Sync, on the main thread. */
  recordMs: number;
  recordCalls: number;
}

type Hooked = {
  readFile: (...args: unknown[]) => Promise<unknown>;
  record: (...args: unknown[]) => unknown;
};

/**
 * Wraps the indexer's private per-file steps for the duration of one measurement, without editing core.
 * This depends on private method names; if core renames them the bench says so instead of printing zeros.
 * A proper hook (a `timings` callback in IndexerDeps) would be sturdier; see the benchmark report.
 */
export function instrumentIndexer(): { timing: ScanTiming; restore: () => void } {
  const proto = LibraryIndexer.prototype as unknown as Hooked;
  if (typeof proto.readFile !== 'function' || typeof proto.record !== 'function') {
    throw new Error('LibraryIndexer no longer has readFile/record; update bench/support/scan-timing.ts');
  }
  const timing: ScanTiming = { readMs: 0, readCalls: 0, recordMs: 0, recordCalls: 0 };
  const origRead = proto.readFile;
  const origRecord = proto.record;
  proto.readFile = async function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return await origRead.apply(this, args);
    } finally {
      timing.readMs += performance.now() - t;
      timing.readCalls++;
    }
  };
  proto.record = function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return origRecord.apply(this, args);
    } finally {
      timing.recordMs += performance.now() - t;
      timing.recordCalls++;
    }
  };
  return {
    timing,
    restore: () => {
      proto.readFile = origRead;
      proto.record = origRecord;
    },
  };
}
