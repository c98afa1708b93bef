import { constants } from 'node:fs';
import { copyFile, link, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { TandemError } from '../errors';
import { cleanVipsMessage, openPixels, probeImage } from '../library/image-probe';

export type ImageMode = 'copy' | 'link' | 'none';

/** Why one photo was left out of an export, worded for the summary ("could not be decoded: …"); the export goes on. */
export class ExportSkip extends TandemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('export_skip', message, options);
    this.name = 'ExportSkip';
  }
}

export interface ImageSource {
  /** Real path of the original (checked to lie inside its library folder). */
  path: string;
  fileName: string;
  /** As displayed, after EXIF orientation (from the index). */
  width: number | null;
  height: number | null;
  orientation: number | null;
  format: string | null;
}

export interface WrittenImage {
  fileName: string;
  width: number | null;
  height: number | null;
  size: number;
  /** Decoded and written again (smaller, upright, or in a format trainers read). */
  resized: boolean;
  /** A hard link was asked for but the export folder is on another file system. */
  linkFallback: boolean;
}

/** Formats kept as they are when re-encoding; anything else (HEIC, TIFF, GIF, AVIF) becomes JPEG, or PNG with alpha. */
const KEPT_FORMATS = new Set(['jpeg', 'png', 'webp']);
const EXTENSION: Record<string, string> = { jpeg: '.jpg', png: '.png', webp: '.webp' };

/**
 * Whether a copy must be decoded and written again: only when a max side was asked for (a byte-exact copy
 * otherwise) and the image is larger, stored sideways (trainers load pixels without applying EXIF orientation),
 * or in a format trainers cannot read.
 */
export function needsReencode(src: ImageSource, maxSide: number | null): boolean {
  if (maxSide === null) return false;
  const longest = Math.max(src.width ?? Infinity, src.height ?? Infinity);
  return longest > maxSide || (src.orientation !== null && src.orientation !== 1) || !KEPT_FORMATS.has(src.format ?? '');
}

/**
 * Writes one image into the export folder as `<stem><ext>`. Every write goes to a temporary name and is renamed
 * into place: a file left there by an earlier export may be a hard link to the original, and writing through
 * it would change the photo in the library.
 */
export async function writeExportImage(src: ImageSource, destDir: string, stem: string, mode: Exclude<ImageMode, 'none'>, maxSide: number | null): Promise<WrittenImage> {
  const tmp = join(destDir, `.${stem}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    if (mode === 'copy' && needsReencode(src, maxSide)) return await reencode(src, destDir, stem, maxSide!, tmp);
    const ext = dotExtension(src.fileName);
    const fileName = `${stem}${ext}`;
    let linkFallback = false;
    if (mode === 'link') {
      try {
        await link(src.path, tmp);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another disk (EXDEV), or a file system without hard links (EPERM on FAT, some network shares).
        if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw err;
        linkFallback = true;
        await copyFile(src.path, tmp, constants.COPYFILE_FICLONE);
      }
    } else {
      await copyFile(src.path, tmp, constants.COPYFILE_FICLONE);
    }
    await rename(tmp, join(destDir, fileName));
    const size = (await stat(join(destDir, fileName))).size;
    return { fileName, width: src.width, height: src.height, size, resized: false, linkFallback };
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof ExportSkip) throw err;
    throw new ExportSkip(`could not be written: ${(err as Error).message}`, { cause: err });
  }
}

async function reencode(src: ImageSource, destDir: string, stem: string, maxSide: number, tmp: string): Promise<WrittenImage> {
  const buffer = await readFile(src.path);
  const probe = await probeImage(buffer, dotExtension(src.fileName));
  if (probe.status !== 'ok') throw new ExportSkip(probe.reason);
  let hasAlpha = false;
  if (probe.source.kind === 'encoded') hasAlpha = (await sharp(probe.source.buffer).metadata()).hasAlpha ?? false;
  const format = KEPT_FORMATS.has(probe.format) ? probe.format : hasAlpha ? 'png' : 'jpeg';
  let pipeline = openPixels(probe.source).resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }).toColourspace('srgb');
  pipeline = format === 'png' ? pipeline.png() : format === 'webp' ? pipeline.webp({ quality: 92 }) : pipeline.jpeg({ quality: 92, chromaSubsampling: '4:4:4' });
  let info;
  try {
    info = await pipeline.toFile(tmp);
  } catch (cause) {
    throw new ExportSkip(`could not be decoded: ${cleanVipsMessage(cause)}`, { cause });
  }
  const fileName = `${stem}${EXTENSION[format]}`;
  await rename(tmp, join(destDir, fileName));
  return { fileName, width: info.width, height: info.height, size: info.size, resized: true, linkFallback: false };
}

function dotExtension(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot) : '';
}
