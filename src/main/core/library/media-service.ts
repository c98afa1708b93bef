import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { NotFoundError } from '../errors';
import { probeImage } from './image-probe';
import { PhotoStore } from './photo-store';
import { thumbPath, writeThumbnails, type ThumbSize } from './thumbnails';
import type { Db } from '../store/database';

export type MediaReply = { path: string; mime: string };

/** Formats every Chromium shows natively; others are served as their large WebP rendition. */
const WEB_MIME: Record<string, string> = {
  jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif',
};

/**
 * Answers `tandem://thumb/<id>` and `tandem://photo/<id>` by database id: the renderer never names a path.
 * A thumbnail deleted from the cache is made again from the original.
 */
export class MediaService {
  private readonly photos: PhotoStore;

  constructor(private readonly db: Db, private readonly thumbsDir: string) {
    this.photos = new PhotoStore(db);
  }

  async thumbnail(photoId: number, size: ThumbSize): Promise<MediaReply> {
    const row = this.photos.row(photoId);
    if (row.status !== 'ok') throw new NotFoundError(`Photo ${photoId} has no thumbnail (${row.status_reason ?? row.status}).`);
    const file = thumbPath(this.thumbsDir, row.hash, size);
    const present = await stat(file).then(() => true, () => false);
    if (!present) {
      const source = this.photos.absolutePath(row);
      const buffer = await readFile(source).catch(() => {
        throw new NotFoundError(`The original of photo ${photoId} is not at ${source} any more.`);
      });
      const probe = await probeImage(buffer, extname(source));
      if (probe.status !== 'ok') throw new NotFoundError(`Photo ${photoId} cannot be decoded: ${probe.reason}`);
      await writeThumbnails(this.thumbsDir, row.hash, probe.source);
    }
    return { path: file, mime: 'image/webp' };
  }

  async original(photoId: number): Promise<MediaReply> {
    const row = this.photos.row(photoId);
    const mime = row.format ? WEB_MIME[row.format] : undefined;
    if (row.status === 'ok' && mime) return { path: this.photos.absolutePath(row), mime };
    return this.thumbnail(photoId, 'large');
  }

  /** Parses `thumb/12?size=large` or `photo/12` (the part after `tandem://`). */
  async resolve(urlPath: string): Promise<MediaReply> {
    const m = /^\/*(thumb|photo)\/(\d+)(?:\?size=(small|large))?$/.exec(urlPath);
    if (!m) throw new NotFoundError(`Unknown media address: ${urlPath}`);
    const id = Number(m[2]);
    return m[1] === 'thumb' ? this.thumbnail(id, (m[3] as ThumbSize | undefined) ?? 'small') : this.original(id);
  }
}
