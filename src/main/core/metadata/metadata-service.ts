import { link, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MetadataWriteProgress, MetadataWriteScope } from '../../../shared/api';
import { errorMessage } from '../errors';
import type { EventBus } from '../event-bus';
import type { JobRow } from '../jobs/job-store';
import { keywordsHash, type KeywordStore } from '../library/keyword-store';
import type { PhotoRow, PhotoStore } from '../library/photo-store';
import { thumbPath } from '../library/thumbnails';
import { ProgressMeter } from '../progress-meter';
import { filterClauses } from '../search/search-service';
import type { SettingsStore } from '../settings/settings-store';
import { nowIso, type Db } from '../store/database';
import { ExifToolEngine } from './exiftool-engine';
import { captionHash, MetadataWriteStore } from './metadata-write-store';
import { MetadataWriter, sweepTempFiles, type WriteOutcome } from './metadata-writer';
import { sidecarPathFor } from './sidecar-reader';
import type { PhotoWords, WriteTarget } from './xmp-fields';

export interface MetadataServiceDeps {
  db: Db;
  photos: PhotoStore;
  keywords: KeywordStore;
  settings: SettingsStore;
  events: EventBus;
  thumbsDir: string;
  /** A folder Tandem owns (ExifTool's config file). */
  workDir: string;
}

export interface MetadataWriteOptions {
  /** Embed into the photo files even in folders where embedding is off (the CLI's --embed: the person asked for it). */
  embed?: boolean;
}

/** A photo the last run could not write, or left alone for a reason a person should know. */
export interface WriteProblem {
  photoId: number;
  path: string | null;
  target: WriteTarget;
  failed: boolean;
  reason: string;
}

/** Problems a run keeps by name (the counts cover them all). */
const MAX_PROBLEMS = 500;

/** How often progress is sent while files are written (each event counts the queue). */
const EMIT_EVERY_MS = 250;

/**
 * Writes captions and keywords out of Tandem (issue 12): as background jobs in the jobs table, one photo at a time
 * through a long-lived ExifTool process, with progress, pause, resume and cancel. A write that is killed halfway
 * leaves the file as it was (see MetadataWriter) and its job goes back to the queue at the next start.
 */
export class MetadataService {
  readonly store: MetadataWriteStore;
  private readonly engine: ExifToolEngine;
  private readonly writer: MetadataWriter;
  private loop: Promise<MetadataWriteProgress> | null = null;
  private paused = false;
  private cancelled = false;
  /** Ends the run after the file in hand and leaves the rest queued (Ctrl-C, quitting the app). */
  private stopping = false;
  private resumeWaiters: (() => void)[] = [];
  private progress: MetadataWriteProgress | null = null;
  private problems: WriteProblem[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: MetadataServiceDeps) {
    this.store = new MetadataWriteStore(deps.db);
    this.store.recoverInterrupted();
    this.engine = new ExifToolEngine({ configDir: deps.workDir });
    this.writer = new MetadataWriter(this.engine);
    // "Write after captioning": each new model caption queues its photo; the run picks it up as it goes.
    this.unsubscribe = deps.events.on('caption.added', ({ photoId, source }) => {
      if (source.startsWith('model:') && deps.settings.get().writeMetadataAfterCaptioning) this.queueAutomatic([photoId]);
    });
  }

  /** "Write after each edit": the caption editor and keyword editor call this after a person changed a photo. */
  afterEdit(photoIds: readonly number[]): void {
    if (this.deps.settings.get().writeMetadataAfterEdit) this.queueAutomatic(photoIds);
  }

  /** Queues writes for a scope and starts the background run if none is going. Returns how many were queued. */
  async start(scope: MetadataWriteScope, opts: MetadataWriteOptions = {}): Promise<number> {
    const queued = await this.enqueue(scope, opts);
    void this.ensureRunning();
    return queued;
  }

