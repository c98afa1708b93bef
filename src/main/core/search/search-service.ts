import type { PhotoFilters, PhotoPage, PhotoSort, SearchResult } from '../../../shared/api';
import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from '../library/photo-store';
import type { Db } from '../store/database';
import { parseSearchQuery } from './fts-query';

/** bm25 column weights: caption, tags, chat, file name, folder. What a photo shows matters most. */
const BM25_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0';

interface Where {
  sql: string[];
  params: Record<string, unknown>;
}

/**
 * A photo with no caption shown whose caption job failed (the job keeps the reason). Written as IN, not a
 * correlated EXISTS, so SQLite starts from the few failed jobs: 0.6 ms instead of 48 ms at 100k photos.
 */
export const CAPTION_FAILED = "p.caption_text IS NULL AND p.id IN (SELECT j.photo_id FROM jobs j WHERE j.state = 'failed')";

/** SQL for the filters shared by browsing and search. Missing photos are hidden unless asked for. */
export function filterClauses(f: PhotoFilters): Where {
  const sql: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.rootId !== undefined) {
    sql.push('p.root_id = @rootId');
    params['rootId'] = f.rootId;
  }
  if (f.folder !== undefined && f.folder !== '') {
    const folder = f.folder.replace(/^\/+|\/+$/g, '');
    // The subfolder test as a range ('0' is the character after '/') so photos_folder can serve it.
    sql.push("(p.folder = @folder OR (p.folder >= @folder || '/' AND p.folder < @folder || '0'))");
    params['folder'] = folder;
  }
  if (f.takenFrom) {
    sql.push('p.taken_at >= @takenFrom');
    params['takenFrom'] = f.takenFrom;
  }
  if (f.takenTo) {
    // A bare date means the whole day.
    sql.push('p.taken_at <= @takenTo');
    params['takenTo'] = /^\d{4}-\d{2}-\d{2}$/.test(f.takenTo) ? `${f.takenTo}T23:59:59~` : f.takenTo;
  }
  if (f.problems) sql.push(`(p.status IN ('broken', 'unsupported') OR (${CAPTION_FAILED}))`);
  if (f.captioned === 'yes') sql.push('p.caption_text IS NOT NULL');
  if (f.captioned === 'no') sql.push('p.caption_text IS NULL');
  const chosen = f.status && f.status.length > 0;
  const statuses = chosen ? f.status! : ['ok', 'unsupported', 'broken'];
  // The default keeps nearly every row: '+' stops the planner from preferring photos_status over the sort indexes.
  sql.push(`${chosen ? '' : '+'}p.status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
  statuses.forEach((s, i) => (params[`status${i}`] = s));
  return { sql, params };
}

/** Keep in step with the photos_sort_* indexes of migration 2: the planner only uses them for the identical expression. */
const ORDER: Record<PhotoSort, string> = {
  taken: "coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch')) DESC, p.id DESC",
  name: 'p.file_name COLLATE NOCASE, p.id',
  added: 'p.id DESC',
};

/** The statements behind list(): a count, and a page taking @limit and @offset. */
export function listQuery(filters: PhotoFilters, sort: PhotoSort): { countSql: string; pageSql: string; params: Record<string, unknown> } {
  const w = filterClauses(filters);
  const where = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
  return {
    countSql: `SELECT count(*) AS n FROM photos p ${where}`,
    pageSql: `SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id ${where}
         ORDER BY ${ORDER[sort]} LIMIT @limit OFFSET @offset`,
    params: w.params,
  };
}

export class SearchService {
  constructor(private readonly db: Db) {}

  list(filters: PhotoFilters, sort: PhotoSort, offset: number, limit: number): PhotoPage {
    const q = listQuery(filters, sort);
    const total = (this.db.prepare(q.countSql).get(q.params) as { n: number }).n;
    const rows = this.db.prepare(q.pageSql).all({ ...q.params, limit, offset }) as SummaryRow[];
    return { total, items: rows.map(toSummary) };
  }

  /** Folder tree with photo counts (each folder counts its own photos, not its subfolders'). */
  folders(rootId?: number): { rootId: number; folder: string; count: number }[] {
    const rows = this.db
      .prepare(
        `SELECT root_id AS rootId, folder, count(*) AS count FROM photos
         WHERE status != 'missing' AND (@rootId IS NULL OR root_id = @rootId)
         GROUP BY root_id, folder ORDER BY root_id, folder`,
      )
      .all({ rootId: rootId ?? null }) as { rootId: number; folder: string; count: number }[];
    return rows;
  }

  search(query: string, filters: PhotoFilters, offset: number, limit: number): SearchResult {
    const parsed = parseSearchQuery(query);
    if (parsed.match === null) {
      return { query, total: 0, items: [], notice: parsed.notice };
    }
    const w = filterClauses(filters);
    const where = ['photo_fts MATCH @match', ...w.sql].join(' AND ');
    const params = { ...w.params, match: parsed.match };
    try {
      const total = (
        this.db.prepare(`SELECT count(*) AS n FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid WHERE ${where}`).get(params) as {
          n: number;
        }
      ).n;
      const rows = this.db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS}, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank,
             highlight(photo_fts, 0, char(1), char(2)) AS hl
           FROM photo_fts JOIN photos p ON p.id = photo_fts.rowid JOIN roots r ON r.id = p.root_id
           WHERE ${where}
           ORDER BY rank, p.id DESC LIMIT @limit OFFSET @offset`,
        )
        .all({ ...params, limit, offset }) as (SummaryRow & { rank: number; hl: string | null })[];
      return {
        query,
        total,
        items: rows.map((r) => ({ ...toSummary(r), rank: r.rank, highlight: r.caption_text ? r.hl : null })),
        notice: parsed.notice,
      };
    } catch (err) {
      // The parser only emits valid syntax; this guards against SQLite limits (e.g. very long queries).
      return { query, total: 0, items: [], notice: `This search could not be run: ${(err as Error).message}` };
    }
  }
}
