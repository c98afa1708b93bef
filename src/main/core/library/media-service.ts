import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { NotFoundError } from '../errors';
import { readFileInside, realFileInside, type ContainedFile } from './contained-file';
import { probeImage } from './image-probe';
import { PhotoStore, type PhotoRow } from './photo-store';
import { PreviewCache } from './preview-cache';
import { thumbPath, writePreview, writeThumbnails, type ThumbSize } from './thumbnails';
import { SettingsStore } from '../settings/settings-store';
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
 * A thumbnail deleted from the cache is made again from the original; the large preview is made on first
 * view (the indexer writes only the small one) and kept in a bounded PreviewCache.
 */
export class MediaService {
  private readonly photos: PhotoStore;
  /** Large previews, made on first view and swept least recently viewed first. */
  readonly previews: PreviewCache;
  /** Renditions being written, by file: a preview asked for twice at once (view + prefetch) is made once. */
  private readonly making = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    private readonly thumbsDir: string,
    previewCacheBytes: () => number = () => new SettingsStore(db).get().previewCacheMB * 1024 * 1024,
  ) {
    this.photos = new PhotoStore(db);
    this.previews = new PreviewCache(thumbsDir, previewCacheBytes);
  }

  async thumbnail(photoId: number, size: ThumbSize): Promise<MediaReply> {
    const row = this.photos.row(photoId);
    if (row.status !== 'ok') throw new NotFoundError(`Photo ${photoId} has no thumbnail (${row.status_reason ?? row.status}).`);
    const file = thumbPath(this.thumbsDir, row.hash, size);
    const present = await stat(file).then(() => true, () => false);
    if (!present) {
      let job = this.making.get(file);
      if (!job) {
        job = this.make(row, size, file).finally(() => this.making.delete(file));
        this.making.set(file, job);
      }
      await job;
    } else if (size === 'large') {
      await this.previews.touch(row.hash, file);
    }
    return { ...(await realFileInside(this.thumbsDir, file, `the thumbnail of photo ${photoId}`)), mime: 'image/webp' };
  }

  private async make(row: PhotoRow, size: ThumbSize, file: string): Promise<void> {
    const source = await this.originalFile(row);
    const buffer = await readFileInside(source, `the original of photo ${row.id}`);
    const probe = await probeImage(buffer, extname(source.path));
    if (probe.status !== 'ok') throw new NotFoundError(`Photo ${row.id} cannot be decoded: ${probe.reason}`);
    if (size === 'small') {
      await writeThumbnails(this.thumbsDir, row.hash, probe.source);
      return;
    }
    const bytes = await writePreview(this.thumbsDir, row.hash, probe.source);
    await this.previews.add(row.hash, file, bytes);
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
