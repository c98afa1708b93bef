import { nowIso, type Db } from '../store/database';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRow {
  id: number;
  kind: string;
  photo_id: number;
  model: string;
  settings_key: string;
  priority: number;
  state: JobState;
  attempts: number;
  crashes: number;
  error: string | null;
}

export interface JobCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
  cancelled: number;
}

/**
 * Jobs in SQLite (DESIGN.md §2): they survive restarts, and every state change is one transaction,
 * so a crash at any point leaves each job in exactly one state.
 */
/*
 * What happens to one job by its id is the same for every kind (caption, embed, …): these are shared by the
 * kinds' stores, which differ only in what they queue and claim.
 */

/** Runs `write` and marks the job done in one transaction; only a running job finishes (a cancelled one stays so). */
export function finishJob(db: Db, jobId: number, write?: () => void): boolean {
  return db.transaction(() => {
    const row = db.prepare('SELECT state FROM jobs WHERE id = ?').get(jobId) as { state: JobState } | undefined;
    if (row?.state !== 'running') return false;
    write?.();
    const now = nowIso();
    db.prepare("UPDATE jobs SET state = 'done', error = NULL, finished_at = ?, updated_at = ? WHERE id = ?").run(now, now, jobId);
    return true;
  })();
}

export function failJob(db: Db, jobId: number, error: string): void {
  const now = nowIso();
  db.prepare("UPDATE jobs SET state = 'failed', error = ?, finished_at = ?, updated_at = ? WHERE id = ? AND state = 'running'").run(error, now, now, jobId);
}

/**
 * The inference process died with these jobs in it: back to the queue, or failed after the second crash. Jobs
 * are retried in smaller batches after a crash, so alone in a batch a second crash pins it on that photo.
 * `doing` completes "stopped twice while …", e.g. 'captioning this photo'.
 */
export function crashedJobs(db: Db, jobIds: readonly number[], reason: string, doing: string, maxCrashes = 2): { requeued: number; failed: number } {
  return db.transaction(() => {
    let requeued = 0;
    let failed = 0;
    const now = nowIso();
    const read = db.prepare('SELECT state, crashes FROM jobs WHERE id = ?');
    for (const id of jobIds) {
      const row = read.get(id) as { state: JobState; crashes: number } | undefined;
      if (row?.state !== 'running') continue;
      const crashes = row.crashes + 1;
      if (crashes >= maxCrashes) {
        db.prepare("UPDATE jobs SET state = 'failed', crashes = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?").run(
          crashes,
          `The inference process stopped twice while ${doing} (${reason}).`,
          now,
          now,
          id,
        );
        failed++;
      } else {
        db.prepare("UPDATE jobs SET state = 'queued', crashes = ?, error = ?, updated_at = ? WHERE id = ?").run(crashes, reason, now, id);
        requeued++;
      }
    }
    return { requeued, failed };
  })();
}

export class JobStore {
  constructor(private readonly db: Db) {}

