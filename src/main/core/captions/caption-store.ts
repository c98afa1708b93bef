import type { CaptionEntry } from '../../../shared/api';
import { InvalidInputError, NotFoundError } from '../errors';
import { nowIso, type Db } from '../store/database';
import { refreshSearchRow } from '../search/search-index';

/**
 * Which caption is shown: the newest user edit, else the newest caption that came with the file
 * (a person wrote it in another tool), else the newest model caption. A model result never hides a human one;
 * it is kept in the history instead.
 */
export function shownCaptionRank(source: string): number {
  if (source === 'user') return 3;
  if (source === 'file') return 2;
  return 1;
}

export class CaptionStore {
  constructor(private readonly db: Db) {}

  /** Adds a caption and updates the shown caption and search index, in one transaction. */
  add(photoId: number, source: string, text: string, settings: unknown = null): number {
    const clean = text.trim();
    if (source !== 'user' && !clean) throw new InvalidInputError('A caption cannot be empty.');
    return this.db.transaction(() => {
      const exists = this.db.prepare('SELECT 1 FROM photos WHERE id = ?').get(photoId);
      if (!exists) throw new NotFoundError(`Photo ${photoId} does not exist.`);
      const info = this.db
        .prepare('INSERT INTO captions (photo_id, source, text, settings, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(photoId, source, clean, settings === null ? null : JSON.stringify(settings), nowIso());
      this.refreshShown(photoId);
      return Number(info.lastInsertRowid);
    })();
  }

  history(photoId: number): CaptionEntry[] {
    const rows = this.db
      .prepare('SELECT id, source, text, settings, created_at FROM captions WHERE photo_id = ? ORDER BY id DESC')
      .all(photoId) as { id: number; source: string; text: string; settings: string | null; created_at: string }[];
    return rows.map((r) => ({ id: r.id, source: r.source, text: r.text, settings: r.settings, createdAt: r.created_at }));
  }

  /** Makes an earlier caption the shown one again, as a new user entry so the history keeps every step. */
  revertTo(photoId: number, captionId: number): void {
    const row = this.db.prepare('SELECT text FROM captions WHERE id = ? AND photo_id = ?').get(captionId, photoId) as { text: string } | undefined;
    if (!row) throw new NotFoundError(`Caption ${captionId} does not belong to photo ${photoId}.`);
    this.add(photoId, 'user', row.text);
  }

  /** Recomputes photos.caption_text/source from the history. An empty user edit means "no caption". */
  refreshShown(photoId: number): void {
    const rows = this.db
      .prepare('SELECT source, text FROM captions WHERE photo_id = ? ORDER BY id DESC')
      .all(photoId) as { source: string; text: string }[];
    let best: { source: string; text: string } | null = null;
    for (const r of rows) {
      if (!best || shownCaptionRank(r.source) > shownCaptionRank(best.source)) best = r;
    }
    const text = best && best.text !== '' ? best.text : null;
    this.db
      .prepare('UPDATE photos SET caption_text = ?, caption_source = ? WHERE id = ?')
      .run(text, text === null ? null : best!.source, photoId);
    refreshSearchRow(this.db, photoId);
  }
}
