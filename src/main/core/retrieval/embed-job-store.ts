import { crashedJobs, failJob, finishJob, type JobCounts, type JobRow, type JobState } from '../jobs/job-store';
import { nowIso, type Db } from '../store/database';

/** The jobs-table kind of an image embedding; `jobs.model` is the retrieval pack, `jobs.settings_key` the content hash. */
export const EMBED_KIND = 'embed';

/**
 * Embedding jobs in the shared `jobs` table (so they survive restarts and crashes like caption jobs). The job's
 * settings_key is the photo's content hash when it was queued: a changed file is new work (a new job), the same
 * bytes are never embedded twice (the embedding is looked up by hash before a job is queued and again before it
 * runs), and a file that failed keeps failing only for those bytes.
 */
export class EmbedJobStore {
  constructor(private readonly db: Db) {}

  /**
   * Queues an embedding for each readable photo whose content has none for the model yet. Idempotent; a failed
   * job for the same bytes is not retried (it would fail the same way) unless `retryFailed`. Returns how many were queued.
   */
  enqueue(photoIds: readonly number[], model: string, opts: { retryFailed?: boolean; priority?: number } = {}): number {
    const now = nowIso();
    const photo = this.db.prepare('SELECT hash, status FROM photos WHERE id = ?');
    const embedded = this.db.prepare('SELECT 1 FROM embeddings WHERE hash = ? AND model = ?');
    const existing = this.db.prepare(`SELECT id, state FROM jobs WHERE kind = '${EMBED_KIND}' AND photo_id = ? AND model = ? AND settings_key = ?`);
    const insert = this.db.prepare(
      `INSERT INTO jobs (kind, photo_id, model, settings_key, priority, state, created_at, updated_at)
       VALUES ('${EMBED_KIND}', ?, ?, ?, ?, 'queued', ?, ?)`,
    );
    const requeue = this.db.prepare(
      "UPDATE jobs SET state = 'queued', priority = ?, attempts = 0, crashes = 0, error = NULL, updated_at = ?, started_at = NULL, finished_at = NULL WHERE id = ?",
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const photoId of photoIds) {
        const p = photo.get(photoId) as { hash: string; status: string } | undefined;
        // Only decodable photos are embedded: a broken file has no pixels to embed, and its reason is already shown.
        if (!p || p.status !== 'ok') continue;
        if (embedded.get(p.hash, model)) continue;
        const job = existing.get(photoId, model, p.hash) as { id: number; state: JobState } | undefined;
        if (job) {
          if (job.state === 'queued' || job.state === 'running') continue;
          if (job.state === 'failed' && !opts.retryFailed) continue;
          requeue.run(opts.priority ?? 0, now, job.id);
          n++;
          continue;
        }
        insert.run(photoId, model, p.hash, opts.priority ?? 0, now, now);
        n++;
      }
      return n;
    })();
  }

  /** Moves up to `limit` queued embed jobs of the model to running; a job that crashed the process before runs alone. */
  claim(model: string, limit: number): JobRow[] {
    return this.db.transaction(() => {
      const first = this.db
        .prepare(`SELECT * FROM jobs WHERE kind = '${EMBED_KIND}' AND model = ? AND state = 'queued' ORDER BY priority DESC, id LIMIT 1`)
        .get(model) as JobRow | undefined;
      if (!first) return [];
      const rows =
        first.crashes > 0
          ? [first]
          : (this.db
              .prepare(
                `SELECT * FROM jobs WHERE kind = '${EMBED_KIND}' AND model = ? AND state = 'queued' AND crashes = 0
                 ORDER BY priority DESC, id LIMIT ?`,
              )
              .all(model, limit) as JobRow[]);
      const now = nowIso();
      const start = this.db.prepare(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?",
      );
      for (const r of rows) start.run(now, now, r.id);
      return rows.map((r) => ({ ...r, state: 'running' as const, attempts: r.attempts + 1 }));
    })();
  }

  /** Stores a job's result and marks it done in one transaction; a job cancelled meanwhile stays cancelled. */
  finish(jobId: number, write: () => void): boolean {
    return finishJob(this.db, jobId, write);
  }

  fail(jobId: number, error: string): void {
    failJob(this.db, jobId, error);
  }

  /** The inference process died with these jobs in it: back to the queue, or failed after the second crash (alone). */
  crashed(jobIds: readonly number[], reason: string, maxCrashes = 2): { requeued: number; failed: number } {
    return crashedJobs(this.db, jobIds, reason, 'reading this photo for search by meaning', maxCrashes);
  }

  /** Embed jobs a killed process left running go back to the queue. */
  recoverInterrupted(): number {
    return this.db
      .prepare(`UPDATE jobs SET state = 'queued', started_at = NULL, updated_at = ? WHERE kind = '${EMBED_KIND}' AND state = 'running'`)
      .run(nowIso()).changes;
  }

  /** Cancels the embedding queued or running (for one model, or all); caption and metadata jobs are left alone. */
  cancel(model?: string): number {
    const now = nowIso();
    return this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ?
         WHERE kind = '${EMBED_KIND}' AND state IN ('queued', 'running') AND (? IS NULL OR model = ?)`,
      )
      .run(now, now, model ?? null, model ?? null).changes;
  }

  counts(model?: string): JobCounts {
    const c: JobCounts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    const rows = this.db
      .prepare(`SELECT state, count(*) AS n FROM jobs WHERE kind = '${EMBED_KIND}' AND (? IS NULL OR model = ?) GROUP BY state`)
      .all(model ?? null, model ?? null) as { state: JobState; n: number }[];
    for (const r of rows) c[r.state] = r.n;
    return c;
  }
}