  /**
   * Queues caption jobs for photos. Idempotent: a photo already queued, running or done for the same model
   * and settings is left alone, and one whose newest model caption came from these settings is skipped,
   * unless `regenerate`. Returns how many jobs were (re)queued.
   */
  enqueueCaptions(photoIds: readonly number[], model: string, settingsKey: string, opts: { regenerate?: boolean; priority?: number } = {}): number {
    const now = nowIso();
    const source = `model:${model}`;
    // A caption stores its precision next to the generation settings (caption-settings.ts `captionRecord`);
    // precision is not part of the key, so a caption made at either precision counts as done.
    const hasCaption = this.db.prepare(
      `SELECT 1 FROM captions WHERE photo_id = ? AND source = ?
       AND (settings = ? OR (json_valid(settings) AND json_remove(settings, '$.precision') = ?)) LIMIT 1`,
    );
    const existing = this.db.prepare(
      `SELECT j.id, j.state, p.status AS photo_status FROM jobs j JOIN photos p ON p.id = j.photo_id
       WHERE j.kind = 'caption' AND j.photo_id = ? AND j.model = ? AND j.settings_key = ?`,
    );
    const insert = this.db.prepare(
      `INSERT INTO jobs (kind, photo_id, model, settings_key, priority, state, created_at, updated_at)
       VALUES ('caption', ?, ?, ?, ?, 'queued', ?, ?)`,
    );
    const requeue = this.db.prepare(
      "UPDATE jobs SET state = 'queued', priority = ?, attempts = 0, crashes = 0, error = NULL, updated_at = ?, started_at = NULL, finished_at = NULL WHERE id = ?",
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const photoId of photoIds) {
        const job = existing.get(photoId, model, settingsKey) as { id: number; state: JobState; photo_status: string } | undefined;
        if (job) {
          const active = job.state === 'queued' || job.state === 'running';
          if (active) continue;
          if (job.state === 'done' && !opts.regenerate) continue;
          // A photo that cannot be decoded fails the same way again; only an explicit regenerate retries it.
          if (job.state === 'failed' && job.photo_status !== 'ok' && !opts.regenerate) continue;
          requeue.run(opts.priority ?? 0, now, job.id);
          n++;
          continue;
        }
        if (!opts.regenerate && hasCaption.get(photoId, source, settingsKey, settingsKey)) continue;
        insert.run(photoId, model, settingsKey, opts.priority ?? 0, now, now);
        n++;
      }
      return n;
    })();
  }

  /** Moves up to `limit` queued jobs to running, highest priority first. Jobs that crashed the process before run alone. */
  claim(model: string, limit: number): JobRow[] {
    return this.db.transaction(() => {
      const first = this.db
        .prepare(
          `SELECT * FROM jobs WHERE kind = 'caption' AND model = ? AND state = 'queued'
           ORDER BY priority DESC, id LIMIT 1`,
        )
        .get(model) as JobRow | undefined;
      if (!first) return [];
      const rows =
        first.crashes > 0
          ? [first]
          : (this.db
              .prepare(
                `SELECT * FROM jobs WHERE kind = 'caption' AND model = ? AND state = 'queued' AND crashes = 0
                 AND settings_key = ? ORDER BY priority DESC, id LIMIT ?`,
              )
              .all(model, first.settings_key, limit) as JobRow[]);
      const now = nowIso();
      const start = this.db.prepare(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?",
      );
      for (const r of rows) start.run(now, now, r.id);
      return rows.map((r) => ({ ...r, state: 'running' as const, attempts: r.attempts + 1 }));
    })();
  }

  /** Marks a job done. Only a running job can finish: a job cancelled meanwhile stays cancelled. */
  finish(jobId: number, write?: () => void): boolean {
    return finishJob(this.db, jobId, write);
  }

  fail(jobId: number, error: string): void {
    failJob(this.db, jobId, error);
  }

  /** The inference process died with these jobs in it: back to the queue, or failed after the second crash. */
  crashed(jobIds: readonly number[], reason: string, maxCrashes = 2): { requeued: number; failed: number } {
    return crashedJobs(this.db, jobIds, reason, 'captioning this photo', maxCrashes);
  }

  /** After a restart: jobs left running by a process that is gone go back to the queue. */
  recoverInterrupted(): number {
    return this.db
      .prepare("UPDATE jobs SET state = 'queued', started_at = NULL, updated_at = ? WHERE state = 'running'")
      .run(nowIso()).changes;
  }

  /** Cancels the captioning queued or running for a model (all models when omitted); other kinds of job are left alone. */
  cancel(model?: string): number {
    const now = nowIso();
    return this.db
      .prepare(
        `UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ?
         WHERE kind = 'caption' AND state IN ('queued', 'running') AND (? IS NULL OR model = ?)`,
      )
      .run(now, now, model ?? null, model ?? null).changes;
  }

  /** Failed and cancelled jobs go back to the queue. */
  retry(filter: { jobIds?: number[]; states?: JobState[] } = {}): number {
    const states = filter.states ?? ['failed'];
    const now = nowIso();
    const stmt = this.db.prepare(
      `UPDATE jobs SET state = 'queued', attempts = 0, crashes = 0, error = NULL, finished_at = NULL, updated_at = ?
       WHERE id = ? AND state IN (${states.map(() => '?').join(',')})`,
    );
    return this.db.transaction(() => {
      const ids =
        filter.jobIds ??
        (this.db.prepare(`SELECT id FROM jobs WHERE state IN (${states.map(() => '?').join(',')})`).all(...states) as { id: number }[]).map(
          (r) => r.id,
        );
      let n = 0;
      for (const id of ids) n += stmt.run(now, id, ...states).changes;
      return n;
    })();
  }

  /** A photo the user is looking at jumps the queue. */
  prioritize(photoId: number, priority = 100): void {
    this.db.prepare("UPDATE jobs SET priority = ?, updated_at = ? WHERE photo_id = ? AND state = 'queued'").run(priority, nowIso(), photoId);
  }

  counts(model?: string): JobCounts {
    const c: JobCounts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    const rows = this.db
      .prepare("SELECT state, count(*) AS n FROM jobs WHERE kind = 'caption' AND (? IS NULL OR model = ?) GROUP BY state")
      .all(model ?? null, model ?? null) as { state: JobState; n: number }[];
    for (const r of rows) c[r.state] = r.n;
    return c;
  }

  failures(limit = 200): (JobRow & { rel_path: string })[] {
    return this.db
      .prepare(
        `SELECT j.*, p.rel_path FROM jobs j JOIN photos p ON p.id = j.photo_id
         WHERE j.state = 'failed' ORDER BY j.finished_at DESC LIMIT ?`,
      )
      .all(limit) as (JobRow & { rel_path: string })[];
  }
}
