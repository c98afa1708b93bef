import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Stats } from 'node:fs';
import { errorMessage } from '../errors';
import type { ExifToolEngine } from './exiftool-engine';
import { sidecarCandidates, sidecarPathFor } from './sidecar-reader';
import { buildWriteTags, type PhotoWords, type WriteTarget } from './xmp-fields';
import { TANDEM_VERSION } from './tandem-version';

export interface WriteRequest {
  photoPath: string;
  format: string | null;
  target: WriteTarget;
  words: PhotoWords;
  /** The content hash the scan recorded: an embedded write re-hashes the file and leaves it alone if they differ. */
  expectedHash: string;
}

export type WriteOutcome =
  | {
      status: 'written';
      path: string;
      /** The photo's new hash, size and mtime after an embedded write (the mtime as the filesystem rounded it). */
      fileHash: string | null;
      size: number | null;
      mtimeMs: number | null;
    }
  | { status: 'skipped' | 'failed'; reason: string };

/** The reason a photo changed on disk after the scan is left alone: writing would overwrite what the scan never saw. */
export const CHANGED_SINCE_SCAN = 'changed since the scan; rescan first';

/** Temp files of an interrupted write: `.<name>.tandem-<12 hex>[.ext]`, hidden so a scan never lists them. */
const TEMP_NAME = /^\..+\.tandem-[0-9a-f]{12}(\.[^.]+)?$/;

/**
 * Writes a photo's caption and keywords to its XMP sidecar or into the photo file. Either way the new file is
 * written beside the old one under a temporary name and renamed over it, so a crash, a kill or a full disk
 * leaves the old file or the new one, never a half-written one. Embedding keeps the photo's mtime and atime
 * (photo tools sort by them) and its permission bits.
 */
export class MetadataWriter {
  constructor(private readonly engine: ExifToolEngine, private readonly version = TANDEM_VERSION) {}

  async write(req: WriteRequest): Promise<WriteOutcome> {
    try {
      return req.target === 'sidecar' ? await this.writeSidecar(req) : await this.embed(req);
    } catch (err) {
      return { status: 'failed', reason: writeFailure(err) };
    }
  }

  private async writeSidecar(req: WriteRequest): Promise<WriteOutcome> {
    const dest = sidecarPathFor(req.photoPath);
    const readOnly = await readOnlyReason(dirname(dest), dest);
    if (readOnly) return { status: 'failed', reason: readOnly };
    // Merge into what is there: Tandem's own sidecar, else a Lightroom-style `photo.xmp` whose words seed it.
    let source: string | null = null;
    let existing: Stats | null = null;
    for (const candidate of sidecarCandidates(req.photoPath)) {
      const st = await stat(candidate).catch(() => null);
      if (st?.isFile()) {
        source = candidate;
        existing = candidate === dest ? st : null;
        break;
      }
    }
    const tmp = tempPathFor(dest, '.xmp');
    try {
      await this.engine.writeCopy(source, tmp, buildWriteTags(req.words, 'sidecar', req.format, this.version));
      await syncFile(tmp);
      if (existing) await chmod(tmp, existing.mode & 0o7777);
      await rename(tmp, dest);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    return { status: 'written', path: dest, fileHash: null, size: null, mtimeMs: null };
  }

  private async embed(req: WriteRequest): Promise<WriteOutcome> {
    const before = await stat(req.photoPath).catch(() => null);
    if (!before?.isFile()) return { status: 'failed', reason: 'The photo is no longer there; rescan the folder.' };
    const readOnly = await readOnlyReason(dirname(req.photoPath), req.photoPath);
    if (readOnly) return { status: 'failed', reason: readOnly };
    if ((await hashFile(req.photoPath)) !== req.expectedHash) return { status: 'skipped', reason: CHANGED_SINCE_SCAN };
    const tmp = tempPathFor(req.photoPath, extname(req.photoPath));
    try {
      await this.engine.writeCopy(req.photoPath, tmp, buildWriteTags(req.words, 'embedded', req.format, this.version));
      await syncFile(tmp);
      await chmod(tmp, before.mode & 0o7777);
      // Seconds as numbers, not Dates: a Date drops the sub-millisecond part the scan compares.
      await utimes(tmp, before.atimeMs / 1000, before.mtimeMs / 1000);
      // Another program may have saved the photo while ExifTool worked: its edit wins, ours is dropped.
      const now = await stat(req.photoPath).catch(() => null);
      if (!now || now.size !== before.size || now.mtimeMs !== before.mtimeMs) return { status: 'skipped', reason: CHANGED_SINCE_SCAN };
      await rename(tmp, req.photoPath);
      await syncDir(dirname(req.photoPath));
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    const after = await stat(req.photoPath);
    return { status: 'written', path: req.photoPath, fileHash: await hashFile(req.photoPath), size: after.size, mtimeMs: after.mtimeMs };
  }
}

/** sha256 of a file's bytes, streamed (the scan's identity hash, without holding a 50 MB photo in memory). */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Removes temp files a killed write left in `dir`. Only ones whose inode changed over a minute ago: a write in
 * flight (this process or another Tandem) touches its temp file within seconds.
 */
export async function sweepTempFiles(dir: string, olderThanMs = 60_000): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => null);
    if (st?.isFile() && Date.now() - st.ctimeMs > olderThanMs) {
      await unlink(path).then(() => removed++, () => undefined);
    }
  }
  return removed;
}

function tempPathFor(file: string, ext: string): string {
  return join(dirname(file), `.${basename(file)}.tandem-${randomBytes(6).toString('hex')}${ext}`);
}

/**
 * Permission bits, not access(2): Tandem may run as root (containers, NAS boxes), which may write anything,
 * but a file or folder the user made read-only is still a "leave this alone".
 */
async function readOnlyReason(dir: string, file: string): Promise<string | null> {
  const d = await stat(dir).catch(() => null);
  if (!d) return `The folder ${dir} is gone.`;
  if ((d.mode & 0o222) === 0) return `The folder ${dir} is read-only; Tandem cannot write beside the photo.`;
  const f = await stat(file).catch(() => null);
  if (f && (f.mode & 0o222) === 0) return `${basename(file)} is read-only; Tandem leaves it as it is.`;
  return null;
}

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Makes the rename durable; some filesystems (and Windows) cannot open a folder, which only costs durability. */
async function syncDir(dir: string): Promise<void> {
  try {
    await syncFile(dir);
  } catch {
    // best effort
  }
}

function writeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'Permission denied: Tandem may not write here.';
  if (code === 'EROFS') return 'The disk is read-only.';
  if (code === 'ENOSPC') return 'The disk is full.';
  const message = errorMessage(err).replace(/\s+/g, ' ').trim();
  return `ExifTool could not write the metadata: ${message}`;
}