  /** Queues writes for a scope and waits until the queue is empty (the CLI). */
  async write(scope: MetadataWriteScope, opts: MetadataWriteOptions & { onProgress?: (p: MetadataWriteProgress) => void } = {}): Promise<MetadataWriteProgress> {
    await this.enqueue(scope, opts);
    const off = opts.onProgress ? this.deps.events.on('metadata.progress', opts.onProgress) : () => undefined;
    try {
      let last = await this.ensureRunning();
      // A write queued while the last run was finishing starts another.
      while (this.store.counts().queued > 0 && !this.cancelled && !this.stopping) last = await this.ensureRunning();
      return last;
    } finally {
      off();
    }
  }

  /** Resumes jobs left in the queue (after a crash or a pause that ended the process). */
  resumeQueued(): Promise<MetadataWriteProgress> {
    return this.ensureRunning();
  }

  pause(): void {
    this.paused = true;
    if (this.progress?.state === 'running') this.emit({ ...this.progress, state: 'pausing' });
  }

  resume(): void {
    this.paused = false;
    for (const w of this.resumeWaiters.splice(0)) w();
    if (!this.loop && this.store.counts().queued > 0) this.ensureRunning();
  }

  /** Stops after the file in hand; what is left stays queued for the next run. */
  stop(): void {
    this.stopping = this.loop !== null;
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  cancel(): void {
    this.cancelled = this.loop !== null;
    this.store.cancelQueued();
    this.resume();
  }

  /** Photos the current or last run failed or skipped for a reason (not the unchanged ones). */
  get lastProblems(): readonly WriteProblem[] {
    return this.problems;
  }

  get lastProgress(): MetadataWriteProgress | null {
    return this.progress;
  }

  get running(): boolean {
    return this.loop !== null;
  }

  /** ExifTool's process ids (tests kill them). */
  get exiftoolPids(): number[] {
    return this.engine.pids;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.stop();
    await this.loop?.catch(() => undefined);
    await this.engine.close();
  }

  private queueAutomatic(photoIds: readonly number[]): void {
    this.start({ kind: 'photos', photoIds: [...photoIds] }).catch((err: unknown) => {
      this.emit({ ...(this.progress ?? idleProgress()), state: 'failed', message: errorMessage(err) });
    });
  }

  /**
   * Queues a job per photo of the scope, a chunk at a time with a turn of the event loop between chunks: "the whole
   * library" may be a million photos, and the app's main process must keep answering meanwhile.
   */
  private async enqueue(scope: MetadataWriteScope, opts: MetadataWriteOptions): Promise<number> {
    const embedRoots = new Set(this.store.embedRoots());
    const targetOf = (rootId: number): WriteTarget => (opts.embed || embedRoots.has(rootId) ? 'embedded' : 'sidecar');
    let queued = 0;
    const queue = (rows: { id: number; root_id: number }[]) =>
      (queued += this.store.enqueueEach(rows.map((r) => ({ photoId: r.id, target: targetOf(r.root_id) }))));
    if (scope.kind === 'photos') {
      const rootOf = this.deps.db.prepare('SELECT id, root_id FROM photos WHERE id = ?');
      for (let i = 0; i < scope.photoIds.length; i += ENQUEUE_CHUNK) {
        queue(scope.photoIds.slice(i, i + ENQUEUE_CHUNK).flatMap((id) => (rootOf.get(id) as { id: number; root_id: number } | undefined) ?? []));
        await nextTurn();
      }
      return queued;
    }
    const w = filterClauses({
      status: ['ok'],
      ...(scope.kind === 'folder' ? { folder: scope.folder, ...(scope.rootId !== undefined ? { rootId: scope.rootId } : {}) } : {}),
    });
    const page = this.deps.db.prepare(
      `SELECT p.id, p.root_id FROM photos p WHERE ${[...w.sql, 'p.id > @after'].join(' AND ')} ORDER BY p.id LIMIT ${ENQUEUE_CHUNK}`,
    );
    for (let after = 0; ; ) {
      const rows = page.all({ ...w.params, after }) as { id: number; root_id: number }[];
      if (rows.length === 0) break;
      queue(rows);
      after = rows[rows.length - 1]!.id;
      await nextTurn();
    }
    return queued;
  }

  private ensureRunning(): Promise<MetadataWriteProgress> {
    if (this.loop) return this.loop;
    this.cancelled = false;
    this.stopping = false;
    const loop = (async () => {
      // One turn first: `loop` is set below before the run can end, and a pause right after start() holds it before any file.
      await Promise.resolve();
      try {
        return await this.run();
      } catch (err) {
        const failed: MetadataWriteProgress = { ...(this.progress ?? idleProgress()), state: 'failed', message: errorMessage(err) };
        this.emit(failed);
        return failed;
      } finally {
        this.loop = null;
      }
    })();
    this.loop = loop;
    return loop;
  }

  private async run(): Promise<MetadataWriteProgress> {
    const meter = new ProgressMeter();
    meter.start();
    const p: MetadataWriteProgress = { ...idleProgress(), state: 'running' };
    const swept = new Set<string>();
    this.problems = [];
    let lastEmit = 0;
    const emit = (force = false): void => {
      const now = performance.now();
      if (!force && now - lastEmit < EMIT_EVERY_MS) return;
      lastEmit = now;
      const c = this.store.counts();
      p.total = p.done + c.queued + c.running;
      p.photosPerSec = meter.rate();
      p.etaSec = meter.eta(p.total - p.done);
      this.emit({ ...p });
    };
    emit(true);
    for (;;) {
      if (this.cancelled || this.stopping) break;
      if (this.paused) {
        p.state = 'paused';
        emit(true);
        await new Promise<void>((r) => this.resumeWaiters.push(r));
        if (this.cancelled || this.stopping) break;
        p.state = 'running';
        emit(true);
        continue;
      }
      const job = this.store.claim();
      if (!job) break;
      const result = await this.runJob(job, swept, (path) => (p.currentPath = path));
      p.done++;
      if (result.status === 'written') p.written++;
      else if (result.status === 'skipped') p.skipped++;
      else p.failed++;
      if (result.status !== 'written' && result.reason !== UNCHANGED) {
        p.message = `${p.currentPath ?? `photo ${job.photo_id}`}: ${result.reason}`;
        if (this.problems.length < MAX_PROBLEMS) {
          this.problems.push({ photoId: job.photo_id, path: p.currentPath, target: job.model as WriteTarget, failed: result.status === 'failed', reason: result.reason });
        }
      }
      meter.tick();
      emit();
    }
    p.state = this.cancelled ? 'cancelled' : this.stopping ? 'paused' : 'done';
    p.currentPath = null;
    emit(true);
    return { ...p };
  }

  private async runJob(job: JobRow, swept: Set<string>, setPath: (path: string) => void): Promise<WriteOutcome> {
    const target = job.model as WriteTarget;
    let row: PhotoRow;
    try {
      row = this.deps.photos.row(job.photo_id);
    } catch (err) {
      this.store.finish(job.id, 'failed', errorMessage(err));
      return { status: 'failed', reason: errorMessage(err) };
    }
    const path = this.deps.photos.absolutePath(row);
    setPath(path);
    if (row.status !== 'ok') {
      const reason = `Tandem could not read this photo at the last scan (${row.status_reason ?? row.status}).`;
      this.store.finish(job.id, 'failed', reason);
      return { status: 'failed', reason };
    }
    const folder = dirname(path);
    if (!swept.has(folder)) {
      swept.add(folder);
      await sweepTempFiles(folder);
    }
    const plan = await this.plan(row, target, path);
    if (!plan.words) {
      this.store.finish(job.id, 'done', null);
      return { status: 'skipped', reason: UNCHANGED };
    }
    let outcome = await this.writer.write({ photoPath: path, format: row.format, target, words: plan.words, expectedHash: row.hash });
    // A Tandem sidecar beside an embedded photo would win over the file at the next import: keep it in step.
    if (outcome.status === 'written' && target === 'embedded' && (await exists(sidecarPathFor(path)))) {
      const side = await this.writer.write({ photoPath: path, format: row.format, target: 'sidecar', words: plan.words, expectedHash: row.hash });
      if (side.status !== 'written') outcome = { status: 'failed', reason: `The photo was updated, but its sidecar was not: ${side.reason}` };
    }
    if (outcome.status === 'written') {
      const written = outcome;
      if (written.fileHash) await this.carryThumbnails(row.hash, written.fileHash);
      this.store.finish(job.id, 'done', null, () => {
        if (written.fileHash && written.size !== null && written.mtimeMs !== null) {
          // The file is ours now: the next scan sees the same size, mtime and hash and leaves it alone.
          this.deps.db
            .prepare('UPDATE photos SET hash = ?, size = ?, mtime_ms = ?, updated_at = ? WHERE id = ?')
            .run(written.fileHash, written.size, written.mtimeMs, nowIso(), row.id);
        }
        this.store.recordWrite(row.id, target, { captionHash: plan.captionHash, keywordsHash: plan.keywordsHash, fileHash: written.fileHash });
      });
    } else if (outcome.status === 'skipped') {
      this.store.finish(job.id, 'done', outcome.reason);
    } else {
      this.store.finish(job.id, 'failed', outcome.reason);
    }
    return outcome;
  }

  /**
   * What to write for a photo: only the parts that changed since the last write to this target. Words that came
   * from the file itself are already there, so a photo nobody touched in Tandem gets no sidecar at all.
   */
  private async plan(row: PhotoRow, target: WriteTarget, path: string): Promise<{ words: PhotoWords | null; captionHash: string; keywordsHash: string }> {
    const keywords = this.deps.keywords.list(row.id);
    const cHash = captionHash(row.caption_text, row.caption_source);
    const kHash = keywordsHash(keywords.map((k) => k.keyword));
    const last = this.store.lastWrite(row.id, target);
    // The file Tandem wrote is gone or was replaced since: everything goes out again.
    const stale =
      last !== null &&
      (target === 'sidecar' ? !(await exists(sidecarPathFor(path))) : last.fileHash !== null && last.fileHash !== row.hash);
    const ours = (s: string | null) => s !== null && s !== 'file';
    const captionNeeded = last && !stale ? last.captionHash !== cHash : ours(row.caption_source) || (stale && row.caption_text !== null);
    const keywordsNeeded = last && !stale ? last.keywordsHash !== kHash : keywords.some((k) => ours(k.source)) || (stale && keywords.length > 0);
    if (!captionNeeded && !keywordsNeeded) return { words: null, captionHash: cHash, keywordsHash: kHash };
    return {
      words: {
        caption: captionNeeded ? (row.caption_text ?? '') : null,
        captionSource: row.caption_source,
        model: this.captionModel(row),
        keywords: keywordsNeeded ? keywords.map((k) => k.keyword) : null,
      },
      captionHash: cHash,
      keywordsHash: kHash,
    };
  }

  /** The model that wrote the shown caption, or whose caption a person edited into it. */
  private captionModel(row: PhotoRow): string | null {
    if (row.caption_source?.startsWith('model:')) return row.caption_source.slice('model:'.length);
    if (row.caption_source !== 'user') return null;
    const m = this.deps.db
      .prepare("SELECT source FROM captions WHERE photo_id = ? AND source LIKE 'model:%' ORDER BY id DESC LIMIT 1")
      .get(row.id) as { source: string } | undefined;
    return m ? m.source.slice('model:'.length) : null;
  }

  /** Thumbnails are cached by content hash; the pixels did not change, so the new hash gets the same files. */
  private async carryThumbnails(oldHash: string, newHash: string): Promise<void> {
    for (const size of ['small', 'large'] as const) {
      const to = thumbPath(this.deps.thumbsDir, newHash, size);
      await mkdir(dirname(to), { recursive: true }).catch(() => undefined);
      await link(thumbPath(this.deps.thumbsDir, oldHash, size), to).catch(() => undefined);
    }
  }

  private emit(p: MetadataWriteProgress): void {
    this.progress = p;
    this.deps.events.emit('metadata.progress', p);
  }
}

/** Photos queued per transaction when a scope is queued. */
const ENQUEUE_CHUNK = 5_000;

function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A photo whose words did not change since the last write: counted as skipped, not reported. */
const UNCHANGED = 'unchanged since the last write';

function idleProgress(): MetadataWriteProgress {
  return { state: 'idle', done: 0, total: 0, written: 0, skipped: 0, failed: 0, photosPerSec: 0, etaSec: null, currentPath: null, message: null };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
