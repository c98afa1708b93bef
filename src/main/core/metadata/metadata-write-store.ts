import { createHash } from 'node:crypto';
import type { JobCounts, JobRow, JobState } from '../jobs/job-store';
import { NotFoundError } from '../errors';
import { nowIso, type Db } from '../store/database';
import type { WriteTarget } from './xmp-fields';

/** The jobs-table kind of a metadata write; `jobs.model` holds the target ('sidecar' | 'embedded'). */
export const WRITE_METADATA_KIND = 'write-metadata';

export interface WrittenRecord {
  captionHash: string;
  keywordsHash: string;
  fileHash: string | null;
  writtenAt: string;
}

/**
 * Metadata write-back's tables: its jobs (rows of the shared `jobs` table with kind 'write-metadata', so they
 * survive restarts and show in the jobs drawer like caption jobs), the ledger of what was written where
 * (`metadata_writes`), and each library folder's embed opt-in (`roots.embed_metadata`).
 */
export class MetadataWriteStore {
  constructor(private readonly db: Db) {}

  /** Queues a write per photo; one already queued or running is left alone. Returns how many were queued. */
  enqueue(photoIds: readonly number[], target: WriteTarget): number {
    return this.enqueueEach(photoIds.map((photoId) => ({ photoId, target })));
  }

  /** Like enqueue, each photo with its own target (folders differ in whether they allow embedding). One transaction. */
  enqueueEach(items: readonly { photoId: number; target: WriteTarget }[]): number {
    const now = nowIso();
    const upsert = this.db.prepare(
      `INSERT INTO jobs (kind, photo_id, model, settings_key, priority, state, created_at, updated_at)
       VALUES ('${WRITE_METADATA_KIND}', ?, ?, '', 0, 'queued', ?, ?)
       ON CONFLICT (kind, photo_id, model, settings_key) DO UPDATE SET
         state = 'queued', attempts = 0, crashes = 0, error = NULL, started_at = NULL, finished_at = NULL, updated_at = excluded.updated_at
       WHERE jobs.state NOT IN ('queued', 'running')`,
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const { photoId, target } of items) n += upsert.run(photoId, target, now, now).changes;
      return n;
    })();
  }

  /** The next queued write, oldest first, moved to running in the same transaction. */
  claim(): JobRow | null {
    return this.db.transaction(() => {
      const row = this.db
        .prepare(`SELECT * FROM jobs WHERE kind = '${WRITE_METADATA_KIND}' AND state = 'queued' ORDER BY priority DESC, id LIMIT 1`)
        .get() as JobRow | undefined;
      if (!row) return null;
      const now = nowIso();
      this.db
        .prepare("UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?")
        .run(now, now, row.id);
      return { ...row, state: 'running' as const, attempts: row.attempts + 1 };
    })();
  }

  /** Ends a job; `write` (the ledger update) runs in the same transaction. Skips count as done, with their reason. */
  finish(jobId: number, state: 'done' | 'failed', error: string | null, write?: () => void): void {
    this.db.transaction(() => {
      write?.();
      const now = nowIso();
      this.db
        .prepare("UPDATE jobs SET state = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ? AND state = 'running'")
        .run(state, error, now, now, jobId);
    })();
  }

  /** Jobs a killed process left running go back to the queue (the write was atomic: the file is old or new). */
  recoverInterrupted(): number {
    return this.db
      .prepare(`UPDATE jobs SET state = 'queued', started_at = NULL, updated_at = ? WHERE kind = '${WRITE_METADATA_KIND}' AND state = 'running'`)
      .run(nowIso()).changes;
  }

  cancelQueued(): number {
    const now = nowIso();
    return this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ? WHERE kind = '${WRITE_METADATA_KIND}' AND state IN ('queued', 'running')`,
      )
      .run(now, now).changes;
  }

  counts(): JobCounts {
    const c: JobCounts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    const rows = this.db
      .prepare(`SELECT state, count(*) AS n FROM jobs WHERE kind = '${WRITE_METADATA_KIND}' GROUP BY state`)
      .all() as { state: JobState; n: number }[];
    for (const r of rows) c[r.state] = r.n;
    return c;
  }

  lastWrite(photoId: number, target: WriteTarget): WrittenRecord | null {
    const row = this.db
      .prepare('SELECT caption_hash, keywords_hash, file_hash, written_at FROM metadata_writes WHERE photo_id = ? AND target = ?')
      .get(photoId, target) as { caption_hash: string; keywords_hash: string; file_hash: string | null; written_at: string } | undefined;
    return row ? { captionHash: row.caption_hash, keywordsHash: row.keywords_hash, fileHash: row.file_hash, writtenAt: row.written_at } : null;
  }

  recordWrite(photoId: number, target: WriteTarget, rec: Omit<WrittenRecord, 'writtenAt'>): void {
    this.db
      .prepare(
        `INSERT INTO metadata_writes (photo_id, target, caption_hash, keywords_hash, file_hash, written_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (photo_id, target) DO UPDATE SET caption_hash = excluded.caption_hash, keywords_hash = excluded.keywords_hash,
           file_hash = excluded.file_hash, written_at = excluded.written_at`,
      )
      .run(photoId, target, rec.captionHash, rec.keywordsHash, rec.fileHash, nowIso());
  }

  /** Whether Tandem may rewrite photo files in this library folder (off unless the user turned it on). */
  embedEnabled(rootId: number): boolean {
    const row = this.db.prepare('SELECT embed_metadata FROM roots WHERE id = ?').get(rootId) as { embed_metadata: number } | undefined;
    if (!row) throw new NotFoundError(`Library folder ${rootId} does not exist.`);
    return row.embed_metadata === 1;
  }

  setEmbed(rootId: number, enabled: boolean): void {
    const info = this.db.prepare('UPDATE roots SET embed_metadata = ? WHERE id = ?').run(enabled ? 1 : 0, rootId);
    if (!info.changes) throw new NotFoundError(`Library folder ${rootId} does not exist.`);
  }

  embedRoots(): number[] {
    return (this.db.prepare('SELECT id FROM roots WHERE embed_metadata = 1 ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  }
}

/** Digest of a caption as written: its text and who wrote it (tandem:CaptionSource changes are changes too). */
export function captionHash(text: string | null, source: string | null): string {
  if (text === null) return '';
  return createHash('sha256').update(`${source ?? ''}\n${text}`).digest('hex');
}
