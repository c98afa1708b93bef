import type { ExportScope } from '../../../shared/api';
import { filterClauses } from '../search/search-service';
import { parseSearchQuery } from '../search/fts-query';
import type { Db } from '../store/database';

const TEXT_COLUMNS = '{caption tags chat file_name folder}';

/**
 * The photo ids an export covers, in a stable order (picked order, else folder and name), so two exports of the
 * same scope name clashing files the same way. Ids only: a million of them is a few megabytes; rows are read one by one.
 */
export function exportPhotoIds(db: Db, scope: ExportScope): number[] {
  if (scope.kind === 'photos') return [...new Set(scope.photoIds)];
  const filters = scope.kind === 'search' ? scope.filters : {};
  const w = filterClauses(filters);
  const query = scope.kind === 'search' ? scope.query.trim() : '';
  const order = 'ORDER BY p.root_id, p.folder, p.file_name, p.id';
  if (query === '') {
    const where = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
    return (db.prepare(`SELECT p.id FROM photos p ${where} ${order}`).pluck().all(w.params) as number[]);
  }
  const parsed = parseSearchQuery(query);
  if (parsed.match === null) return [];
  const where = ['photo_fts MATCH @match', ...w.sql].join(' AND ');
  // Every match, not the search view's ranked window: an export of "dog" means every photo of a dog.
  // Typed words match the text columns only, as in the search box (the index may hold hidden columns too).
  return db
    .prepare(`SELECT p.id FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${where} ${order}`)
    .pluck()
    .all({ ...w.params, match: `${TEXT_COLUMNS} : (${parsed.match})` }) as number[];
}
