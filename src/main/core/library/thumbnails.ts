import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanVipsMessage, openPixels, type PixelSource } from './image-probe';

export type ThumbSize = 'small' | 'large';

/** Long edge in pixels. Small fills grid tiles on HiDPI screens; large is the photo view before the full file loads. */
export const THUMB_EDGE: Record<ThumbSize, number> = { small: 320, large: 1280 };

/** Thumbnails are sharded into 256 subfolders by the first two hex digits of the hash. */
function shard(hash: string): string {
  return hash.slice(0, 2);
}

function thumbName(hash: string, size: ThumbSize): string {
  return `${hash}-${size === 'small' ? 's' : 'l'}.webp`;
}

export function thumbPath(thumbsDir: string, hash: string, size: ThumbSize): string {
  return join(thumbsDir, shard(hash), thumbName(hash, size));
}

/** Whether the grid's thumbnail is there: the large preview is made on first view, not by the indexer. */
export async function thumbsExist(thumbsDir: string, hash: string): Promise<boolean> {
  return stat(thumbPath(thumbsDir, hash, 'small')).then(() => true, () => false);
}

/**
 * Which of `hashes` lack the grid's thumbnail, found by listing each shard folder once instead of one
 * `stat` per hash (a rescan of a million unchanged photos asked a million stats). Only shards some hash
 * falls in are listed, one at a time, and each listing is dropped once its hashes are checked, so memory
 * holds one shard's names (~1/256 of the cache), not the whole cache. A missing shard folder means its
 * thumbnails are missing; a shard that cannot be listed for another reason falls back to `stat` per hash.
 */
export async function missingSmallThumbs(thumbsDir: string, hashes: Iterable<string>): Promise<Set<string>> {
  const byShard = new Map<string, string[]>();
  for (const hash of hashes) {
    const key = shard(hash);
    const list = byShard.get(key);
    if (list) list.push(hash);
    else byShard.set(key, [hash]);
  }
  const missing = new Set<string>();
  for (const [key, list] of byShard) {
    let names: Set<string> | null;
    try {
      names = new Set(await readdir(join(thumbsDir, key)));
    } catch (err) {
      names = (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Set() : null;
    }
    for (const hash of list) {
      const there = names ? names.has(thumbName(hash, 'small')) : await thumbsExist(thumbsDir, hash);
      if (!there) missing.add(hash);
    }
  }
  return missing;
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
