import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { ScanCounts, ScanProgress } from '../../../shared/api';
import { CaptionStore } from '../captions/caption-store';
import { refreshSearchRow } from '../search/search-index';
import { nowIso, type Db } from '../store/database';
import { walkPhotos, type WalkedFile } from './file-walker';
import { looksTruncated, probeImage, type ProbeResult } from './image-probe';
import { readPhotoMetadata, type PhotoMetadata } from './photo-metadata';
import { KeywordStore } from './keyword-store';
import { importTextSidecar, readTextSidecar } from './caption-text-sidecar';
import { importFileWords, withSidecar } from '../metadata/sidecar-import';
import { GoneRows } from './gone-rows';
import { PhotoStore, type PhotoRow, type PhotoScanRow, type RootRow } from './photo-store';
import { missingSmallThumbs, writeThumbnails, ThumbnailError } from './thumbnails';
import { ProgressMeter } from '../progress-meter';

export interface IndexerDeps {
  db: Db;
  thumbsDir: string;
  /** Files decoded at once. Decoding runs on libvips' own threads, so a few in flight keep 2 cores busy. */
  concurrency?: number;
}

export interface ScanOptions {
  signal?: AbortSignal;
  onProgress?: (p: ScanProgress) => void;
  onWarning?: (path: string, message: string) => void;
}

/** What reading one file produced, before it is written to the database. */
interface FileOutcome {
  file: WalkedFile;
  hash: string;
  probe: ProbeResult;
  meta: PhotoMetadata;
  thumbError: string | null;
  /** Lines of a `<name>.txt` / `<name>.caption` caption file beside the photo (caption-text-sidecar.ts). */
  textCaptions?: string[];
}

/** How many names that are not valid UTF-8 a scan lists by name; the count covers them all. */
export const MAX_INVALID_NAME_EXAMPLES = 20;

export function emptyCounts(): ScanCounts {
  return {
    seen: 0, added: 0, changed: 0, moved: 0, unchanged: 0, missing: 0, ok: 0, unsupported: 0, broken: 0, thumbnails: 0,
    invalidNames: 0, invalidNameExamples: [],
  };
}

/**
 * Scans library folders: new files are indexed, changed ones re-read, moved or renamed ones keep
 * their id (matched by content hash), vanished ones are marked missing, never dropped.
 * A file that cannot be read is recorded with its reason and the scan goes on.
 */
export class LibraryIndexer {
  private readonly photos: PhotoStore;
  private readonly captions: CaptionStore;
  private readonly keywords: KeywordStore;

  constructor(private readonly deps: IndexerDeps) {
    this.photos = new PhotoStore(deps.db);
    this.captions = new CaptionStore(deps.db);
    this.keywords = new KeywordStore(deps.db);
  }

