import { mkdir, open, realpath, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportOptions, ExportProgress, ExportSummary } from '../../../shared/api';
import type { CaptionStore } from '../captions/caption-store';
import { InvalidInputError, NotFoundError, TandemError, errorMessage } from '../errors';
import type { EventBus } from '../event-bus';
import { realFileInside } from '../library/contained-file';
import type { KeywordStore } from '../library/keyword-store';
import type { PhotoRow, PhotoStore } from '../library/photo-store';
import { isSameOrInside } from '../path-inside';
import { ProgressMeter } from '../progress-meter';
import type { Db } from '../store/database';
import { ExportNames } from './export-names';
import { exportPhotoIds } from './export-scope';
import { ExportSkip, writeExportImage } from './image-output';
import { csvHeader, csvRow, jsonlRow, sidecarText, splitCaptionSource, type ManifestRow } from './manifest-rows';

export interface ExportServiceDeps {
  db: Db;
  photos: PhotoStore;
  captions: CaptionStore;
  keywords: KeywordStore;
  events: EventBus;
}

export interface PreparedExport {
  /** The export folder's real path. */
  dest: string;
  photoIds: number[];
  options: ExportOptions;
}

export interface RunExportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ExportProgress) => void;
  exportId?: number;
}

/** Manifest names from Hugging Face's `imagefolder` loader, which finds them beside the images by these names. */
export const MANIFEST_FILES = { csv: 'metadata.csv', jsonl: 'metadata.jsonl' } as const;
/** How many skipped photos the summary names; the count covers them all. */
export const MAX_SKIPPED_EXAMPLES = 50;
/** Progress events at most this often: a fast export of small sidecars would otherwise flood the IPC channel. */
const PROGRESS_EVERY_MS = 100;

/** A caption line for a sidecar or manifest row. */
interface CaptionLine {
  text: string;
  source: string | null;
}

/**
 * Dataset export (issue 12): captions as sidecars next to each image (kohya, OneTrainer, TagGUI), manifests in CSV and
 * JSON Lines, images copied, resized or hard-linked into one flat folder. It runs in this process as an async loop,
 * not as rows in the jobs table: an export is file copying that can simply be run again, so it needs no crash
 * recovery or inference process, only progress, a summary and a way to stop.
 */
