import { SUMMARY_COLUMNS } from '../../src/main/core/library/photo-store';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { filterClauses } from '../../src/main/core/search/search-service';
import type { Db } from '../../src/main/core/store/database';
import type { PhotoFilters, PhotoSort } from '../../src/shared/api';

/**
 * The search and browse statements as they were before issue 14, restated against a copy of the old FTS
 * table (`legacy_fts`: five columns, no facets, a row for every photo) so the bench times
 * "before" and "after" on the same data in the same run. Nothing in src/ uses this.
 */
const LEGACY_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0';
const LEGACY_ORDER: Record<PhotoSort, string> = {
  taken: "coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch')) DESC, p.id DESC",
  name: 'p.file_name COLLATE NOCASE, p.id',
  added: 'p.id DESC',
};

/** Builds legacy_fts with the old options from the rows photo_fts was built from (same text functions). */
export function buildLegacyIndex(db: Db): number {
  const t0 = performance.now();
  db.exec(`DROP TABLE IF EXISTS legacy_fts;
    CREATE VIRTUAL TABLE legacy_fts USING fts5(caption, tags, chat, file_name, folder,
      tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4');`);
  // photo_fts holds the same text (plus the facets) for every photo.
  db.exec(`INSERT INTO legacy_fts (rowid, caption, tags, chat, file_name, folder)
    SELECT rowid, caption, tags, chat, file_name, folder FROM photo_fts;`);
  return performance.now() - t0;
}

/** The old parser made a lone letter a prefix ("m"*); the new one makes it a whole word. */
function legacyMatch(text: string): string | null {
  const m = parseSearchQuery(text).match;
  return m === null ? null : m.replace(/"([\p{L}\p{N}\p{M}])"(?!\*)/gu, '"$1"*');
}

export interface LegacyStatements {
  sql: string[];
  params: Record<string, unknown>;
}

export function legacySearchStatements(text: string, filters: PhotoFilters, offset: number, limit: number): LegacyStatements | null {
  const match = legacyMatch(text);
  if (match === null) return null;
  const w = filterClauses(filters);
  const where = ['legacy_fts MATCH @match', ...w.sql].join(' AND ');
  return {
    sql: [
      `SELECT count(*) AS n FROM legacy_fts JOIN photos p ON p.id = legacy_fts.rowid WHERE ${where}`,
      `SELECT ${SUMMARY_COLUMNS}, bm25(legacy_fts, ${LEGACY_WEIGHTS}) AS rank, highlight(legacy_fts, 0, char(1), char(2)) AS hl
       FROM legacy_fts JOIN photos p ON p.id = legacy_fts.rowid JOIN roots r ON r.id = p.root_id
       WHERE ${where} ORDER BY rank, p.id DESC LIMIT @limit OFFSET @offset`,
    ],
    params: { ...w.params, match, limit, offset },
  };
}

export function legacyListStatements(filters: PhotoFilters, sort: PhotoSort, offset: number, limit: number): LegacyStatements {
  const w = filterClauses(filters);
  const where = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
  return {
    sql: [
      `SELECT count(*) AS n FROM photos p ${where}`,
      `SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id ${where} ORDER BY ${LEGACY_ORDER[sort]} LIMIT @limit OFFSET @offset`,
    ],
    params: { ...w.params, limit, offset },
  };
}

export const LEGACY_FOLDERS_SQL = `SELECT root_id AS rootId, folder, count(*) AS count FROM photos
  WHERE status != 'missing' AND (@rootId IS NULL OR root_id = @rootId) GROUP BY root_id, folder ORDER BY root_id, folder`;

/** Runs restated statements; returns the count (first statement's n, or the row count). */
export function runStatements(db: Db, s: LegacyStatements): number {
  let total = 0;
  s.sql.forEach((sql, i) => {
    const stmt = db.prepare(sql);
    const used = Object.fromEntries(Object.entries(s.params).filter(([k]) => sql.includes(`@${k}`)));
    if (i === 0) total = ((stmt.get(used) as { n?: number } | undefined)?.n ?? 0);
    else stmt.all(used);
  });
  return total;
}

/** EXPLAIN QUERY PLAN lines of a statement, indented by depth. */
export function explainLines(db: Db, sql: string, params: Record<string, unknown>): string[] {
  const used = Object.fromEntries(Object.entries(params).filter(([k]) => sql.includes(`@${k}`)));
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(used) as { id: number; parent: number; detail: string }[];
  const depth = new Map<number, number>([[0, 0]]);
  return rows.map((r) => {
    const d = (depth.get(r.parent) ?? 0) + 1;
    depth.set(r.id, d);
    return `${'  '.repeat(d)}${r.detail}`;
  });
}
