import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanVipsMessage, openPixels, type PixelSource } from './image-probe';

export type ThumbSize = 'small' | 'large';

/** Long edge in pixels. Small fills grid tiles on HiDPI screens; large is the photo view before the full file loads. */
export const THUMB_EDGE: Record<ThumbSize, number> = { small: 320, large: 1280 };

export function thumbPath(thumbsDir: string, hash: string, size: ThumbSize): string {
  return join(thumbsDir, hash.slice(0, 2), `${hash}-${size === 'small' ? 's' : 'l'}.webp`);
}

/** Whether the grid's thumbnail is there: the large preview is made on first view, not by the indexer. */
export async function thumbsExist(thumbsDir: string, hash: string): Promise<boolean> {
  return stat(thumbPath(thumbsDir, hash, 'small')).then(() => true, () => false);
}

export class ThumbnailError extends Error {}

/**
 * Writes the small thumbnail the grid needs, cached by content hash: the indexer's only rendition.
 * Decoded straight to 320 px (libjpeg shrink-on-load decodes at 1/8 scale), which is what makes indexing
 * run near the speed of hashing and reading: the eager 1280 px preview was 61% of the indexing time and
 * ~62 KB a photo, for photos most people never open. Decoding every block here still catches truncated
 * files (failOn: 'error').
 */
export async function writeThumbnails(thumbsDir: string, hash: string, source: PixelSource): Promise<void> {
  await writeRendition(thumbsDir, hash, source, 'small', 78);
}

/** Writes the large preview of the photo view; MediaService calls it on first view and keeps it in the PreviewCache. */
export async function writePreview(thumbsDir: string, hash: string, source: PixelSource): Promise<number> {
  return writeRendition(thumbsDir, hash, source, 'large', 82);
}

async function writeRendition(thumbsDir: string, hash: string, source: PixelSource, size: ThumbSize, quality: number): Promise<number> {
  let webp: Buffer;
  try {
    // Effort 2 halves the encoding time against the default for ~5% larger files.
    webp = await openPixels(source)
      .resize(THUMB_EDGE[size], THUMB_EDGE[size], { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .webp({ quality, effort: 2 })
      .toBuffer();
  } catch (cause) {
    throw new ThumbnailError(cleanVipsMessage(cause), { cause });
  }
  await atomicWrite(thumbPath(thumbsDir, hash, size), webp);
  return webp.length;
}

async function atomicWrite(file: string, data: Buffer): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}
