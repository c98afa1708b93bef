import type { CaptionStore } from '../captions/caption-store';
import type { KeywordStore } from '../library/keyword-store';
import type { PhotoMetadata } from '../library/photo-metadata';
import type { Db } from '../store/database';
import { readSidecar } from './sidecar-reader';

/**
 * The photo's own metadata with its XMP sidecar laid over it. The sidecar wins: tools that keep sidecars
 * (Lightroom, darktable, digiKam) write their edits there and leave the file's older words as they were.
 */
export async function withSidecar(photoPath: string, meta: PhotoMetadata): Promise<PhotoMetadata> {
  const sidecar = await readSidecar(photoPath);
  if (!sidecar) return meta;
  return {
    ...meta,
    ...(sidecar.caption !== null ? { embeddedCaption: sidecar.caption, embeddedCaptionSource: sidecar.captionSource } : {}),
    keywords: sidecar.keywords.length ? sidecar.keywords : meta.keywords,
  };
}

/**
 * Stores the words a scan found in a file or its sidecar: the caption under its source ('file', or the model
 * Tandem wrote it for, so it ranks as that model's caption and never above a person's), keywords as 'file'.
 * A caption the photo already has (a write-back read in again) adds nothing to the history.
 */
export function importFileWords(db: Db, captions: CaptionStore, keywords: KeywordStore, photoId: number, meta: PhotoMetadata): void {
  const text = meta.embeddedCaption?.trim();
  if (text) {
    const source = meta.embeddedCaptionSource ?? 'file';
    const known = db.prepare('SELECT 1 FROM captions WHERE photo_id = ? AND text = ? LIMIT 1').get(photoId, text);
    if (!known) captions.add(photoId, source, text);
  }
  if (meta.keywords.length) keywords.importFromFile(photoId, meta.keywords);
}
