import type { Db } from '../store/database';

/**
 * Keeps the FTS row of one photo in step with what is shown: the shown caption, tags, chat text,
 * file name and folder. Callers run it inside the transaction that changed any of those.
 */
export function refreshSearchRow(db: Db, photoId: number): void {
  const row = db
    .prepare(
      `SELECT p.id, p.caption_text, p.file_name, p.folder, p.status,
         (SELECT group_concat(tag, ' ') FROM photo_tags t WHERE t.photo_id = p.id) AS tags,
         (SELECT group_concat(m.text, ' ') FROM messages m JOIN chats c ON c.id = m.chat_id
            WHERE c.photo_id = p.id AND m.role != 'system') AS chat
       FROM photos p WHERE p.id = ?`,
    )
    .get(photoId) as
    | { id: number; caption_text: string | null; file_name: string; folder: string; tags: string | null; chat: string | null }
    | undefined;
  db.prepare('DELETE FROM photo_fts WHERE rowid = ?').run(photoId);
  if (!row) return;
  db.prepare('INSERT INTO photo_fts (rowid, caption, tags, chat, file_name, folder) VALUES (?, ?, ?, ?, ?, ?)').run(
    photoId,
    row.caption_text ?? '',
    row.tags ?? '',
    row.chat ?? '',
    searchableFileName(row.file_name),
    row.folder.replace(/[/_\-.]+/g, ' '),
  );
}

/** "IMG_2041-beach.day.jpg" → "IMG 2041 beach day jpg IMG_2041-beach.day.jpg": words are findable one by one. */
function searchableFileName(name: string): string {
  return `${name.replace(/[_\-.]+/g, ' ')}`;
}
