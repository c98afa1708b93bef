import type { PhotoScanRow } from './photo-store';

/**
 * Photos a rescan did not find at their path: each may turn out to have moved (the same content found at a
 * new path keeps its id) and is marked missing at the end otherwise. Looked up by content hash, since a
 * rescan can meet many new files against many gone ones (a renamed folder), and a scan of the whole list
 * per new file is quadratic.
 */
export class GoneRows {
  private readonly byId = new Map<number, PhotoScanRow>();
  private readonly byHash = new Map<string, PhotoScanRow[]>();

  add(row: PhotoScanRow): void {
    this.byId.set(row.id, row);
    const same = this.byHash.get(row.hash);
    if (same) same.push(row);
    else this.byHash.set(row.hash, [row]);
  }

  /** The first gone photo with this content, no longer gone. */
  takeByHash(hash: string): PhotoScanRow | undefined {
    const same = this.byHash.get(hash);
    const row = same?.shift();
    if (!row) return undefined;
    if (same!.length === 0) this.byHash.delete(hash);
    this.byId.delete(row.id);
    return row;
  }

  rows(): IterableIterator<PhotoScanRow> {
    return this.byId.values();
  }
}