export class ExportService {
  private nextId = 1;
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly deps: ExportServiceDeps) {}

  /** Checks the folder and works out which photos the export covers; throws before anything is written. */
  async prepare(dest: string, options: ExportOptions): Promise<PreparedExport> {
    if (options.images === 'link' && options.maxSide !== null) {
      throw new InvalidInputError('Hard links keep each photo as it is, so they cannot be resized. Choose “copy” to resize, or leave out the max side.');
    }
    let real: string;
    try {
      real = await realpath(dest);
    } catch (cause) {
      throw new NotFoundError(`The export folder ${dest} does not exist.`, { cause });
    }
    if (!(await stat(real)).isDirectory()) throw new InvalidInputError(`The export destination ${dest} is not a folder.`);
    // Exporting into a library folder would mix copies into the photos, or replace a photo with its resized copy.
    for (const root of this.deps.photos.listRoots()) {
      if (isSameOrInside(root.path, real)) {
        throw new InvalidInputError(`The export folder ${dest} is inside the library folder ${root.path}. Choose a folder outside your library.`);
      }
    }
    return { dest: real, photoIds: exportPhotoIds(this.deps.db, options.scope), options };
  }

  /** Starts an export in the background; progress and the summary arrive as `export.progress` events. */
  async start(dest: string, options: ExportOptions): Promise<{ exportId: number; total: number; dest: string }> {
    const prepared = await this.prepare(dest, options);
    const exportId = this.nextId++;
    const controller = new AbortController();
    this.running.set(exportId, controller);
    const emit = (p: ExportProgress): void => this.deps.events.emit('export.progress', p);
    void this.run(prepared, { exportId, signal: controller.signal, onProgress: emit })
      .catch((err: unknown) => {
        emit({ exportId, phase: 'failed', done: 0, total: prepared.photoIds.length, ratePerSec: 0, etaSec: null, current: null, summary: null, error: errorMessage(err) });
      })
      .finally(() => this.running.delete(exportId));
    return { exportId, total: prepared.photoIds.length, dest: prepared.dest };
  }

  /** Stops an export after the photo in hand; what was written stays, manifests included. */
  cancel(exportId: number): void {
    this.running.get(exportId)?.abort();
  }

  /** Stops every running export (the core is closing). */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }

  async run(prepared: PreparedExport, opts: RunExportOptions = {}): Promise<ExportSummary> {
    const { dest, photoIds, options } = prepared;
    const exportId = opts.exportId ?? 0;
    const total = photoIds.length;
    const meter = new ProgressMeter();
    meter.start(total);
    const summary: ExportSummary = {
      dest, exported: 0, images: 0, resized: 0, sidecars: 0, manifests: [], uncaptioned: 0, renamed: 0, linkFallbacks: 0,
      skipped: 0, skippedExamples: [], cancelled: false,
    };
    const skip = (path: string, reason: string): void => {
      summary.skipped++;
      if (summary.skippedExamples.length < MAX_SKIPPED_EXAMPLES) summary.skippedExamples.push({ path, reason });
    };
    let lastEmit = 0;
    const progress = (phase: ExportProgress['phase'], done: number, current: string | null, force = false): void => {
      const now = Date.now();
      if (!force && now - lastEmit < PROGRESS_EVERY_MS) return;
      lastEmit = now;
      opts.onProgress?.({
        exportId, phase, done, total, ratePerSec: meter.rate(), etaSec: meter.eta(total - done), current,
        summary: phase === 'exporting' ? null : { ...summary, skippedExamples: [...summary.skippedExamples] }, error: null,
      });
    };

    const manifests = await openManifests(dest, options.formats);
    summary.manifests = manifests.map((m) => m.name);
    const names = new ExportNames();
    let done = 0;
    try {
      progress('exporting', 0, null, true);
      for (const id of photoIds) {
        if (opts.signal?.aborted) {
          summary.cancelled = true;
          break;
        }
        const rows = await this.exportOne(id, dest, options, names, summary, skip);
        for (const m of manifests) for (const row of rows) await m.write(row);
        done++;
        meter.tick();
        progress('exporting', done, rows[0]?.path ?? null);
      }
    } finally {
      await Promise.all(manifests.map((m) => m.close()));
    }
    progress(summary.cancelled ? 'cancelled' : 'done', done, null, true);
    return summary;
  }

  /** Writes one photo's image and sidecars; returns its manifest rows (none when it was skipped). */
  private async exportOne(
    id: number,
    dest: string,
    options: ExportOptions,
    names: ExportNames,
    summary: ExportSummary,
    skip: (path: string, reason: string) => void,
  ): Promise<ManifestRow[]> {
    let row: PhotoRow;
    try {
      row = this.deps.photos.row(id);
    } catch {
      skip(`photo ${id}`, 'is no longer in the library');
      return [];
    }
    const path = this.deps.photos.absolutePath(row);
    if (row.status === 'missing') return (skip(path, 'was not found at the last scan'), []);
    if (row.status !== 'ok') return (skip(path, row.status_reason ?? `is ${row.status}`), []);
    let real: string;
    try {
      real = (await realFileInside(this.deps.photos.rootById(row.root_id).path, path, 'the photo')).path;
    } catch (err) {
      return (skip(path, err instanceof TandemError ? err.message : errorMessage(err)), []);
    }

    const { stem, renamed } = names.claim(row.file_name);
    let fileName = `${stem}${row.file_name.slice(row.file_name.length - extensionLength(row.file_name))}`;
    let width = row.width;
    let height = row.height;
    let size = row.size;
    if (options.images !== 'none') {
      try {
        const img = await writeExportImage(
          { path: real, fileName: row.file_name, width: row.width, height: row.height, orientation: row.orientation, format: row.format },
          dest,
          stem,
          options.images,
          options.maxSide,
        );
        ({ fileName, width, height, size } = img);
        summary.images++;
        if (img.resized) summary.resized++;
        if (img.linkFallback) summary.linkFallbacks++;
      } catch (err) {
        return (skip(path, err instanceof ExportSkip ? err.message : errorMessage(err)), []);
      }
    }
    if (renamed) summary.renamed++;

    const lines = this.captionLines(row, options.captions);
    const text = sidecarText(lines.map((l) => l.text));
    for (const format of options.formats) {
      if (format !== 'txt' && format !== 'caption') continue;
      const sidecar = join(dest, `${stem}.${format}`);
      // A sidecar left by an earlier export of a photo that now has no caption would pair it with a stale one.
      await rm(sidecar, { force: true });
      if (text) {
        await writeFile(sidecar, text, 'utf8');
        summary.sidecars++;
      }
    }
    if (lines.length === 0) summary.uncaptioned++;
    summary.exported++;

    const keywords = this.deps.keywords.list(id).map((k) => k.keyword);
    const base = { fileName, path, keywords, width, height, size, takenAt: row.taken_at };
    if (lines.length === 0) return [{ ...base, caption: '', source: '', model: '' }];
    return lines.map((l) => ({ ...base, caption: l.text, ...splitCaptionSource(l.source) }));
  }

  /** The shown caption, then (for 'all') the newest caption of every other source with different words. */
  private captionLines(row: PhotoRow, which: ExportOptions['captions']): CaptionLine[] {
    const lines: CaptionLine[] = [];
    if (row.caption_text) lines.push({ text: row.caption_text, source: row.caption_source });
    if (which === 'shown') return lines;
    const seenSources = new Set(lines.map((l) => l.source));
    const seenTexts = new Set(lines.map((l) => l.text));
    for (const c of this.deps.captions.history(row.id)) {
      if (seenSources.has(c.source) || c.text === '') continue;
      seenSources.add(c.source);
      if (seenTexts.has(c.text)) continue;
      seenTexts.add(c.text);
      lines.push({ text: c.text, source: c.source });
    }
    return lines;
  }
}

function extensionLength(fileName: string): number {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.length - dot : 0;
}

interface ManifestWriter {
  name: string;
  write(row: ManifestRow): Promise<void>;
  close(): Promise<void>;
}

/** Rows are buffered and written in blocks: one write per photo would dominate a sidecar-only export. */
async function openManifests(dest: string, formats: readonly string[]): Promise<ManifestWriter[]> {
  const out: ManifestWriter[] = [];
  await mkdir(dest, { recursive: true });
  for (const format of ['csv', 'jsonl'] as const) {
    if (!formats.includes(format)) continue;
    const name = MANIFEST_FILES[format];
    const handle: FileHandle = await open(join(dest, name), 'w');
    let pending = format === 'csv' ? csvHeader() : '';
    const flush = async (): Promise<void> => {
      if (pending) await handle.write(pending);
      pending = '';
    };
    out.push({
      name,
      write: async (row) => {
        pending += format === 'csv' ? csvRow(row) : jsonlRow(row);
        if (pending.length > 64 * 1024) await flush();
      },
      close: async () => {
        await flush();
        await handle.close();
      },
    });
  }
  return out;
}