  async scan(roots: RootRow[], opts: ScanOptions = {}): Promise<ScanCounts> {
    const counts = emptyCounts();
    const meter = new ProgressMeter();
    const emit = (phase: ScanProgress['phase'], done: number, total: number, current: string | null): void => {
      opts.onProgress?.({ phase, done, total, ratePerSec: meter.rate(), etaSec: meter.eta(total - done), current, counts: { ...counts } });
    };

    emit('walking', 0, 0, null);
    const walked: { root: RootRow; files: WalkedFile[] }[] = [];
    const examples: string[] = [];
    // Such a file cannot be opened by any path string, so it is counted and named, never indexed.
    const onInvalidName = (relPath: string): void => {
      counts.invalidNames = (counts.invalidNames ?? 0) + 1;
      if (examples.length < MAX_INVALID_NAME_EXAMPLES) examples.push(relPath);
    };
    for (const root of roots) {
      walked.push({ root, files: await walkPhotos(root.path, opts.onWarning, onInvalidName) });
    }
    counts.invalidNameExamples = examples;
    const total = walked.reduce((n, w) => n + w.files.length, 0);

    // Rows whose file was not found this time: candidates for "moved" until the end, then "missing".
    const gone = new GoneRows();
    const work: { root: RootRow; file: WalkedFile; existing: PhotoScanRow | undefined }[] = [];
    // Unchanged readable photos, re-read only if their grid thumbnail is gone: checked below against one
    // listing per thumbnail folder, so the unchanged path does no file I/O beyond the walk's own stat.
    const unchangedOk: { root: RootRow; file: WalkedFile; existing: PhotoScanRow }[] = [];
    let done = 0;
    for (const { root, files } of walked) {
      const byPath = new Map(this.photos.scanRowsForRoot(root.id).map((r) => [r.rel_path, r]));
      const seen = new Set<string>();
      for (const file of files) {
        seen.add(file.relPath);
        const existing = byPath.get(file.relPath);
        counts.seen++;
        if (existing && existing.status !== 'missing' && existing.size === file.size && existing.mtime_ms === file.mtimeMs) {
          counts.unchanged++;
          counts[existing.status === 'ok' ? 'ok' : existing.status === 'broken' ? 'broken' : 'unsupported']++;
          done++;
          if (existing.status === 'ok') unchangedOk.push({ root, file, existing });
          continue;
        }
        work.push({ root, file, existing });
      }
      for (const row of byPath.values()) if (!seen.has(row.rel_path) && row.status !== 'missing') gone.add(row);
    }
    const noThumb = await missingSmallThumbs(this.deps.thumbsDir, unchangedOk.map((u) => u.existing.hash));
    for (const u of unchangedOk) {
      if (!noThumb.has(u.existing.hash)) continue;
      work.push(u);
      done--;
    }
    meter.start(work.length);
    emit('indexing', done, total, null);

    const concurrency = Math.max(1, this.deps.concurrency ?? 3);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < work.length) {
        if (opts.signal?.aborted) return;
        const item = work[next++]!;
        const outcome = await this.readFile(item.file);
        this.record(item.root, item.existing, outcome, gone, counts);
        done++;
        meter.tick();
        emit('indexing', done, total, item.file.relPath);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));

    if (!opts.signal?.aborted) {
      const markMissing = this.deps.db.prepare(
        "UPDATE photos SET status = 'missing', missing_since = ?, updated_at = ? WHERE id = ?",
      );
      this.deps.db.transaction(() => {
        const now = nowIso();
        for (const row of gone.rows()) {
          markMissing.run(now, now, row.id);
          counts.missing++;
        }
      })();
    }
    emit('done', done, total, null);
    return counts;
  }

  private async readFile(file: WalkedFile): Promise<FileOutcome> {
    let buffer: Buffer;
    try {
      buffer = await readFile(file.absPath);
    } catch (err) {
      const probe: ProbeResult = { status: 'broken', format: null, reason: `File cannot be read: ${(err as Error).message}` };
      return { file, hash: `unreadable:${file.relPath}`, probe, meta: emptyMeta(), thumbError: null };
    }
    const hash = createHash('sha256').update(buffer).digest('hex');
    const probe = await probeImage(buffer, extname(file.absPath));
    let meta = emptyMeta();
    let thumbError: string | null = null;
    let textCaptions: string[] = [];
    if (probe.status === 'ok') {
      meta = await withSidecar(file.absPath, await readPhotoMetadata(buffer));
      textCaptions = await readTextSidecar(file.absPath);
      try {
        await writeThumbnails(this.deps.thumbsDir, hash, probe.source);
      } catch (err) {
        thumbError = looksTruncated(probe.format, buffer)
          ? 'the file is truncated: its image data ends early'
          : err instanceof ThumbnailError
            ? err.message
            : String(err);
      }
    }
    return { file, hash, probe, meta, thumbError, textCaptions };
  }

  /** Writes one file's outcome in a single transaction. */
  private record(root: RootRow, existing: PhotoScanRow | undefined, o: FileOutcome, gone: GoneRows, counts: ScanCounts): void {
    const db = this.deps.db;
    const now = nowIso();
    let status: PhotoRow['status'];
    let reason: string | null;
    if (o.probe.status !== 'ok') {
      status = o.probe.status;
      reason = o.probe.reason;
    } else if (o.thumbError) {
      status = /unsupported|not a known|no decoder|codec/i.test(o.thumbError) ? 'unsupported' : 'broken';
      reason = `${o.probe.format.toUpperCase()} data cannot be decoded: ${o.thumbError}.`;
    } else {
      status = 'ok';
      reason = o.probe.note;
    }
    const folder = o.file.relPath.includes('/') ? o.file.relPath.slice(0, o.file.relPath.lastIndexOf('/')) : '';
    const probeOk = o.probe.status === 'ok' ? o.probe : null;
    const values = {
      root_id: root.id,
      rel_path: o.file.relPath,
      file_name: basename(o.file.relPath),
      folder,
      hash: o.hash,
      size: o.file.size,
      mtime_ms: o.file.mtimeMs,
      format: o.probe.format,
      width: probeOk?.width ?? null,
      height: probeOk?.height ?? null,
      orientation: probeOk ? (o.meta.orientation ?? probeOk.orientation) : null,
      taken_at: o.meta.takenAt,
      camera_make: o.meta.cameraMake,
      camera_model: o.meta.cameraModel,
      gps_lat: o.meta.gpsLat,
      gps_lon: o.meta.gpsLon,
      status,
      status_reason: reason,
      updated_at: now,
    };
    const update = (id: number): void => {
      db.prepare(
        `UPDATE photos SET root_id=@root_id, rel_path=@rel_path, file_name=@file_name, folder=@folder, hash=@hash, size=@size,
           mtime_ms=@mtime_ms, format=@format, width=@width, height=@height, orientation=@orientation, taken_at=@taken_at,
           camera_make=@camera_make, camera_model=@camera_model, gps_lat=@gps_lat, gps_lon=@gps_lon, status=@status,
           status_reason=@status_reason, missing_since=NULL, updated_at=@updated_at WHERE id=@id`,
      ).run({ ...values, id });
    };

    db.transaction(() => {
      let id: number;
      if (existing) {
        id = existing.id;
        update(id);
        if (existing.status === 'missing' || existing.hash !== o.hash) counts.changed++;
      } else {
        const moved = gone.takeByHash(o.hash) ?? this.photos.missingRowsByHash(o.hash)[0];
        if (moved) {
          id = moved.id;
          update(id);
          counts.moved++;
        } else {
          const info = db
            .prepare(
              `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, format, width, height, orientation,
                 taken_at, camera_make, camera_model, gps_lat, gps_lon, status, status_reason, first_seen_at, updated_at)
               VALUES (@root_id, @rel_path, @file_name, @folder, @hash, @size, @mtime_ms, @format, @width, @height, @orientation,
                 @taken_at, @camera_make, @camera_model, @gps_lat, @gps_lon, @status, @status_reason, @updated_at, @updated_at)`,
            )
            .run(values);
          id = Number(info.lastInsertRowid);
          counts.added++;
        }
      }
      if (status === 'ok') counts.thumbnails++;
      counts[status]++;
      this.importEmbedded(id, o.meta);
      // After the file's own caption, so a caption file's first line is the newest file caption, the one shown.
      if (o.textCaptions?.length) importTextSidecar(db, this.captions, id, o.textCaptions);
      refreshSearchRow(db, id);
    })();
  }

  /** A photo that vanished from its old place this scan, or earlier, with the same bytes. */
  private importEmbedded(photoId: number, meta: PhotoMetadata): void {
    importFileWords(this.deps.db, this.captions, this.keywords, photoId, meta);
  }
}

function emptyMeta(): PhotoMetadata {
  return { takenAt: null, orientation: null, cameraMake: null, cameraModel: null, gpsLat: null, gpsLon: null, embeddedCaption: null, keywords: [] };
}
