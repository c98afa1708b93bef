import { describe, expect, it } from 'vitest';
import { CaptionStore } from '../../src/main/core/captions/caption-store';
import { captionSettingsKey, DEFAULT_CAPTION_SETTINGS } from '../../src/main/core/jobs/caption-settings';
import { JobStore } from '../../src/main/core/jobs/job-store';
import { CAPTION_FAILED } from '../../src/main/core/search/search-service';
import { openDatabase, type Db } from '../../src/main/core/store/database';

const KEY = captionSettingsKey(DEFAULT_CAPTION_SETTINGS);

function setup(n = 5): { db: Db; jobs: JobStore; captions: CaptionStore; ids: number[] } {
  const db = openDatabase(':memory:');
  db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const info = db
      .prepare(
        `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
         VALUES (1, ?, ?, '', ?, 1, 1, 'ok', 'now', 'now')`,
      )
      .run(`p${i}.jpg`, `p${i}.jpg`, `h${i}`);
    ids.push(Number(info.lastInsertRowid));
  }
  return { db, jobs: new JobStore(db), captions: new CaptionStore(db), ids };
}

describe('JobStore', () => {
  it('enqueues idempotently and skips photos already captioned with the same settings', () => {
    const { jobs, captions, ids } = setup();
    captions.add(ids[0]!, 'model:m', 'done before', JSON.parse(KEY));
    expect(jobs.enqueueCaptions(ids, 'm', KEY)).toBe(4);
    expect(jobs.enqueueCaptions(ids, 'm', KEY)).toBe(0);
    expect(jobs.counts('m').queued).toBe(4);
    // Other settings are other work.
    expect(jobs.enqueueCaptions(ids, 'm', captionSettingsKey({ ...DEFAULT_CAPTION_SETTINGS, numBeams: 3 }))).toBe(5);
    // Regenerating requeues finished jobs, and includes the photo captioned before.
    const claimed = jobs.claim('m', 10).filter((j) => j.settings_key === KEY);
    for (const j of claimed) jobs.finish(j.id);
    expect(jobs.enqueueCaptions(ids, 'm', KEY)).toBe(0);
    expect(jobs.enqueueCaptions(ids, 'm', KEY, { regenerate: true })).toBe(5);
  });

  it('claims by priority, one settings group per batch', () => {
    const { jobs, ids } = setup();
    jobs.enqueueCaptions(ids, 'm', KEY);
    jobs.prioritize(ids[3]!);
    const batch = jobs.claim('m', 2);
    expect(batch.map((j) => j.photo_id)).toEqual([ids[3], ids[0]]);
    expect(batch.every((j) => j.state === 'running' && j.attempts === 1)).toBe(true);
    expect(jobs.counts('m')).toMatchObject({ queued: 3, running: 2 });
  });

  it('requeues jobs after a crash, runs them alone, and fails a photo that crashed twice', () => {
    const { jobs, ids } = setup(3);
    jobs.enqueueCaptions(ids, 'm', KEY);
    const first = jobs.claim('m', 3);
    expect(jobs.crashed(first.map((j) => j.id), 'killed by SIGKILL')).toEqual({ requeued: 3, failed: 0 });
    const alone = jobs.claim('m', 3);
    expect(alone).toHaveLength(1);
    expect(jobs.crashed([alone[0]!.id], 'killed by SIGKILL')).toEqual({ requeued: 0, failed: 1 });
    const failed = jobs.failures();
    expect(failed[0]!.error).toMatch(/stopped twice.*SIGKILL/);
  });

  it('recovers jobs left running by a killed process, and cancel leaves none running', () => {
    const { jobs, ids } = setup();
    jobs.enqueueCaptions(ids, 'm', KEY);
    jobs.claim('m', 2);
    expect(jobs.recoverInterrupted()).toBe(2);
    expect(jobs.counts('m')).toMatchObject({ queued: 5, running: 0 });
    jobs.claim('m', 2);
    expect(jobs.cancel('m')).toBe(5);
    expect(jobs.counts('m')).toMatchObject({ queued: 0, running: 0, cancelled: 5 });
    expect(jobs.retry({ states: ['cancelled'] })).toBe(5);
    expect(jobs.counts('m').queued).toBe(5);
  });

  it('cancelling captioning leaves other kinds of job (metadata writes) queued', () => {
    const { db, jobs, ids } = setup(2);
    jobs.enqueueCaptions(ids, 'm', KEY);
    db.prepare(
      "INSERT INTO jobs (kind, photo_id, model, settings_key, priority, state, created_at, updated_at) VALUES ('write-metadata', ?, 'sidecar', '', 0, 'queued', 'now', 'now')",
    ).run(ids[0]);
    expect(jobs.cancel()).toBe(2);
    expect((db.prepare("SELECT state FROM jobs WHERE kind = 'write-metadata'").get() as { state: string }).state).toBe('queued');
    // Nor is a failed write a captioning failure ("needs attention", the status bar's count).
    db.prepare("UPDATE jobs SET state = 'failed' WHERE kind = 'write-metadata'").run();
    const captionFailed = () => (db.prepare(`SELECT count(*) AS n FROM photos p WHERE ${CAPTION_FAILED}`).get() as { n: number }).n;
    expect(captionFailed()).toBe(0);
    db.prepare("UPDATE jobs SET state = 'failed' WHERE kind = 'caption' AND photo_id = ?").run(ids[1]);
    expect(captionFailed()).toBe(1);
  });

  it('a finished job stores its caption in the same transaction, and a cancelled job stores nothing', () => {
    const { jobs, captions, ids } = setup(2);
    jobs.enqueueCaptions(ids, 'm', KEY);
    const [a] = jobs.claim('m', 2);
    jobs.cancel('m');
    expect(jobs.finish(a!.id, () => captions.add(a!.photo_id, 'model:m', 'late'))).toBe(false);
    expect(captions.history(a!.photo_id)).toEqual([]);
  });

  it('a user edit made while a job runs stays shown when the model result lands', () => {
    const { jobs, captions, db, ids } = setup(1);
    jobs.enqueueCaptions(ids, 'm', KEY);
    const [job] = jobs.claim('m', 1);
    captions.add(ids[0]!, 'user', 'my grandmother in 1962');
    expect(jobs.finish(job!.id, () => captions.add(ids[0]!, 'model:m', 'a woman standing'))).toBe(true);
    const row = db.prepare('SELECT caption_text, caption_source FROM photos WHERE id = ?').get(ids[0]) as { caption_text: string; caption_source: string };
    expect(row).toEqual({ caption_text: 'my grandmother in 1962', caption_source: 'user' });
    expect(captions.history(ids[0]!).map((c) => c.source)).toEqual(['model:m', 'user']);
  });
});
