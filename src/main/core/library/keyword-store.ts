import { createHash } from 'node:crypto';
import { InvalidInputError, NotFoundError } from '../errors';
import { refreshSearchRow } from '../search/search-index';
import { nowIso, type Db } from '../store/database';
import { MAX_KEYWORD_CHARS, MAX_KEYWORDS_PER_PHOTO } from '../../../shared/text-limits';

/** Who added a keyword: the file it came with (another tool wrote it), a person in Tandem, or a model. */
export type KeywordSource = 'file' | 'user' | `model:${string}`;

export interface PhotoKeyword {
  keyword: string;
  source: KeywordSource;
  addedAt: string | null;
}

export { MAX_KEYWORD_CHARS, MAX_KEYWORDS_PER_PHOTO };
/** Keywords a scan takes from one file: files may bring more than a person adds, but not without bound. */
export const MAX_FILE_KEYWORDS = 1_000;
/** Longest keyword a scan takes from a file (a person's are held to MAX_KEYWORD_CHARS). */
const MAX_FILE_KEYWORD_CHARS = 500;

/**
 * The keywords of each photo (the `photo_tags` table; migration 4 gave it a source). Every change
 * refreshes the photo's search row in the same transaction, so a keyword is findable as soon as it is added.
 * Hierarchical keywords keep their `|` separator ("Places|France|Paris"), as Lightroom and digiKam write them.
 */
export class KeywordStore {
  constructor(private readonly db: Db) {}

  list(photoId: number): PhotoKeyword[] {
    const rows = this.db
      .prepare('SELECT tag, source, added_at FROM photo_tags WHERE photo_id = ? ORDER BY tag COLLATE NOCASE, tag')
      .all(photoId) as { tag: string; source: string; added_at: string | null }[];
    return rows.map((r) => ({ keyword: r.tag, source: r.source as KeywordSource, addedAt: r.added_at }));
  }

  /** Keywords of many photos at once (export, write-back), by photo id; photos without keywords are absent. */
  listMany(photoIds: readonly number[]): Map<number, PhotoKeyword[]> {
    const out = new Map<number, PhotoKeyword[]>();
    const stmt = this.db.prepare(
      'SELECT photo_id, tag, source, added_at FROM photo_tags WHERE photo_id = ? ORDER BY tag COLLATE NOCASE, tag',
    );
    for (const id of photoIds) {
      const rows = stmt.all(id) as { photo_id: number; tag: string; source: string; added_at: string | null }[];
      if (rows.length) out.set(id, rows.map((r) => ({ keyword: r.tag, source: r.source as KeywordSource, addedAt: r.added_at })));
    }
    return out;
  }

  /** Adds a keyword (a no-op if the photo has it already, whoever added it). Returns whether it was new. */
  add(photoId: number, keyword: string, source: KeywordSource = 'user'): boolean {
    const clean = normaliseKeyword(keyword);
    return this.db.transaction(() => {
      this.requirePhoto(photoId);
      const count = (this.db.prepare('SELECT count(*) AS n FROM photo_tags WHERE photo_id = ?').get(photoId) as { n: number }).n;
      if (count >= MAX_KEYWORDS_PER_PHOTO) {
        throw new InvalidInputError(`A photo can have at most ${MAX_KEYWORDS_PER_PHOTO} keywords.`);
      }
      const info = this.db
        .prepare('INSERT OR IGNORE INTO photo_tags (photo_id, tag, source, added_at) VALUES (?, ?, ?, ?)')
        .run(photoId, clean, source, nowIso());
      if (info.changes) refreshSearchRow(this.db, photoId);
      return info.changes > 0;
    })();
  }

  /** Removes a keyword whoever added it. Returns whether it was there. */
  remove(photoId: number, keyword: string): boolean {
    const clean = keyword.trim();
    return this.db.transaction(() => {
      this.requirePhoto(photoId);
      const info = this.db.prepare('DELETE FROM photo_tags WHERE photo_id = ? AND tag = ?').run(photoId, clean);
      if (info.changes) refreshSearchRow(this.db, photoId);
      return info.changes > 0;
    })();
  }

  /**
   * Keywords read from the file or its sidecar at a scan. Words the photo already has keep their source
   * (a user's word that Tandem wrote out and reads back stays the user's). Nothing is removed: a scan never
   * takes away a word someone added in Tandem. Callers inside a scan transaction refresh the search row themselves.
   */
  importFromFile(photoId: number, keywords: readonly string[]): number {
    const add = this.db.prepare("INSERT OR IGNORE INTO photo_tags (photo_id, tag, source, added_at) VALUES (?, ?, 'file', ?)");
    let added = 0;
    const now = nowIso();
    for (const k of keywords.slice(0, MAX_FILE_KEYWORDS)) {
      const clean = tryNormaliseKeyword(k, MAX_FILE_KEYWORD_CHARS);
      if (clean) added += add.run(photoId, clean, now).changes;
    }
    return added;
  }

  /** Distinct keywords in the library with how many photos carry each, most used first (autocomplete, export). */
  vocabulary(limit = 1000): { keyword: string; photos: number }[] {
    return this.db
      .prepare('SELECT tag AS keyword, count(*) AS photos FROM photo_tags GROUP BY tag ORDER BY photos DESC, tag LIMIT ?')
      .all(limit) as { keyword: string; photos: number }[];
  }

  private requirePhoto(photoId: number): void {
    if (!this.db.prepare('SELECT 1 FROM photos WHERE id = ?').get(photoId)) throw new NotFoundError(`Photo ${photoId} does not exist.`);
  }
}

/** Trims and collapses white space; rejects empty, over-long and control-character keywords. */
export function normaliseKeyword(keyword: string): string {
  const clean = tryNormaliseKeyword(keyword);
  if (clean === null) {
    throw new InvalidInputError(`A keyword must be 1–${MAX_KEYWORD_CHARS} characters of text, without line breaks.`);
  }
  return clean;
}

function tryNormaliseKeyword(keyword: string, maxChars = MAX_KEYWORD_CHARS): string | null {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(keyword.replace(/[\t ]+/g, ' ').replace(/^\s+|\s+$/g, ''))) return null;
  const clean = keyword.replace(/\s+/g, ' ').trim();
  if (!clean || clean.length > maxChars) return null;
  return clean;
}

/** A stable digest of a keyword set (order and duplicates do not matter): what metadata write-back compares. */
export function keywordsHash(keywords: readonly string[]): string {
  const sorted = [...new Set(keywords)].sort();
  return sorted.length ? createHash('sha256').update(JSON.stringify(sorted)).digest('hex') : '';
}
