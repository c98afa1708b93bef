import type { Db } from '../store/database';
import { facetTokens, type FacetSource } from './search-facets';
import { addSearchTerms, fillSearchTerms } from './search-terms';

/**
 * Keeps the FTS row of one photo in step with what is shown: the shown caption, tags, chat text,
 * file name and folder, plus the hidden facets the filters match on (search-facets.ts).
 * Callers run it inside the transaction that changed any of those. A status change alone is followed by
 * a trigger of migration 5 (the indexer marks vanished photos missing without calling this).
 */
export function refreshSearchRow(db: Db, photoId: number): void {
  const row = db
    .prepare(
      `SELECT p.id, p.root_id, p.caption_text, p.file_name, p.folder, p.status, p.taken_at,
         (SELECT group_concat(tag, ' ') FROM photo_tags t WHERE t.photo_id = p.id) AS tags,
         (SELECT group_concat(m.text, ' ') FROM messages m JOIN chats c ON c.id = m.chat_id
            WHERE c.photo_id = p.id AND m.role != 'system') AS chat
       FROM photos p WHERE p.id = ?`,
    )
    .get(photoId) as (FacetSource & { id: number; file_name: string; tags: string | null; chat: string | null }) | undefined;
  db.prepare('DELETE FROM photo_fts WHERE rowid = ?').run(photoId);
  if (!row) return;
  const text = [row.caption_text ?? '', row.tags ?? '', row.chat ?? '', searchableFileName(row.file_name), searchableFolder(row.folder)];
  db.prepare('INSERT INTO photo_fts (rowid, caption, tags, chat, file_name, folder, facets) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    photoId,
    ...text,
    facetTokens(row),
  );
  addSearchTerms(db, text);
}

/**
 * Rebuilds every FTS row in one statement, with the same text refreshSearchRow writes (its JS spellings
 * are registered as SQL functions, so there is one definition). One INSERT … SELECT is ~20× faster than
 * a million refreshSearchRow calls: the bench builds 1M rows with it, and ensureSearchIndex refills the
 * table after migration 5 recreated it.
 */
export function rebuildSearchIndex(db: Db): number {
  db.function('tandem_fts_name', { deterministic: true }, (name: unknown) => searchableFileName(String(name)));
  db.function('tandem_fts_folder', { deterministic: true }, (folder: unknown) => searchableFolder(String(folder)));
  db.function('tandem_fts_facets', { deterministic: true }, (rootId: unknown, folder: unknown, takenAt: unknown, caption: unknown, status: unknown) =>
    facetTokens({
      root_id: Number(rootId),
      folder: String(folder),
      taken_at: typeof takenAt === 'string' ? takenAt : null,
      caption_text: typeof caption === 'string' ? caption : null,
      status: String(status),
    }),
  );
  db.prepare('DELETE FROM photo_fts').run();
  const info = db
    .prepare(
      `INSERT INTO photo_fts (rowid, caption, tags, chat, file_name, folder, facets)
       SELECT p.id, coalesce(p.caption_text, ''),
         coalesce((SELECT group_concat(tag, ' ') FROM photo_tags t WHERE t.photo_id = p.id), ''),
         coalesce((SELECT group_concat(m.text, ' ') FROM messages m JOIN chats c ON c.id = m.chat_id
            WHERE c.photo_id = p.id AND m.role != 'system'), ''),
         tandem_fts_name(p.file_name), tandem_fts_folder(p.folder),
         tandem_fts_facets(p.root_id, p.folder, p.taken_at, p.caption_text, p.status)
       FROM photos p ORDER BY p.id`,
    )
    .run();
  fillSearchTerms(db);
  return info.changes;
}

/**
 * Fills the FTS table when it is empty but photos exist: migration 5 recreated it (SQL alone cannot
 * spell the facets), so the first open after the upgrade refills it once, in one transaction; likewise
 * search_terms after migration 6.
 */
export function ensureSearchIndex(db: Db): void {
  const hasRow = db.prepare('SELECT 1 FROM photo_fts LIMIT 1').get() !== undefined;
  if (hasRow) {
    // Migration 6 added search_terms empty: fill it once from the index (every photo has file name words).
    if (db.prepare('SELECT 1 FROM search_terms LIMIT 1').get() === undefined) db.transaction(() => fillSearchTerms(db))();
    return;
  }
  const hasPhoto = db.prepare('SELECT 1 FROM photos LIMIT 1').get() !== undefined;
  if (hasPhoto) db.transaction(() => rebuildSearchIndex(db))();
}

function searchableFolder(folder: string): string {
  return folder.replace(/[/_\-.]+/g, ' ');
}

/** "IMG_2041-beach.day.jpg" → "IMG 2041 beach day jpg": words are findable one by one. */
function searchableFileName(name: string): string {
  return name.replace(/[_\-.]+/g, ' ');
}
