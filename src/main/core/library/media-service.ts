import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { NotFoundError } from '../errors';
import { readFileInside, realFileInside, type ContainedFile } from './contained-file';
import { probeImage } from './image-probe';
import { PhotoStore, type PhotoRow } from './photo-store';
import { thumbPath, writeThumbnails, type ThumbSize } from './thumbnails';
import type { Db } from '../store/database';

/** A file to serve: `path` is real (no links left) and lies inside `within`; read it with `readMedia`. */
export type MediaReply = ContainedFile & { mime: string };

/** The bytes of a reply, read without following anything swapped in since it was resolved. */
export function readMedia(reply: MediaReply): Promise<Buffer> {
  return readFileInside(reply, 'this photo');
}

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
      const source = await this.originalFile(row);
      const buffer = await readFileInside(source, `the original of photo ${photoId}`);
      const probe = await probeImage(buffer, extname(source.path));
      if (probe.status !== 'ok') throw new NotFoundError(`Photo ${photoId} cannot be decoded: ${probe.reason}`);
      await writeThumbnails(this.thumbsDir, row.hash, probe.source);
    }
    return { ...(await realFileInside(this.thumbsDir, file, `the thumbnail of photo ${photoId}`)), mime: 'image/webp' };
  }

  async original(photoId: number): Promise<MediaReply> {
    const row = this.photos.row(photoId);
    const mime = row.format ? WEB_MIME[row.format] : undefined;
    if (row.status === 'ok' && mime) return { ...(await this.originalFile(row)), mime };
    return this.thumbnail(photoId, 'large');
  }

  /** The photo's file, resolved, if it still lies inside its library folder (also resolved). */
  private originalFile(row: PhotoRow): Promise<ContainedFile> {
    const root = this.photos.rootById(row.root_id);
    return realFileInside(root.path, this.photos.absolutePath(row), `the original of photo ${row.id}`);
  }

  /** Parses `thumb/12?size=large` or `photo/12` (the part after `tandem://`). */
  async resolve(urlPath: string): Promise<MediaReply> {
    const m = /^\/*(thumb|photo)\/(\d+)(?:\?size=(small|large))?$/.exec(urlPath);
    if (!m) throw new NotFoundError(`Unknown media address: ${urlPath}`);
    const id = Number(m[2]);
    return m[1] === 'thumb' ? this.thumbnail(id, (m[3] as ThumbSize | undefined) ?? 'small') : this.original(id);
  }
}
