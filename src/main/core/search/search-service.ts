import type { PhotoFilters, PhotoPage, PhotoSort, SearchResult } from '../../../shared/api';
import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from '../library/photo-store';
import type { Db } from '../store/database';
import { ensureSearchIndex } from './search-index';
import { parseSearchQuery } from './fts-query';
import { highlightText } from './highlight';
import { facetMatch, normalizeFolder } from './search-facets';
import { expandPrefix } from './search-terms';

/** bm25 column weights: caption, tags, chat, file name, folder; the facets column never ranks. */
export const BM25_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0, 0.0';

/** What a person typed only ever matches the text columns, never the facet tokens. */
const TEXT_COLUMNS = '{caption tags chat file_name folder}';

/**
 * A search counts at most this many matches: the newest ones, by photo id. Up to it results are ranked
 * by bm25; past it the total says "this many", the notice says there are more and the newest come first.
 * Ranking every match of "man" (116k of a million photos) cost 90–180 ms and counting them through the
 * filters 200–300 ms; walking the newest 5,000 takes 1–6 ms, and nobody pages through 5,000 search hits.
 */
export const SEARCH_WINDOW = 5000;

/**
 * A folder filter on list(): folders holding up to this many photos are read through photos_folder and
 * sorted; bigger ones (a year of a million-photo library) walk the sort index and skip the rest.
 */
const SMALL_FOLDER = 5000;

/** rankByWords scores the words' photos only when the filters keep at least 1 in this many of them. */
const RANK_BY_WORDS_SPREAD = 4;

interface Where {
  sql: string[];
  params: Record<string, unknown>;
}

/**
 * A photo with no caption shown whose caption job failed (the job keeps the reason). Written as IN, not a
 * correlated EXISTS, so SQLite starts from the few failed jobs: 0.6 ms instead of 48 ms at 100k photos.
 */
export const CAPTION_FAILED = "p.caption_text IS NULL AND p.id IN (SELECT j.photo_id FROM jobs j WHERE j.state = 'failed' AND j.kind = 'caption')";

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

const SORT_TAKEN_EXPR = "coalesce(p.taken_at, strftime('%Y-%m-%dT%H:%M:%S', p.mtime_ms / 1000, 'unixepoch'))";

export interface ListHints {
  /** Photos in the filtered folder (from photo_counts); decides which index serves a folder filter. */
  folderSize?: number;
  /** The date sort keys a big folder spans (from photo_counts): where its page starts in the sort index. */
  folderSpan?: { lo: string; hi: string };
}

/** The statements behind list(): a count, and a page taking @limit and @offset. */
export function listQuery(
  filters: PhotoFilters,
  sort: PhotoSort,
  hints: ListHints = {},
): { countSql: string; pageSql: string; params: Record<string, unknown> } {
  const w = filterClauses(filters);
  // The count reads the filters alone: photos_taken (taken_at, status) answers a date range by itself.
  const countWhere = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
  if (sort === 'taken' && (filters.takenFrom || filters.takenTo)) {
    // Implied by the taken_at range (a dated photo sorts by taken_at), spelled as the sort index's own
    // expression so a date-filtered page seeks into photos_sort_taken instead of filtering all of it.
    if (filters.takenFrom) w.sql.push(`${SORT_TAKEN_EXPR} >= @takenFrom`);
    if (filters.takenTo) w.sql.push(`${SORT_TAKEN_EXPR} <= @takenTo`);
  }
  if (hints.folderSize !== undefined && hints.folderSize > SMALL_FOLDER) {
    // A big folder is a large share of the library: the sort index finds a page of it sooner than sorting it all.
    const i = w.sql.findIndex((c) => c.includes('@folder'));
    if (i !== -1) w.sql[i] = "(+p.folder = @folder OR (+p.folder >= @folder || '/' AND +p.folder < @folder || '0'))";
    if (sort === 'taken' && hints.folderSpan) {
      // Folders follow dates ("2010/…"): start the walk where the folder's newest photo sorts, not at today.
      w.sql.push(`${SORT_TAKEN_EXPR} BETWEEN @spanLo AND @spanHi`);
      w.params['spanLo'] = hints.folderSpan.lo;
      w.params['spanHi'] = hints.folderSpan.hi;
    }
  }
  const where = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
  return {
    countSql: `SELECT count(*) AS n FROM photos p ${countWhere}`,
    pageSql: `SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id ${where}
         ORDER BY ${ORDER[sort]} LIMIT @limit OFFSET @offset`,
    params: w.params,
  };
}

/** Filters photo_counts can answer: everything but dates and "needs attention". */
function countsClauses(f: PhotoFilters): { sql: string[]; params: Record<string, unknown> } | null {
  if (f.takenFrom || f.takenTo || f.problems) return null;
  const sql: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.rootId !== undefined) {
    sql.push('root_id = @rootId');
    params['rootId'] = f.rootId;
  }
  if (f.folder !== undefined && f.folder !== '') {
    sql.push("(folder = @folder OR (folder >= @folder || '/' AND folder < @folder || '0'))");
    params['folder'] = normalizeFolder(f.folder);
  }
  if (f.captioned === 'yes') sql.push('captioned = 1');
  if (f.captioned === 'no') sql.push('captioned = 0');
  const statuses = f.status && f.status.length > 0 ? f.status : ['ok', 'unsupported', 'broken'];
  sql.push(`status IN (${statuses.map((_, i) => `@status${i}`).join(', ')})`);
  statuses.forEach((s, i) => (params[`status${i}`] = s));
  return { sql, params };
}

/** Both on by default; the bench turns them off to time the same service without them. */
export interface SearchOptions {
  /** Search long prefixes as their whole words (search-terms.ts). */
  expandPrefixes?: boolean;
  /** Rank a filtered search from its words alone when they are few (rankByWords). */
  rankByWords?: boolean;
}

export class SearchService {
  private readonly expand: ((prefix: string) => string[] | null) | undefined;
  private readonly rankFilteredByWords: boolean;

  constructor(
    private readonly db: Db,
    options: SearchOptions = {},
  ) {
    ensureSearchIndex(db);
    this.expand = options.expandPrefixes === false ? undefined : (prefix) => expandPrefix(db, prefix);
    this.rankFilteredByWords = options.rankByWords !== false;
  }

  list(filters: PhotoFilters, sort: PhotoSort, offset: number, limit: number): PhotoPage {
    const folderSize = filters.folder
      ? (this.countPhotos({ folder: filters.folder, ...(filters.rootId !== undefined ? { rootId: filters.rootId } : {}) }) ?? undefined)
      : undefined;
    const hints: ListHints = {};
    if (folderSize !== undefined) {
      hints.folderSize = folderSize;
      if (folderSize > SMALL_FOLDER && sort === 'taken') hints.folderSpan = this.folderSpan(filters.folder!);
    }
    const q = listQuery(filters, sort, hints);
    const total = this.countPhotos(filters) ?? (this.db.prepare(q.countSql).get(q.params) as { n: number }).n;
    const rows = this.db.prepare(q.pageSql).all({ ...q.params, limit, offset }) as SummaryRow[];
    return { total, items: rows.map(toSummary) };
  }

  /** The date sort keys a folder and its subfolders span, from photo_counts (a bound: it only widens). */
  private folderSpan(folder: string): { lo: string; hi: string } | undefined {
    const row = this.db
      .prepare(
        `SELECT min(first_key) AS lo, max(last_key) AS hi FROM photo_counts
         WHERE n > 0 AND (folder = @folder OR (folder >= @folder || '/' AND folder < @folder || '0'))`,
      )
      .get({ folder: normalizeFolder(folder) }) as { lo: string | null; hi: string | null };
    return row.lo !== null && row.hi !== null ? { lo: row.lo, hi: row.hi } : undefined;
  }

  /** The number of photos the filters keep, from photo_counts; null when only the photos table can say. */
  countPhotos(filters: PhotoFilters): number | null {
    const c = countsClauses(filters);
    if (!c) return null;
    return (this.db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM photo_counts WHERE ${c.sql.join(' AND ')}`).get(c.params) as { n: number }).n;
  }

  /** Folder tree with photo counts (each folder counts its own photos, not its subfolders'). */
  folders(rootId?: number): { rootId: number; folder: string; count: number }[] {
    return this.db
      .prepare(
        `SELECT root_id AS rootId, folder, sum(n) AS count FROM photo_counts
         WHERE status != 'missing' AND (@rootId IS NULL OR root_id = @rootId)
         GROUP BY root_id, folder HAVING sum(n) > 0 ORDER BY root_id, folder`,
      )
      .all({ rootId: rootId ?? null }) as { rootId: number; folder: string; count: number }[];
  }

  /**
   * A filtered search's page ranked from its words alone, when they match at most SEARCH_WINDOW photos:
   * bm25 reads every posting list of the query in full, the filters' facet tokens too ("c1" is most of a
   * library: "mountain" captioned took 31 ms to rank, "mountain" alone 7 ms). The facets weigh 0, so each
   * photo's score is the same either way; the matches are the window's rows. null when the words are broad
   * or the filters keep only a small share of their photos.
   */
  private rankByWords(words: string, matches: number[], offset: number, limit: number): { id: number; rank: number }[] | null {
    const match = `${TEXT_COLUMNS} : (${words})`;
    const some = this.db.prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? LIMIT ${SEARCH_WINDOW + 1}`).pluck().all(match);
    // Scoring costs ~1.5 µs a row: when the filters keep few of the words' photos ("tie" in one year, 82
    // of ~4,000), reading the facets' posting lists is the cheaper way.
    if (some.length > SEARCH_WINDOW || some.length > RANK_BY_WORDS_SPREAD * matches.length) return null;
    const wanted = new Set(matches);
    const ranked = (this.db.prepare(`SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts WHERE photo_fts MATCH ?`).all(match) as {
      id: number;
      rank: number;
    }[]).filter((r) => wanted.has(r.id));
    ranked.sort((a, b) => a.rank - b.rank || b.id - a.id);
    return ranked.slice(offset, offset + limit);
  }

  search(query: string, filters: PhotoFilters, offset: number, limit: number): SearchResult {
    // Long prefixes become their few whole words (search-terms.ts): FTS5 walks those lazily.
    const parsed = parseSearchQuery(query, this.expand);
    if (parsed.match === null) {
      return { query, total: 0, items: [], notice: parsed.notice };
    }
    const facets = facetMatch(filters);
    const positive = `${TEXT_COLUMNS} : (${parsed.match})${facets.expr ? ` AND facets : (${facets.expr})` : ''}`;
    const match = facets.exclude ? `(${positive}) NOT facets : ${facets.exclude}` : positive;
    // When the facet tokens say all the filters exactly, FTS5 alone decides what matches; otherwise the
    // filters are checked on photos too (a one-sided date range, "needs attention").
    const w = facets.exact ? { sql: [] as string[], params: {} } : filterClauses(filters);
    const join = w.sql.length > 0 ? 'JOIN photos p ON p.id = photo_fts.rowid' : '';
    const where = ['photo_fts MATCH @match', ...w.sql].join(' AND ');
    const params = { ...w.params, match };
    try {
      // The newest SEARCH_WINDOW + 1 matches, walked down FTS5's own rowid order and cut by LIMIT (a rowid
      // range constraint is not cut short: "a" with rowid >= x took 36 ms, the LIMIT walk 2 ms).
      const newest = this.db
        .prepare(`SELECT photo_fts.rowid FROM photo_fts ${join} WHERE ${where} ORDER BY photo_fts.rowid DESC LIMIT ${SEARCH_WINDOW + 1}`)
        .pluck()
        .all(params) as number[];
      const more = newest.length > SEARCH_WINDOW;
      const total = Math.min(newest.length, SEARCH_WINDOW);
      if (total === 0 || offset >= total) return { query, total, items: [], notice: parsed.notice };
      // Up to the window, bm25 ranks. Past it, newest first: bm25 first reads every posting list of every
      // term in full (its IDF), 85 ms for "a" and 50 ms for "white table" at a million photos, whatever LIMIT says.
      const page: { id: number; rank: number }[] = more
        ? newest.slice(offset, offset + limit).map((id) => ({ id, rank: 0 }))
        : ((facets.expr !== null && this.rankFilteredByWords ? this.rankByWords(parsed.match, newest, offset, limit) : null) ??
          (this.db
            .prepare(
              `SELECT photo_fts.rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts ${join}
               WHERE ${where} ORDER BY rank, photo_fts.rowid DESC LIMIT @limit OFFSET @offset`,
            )
            .all({ ...params, limit, offset }) as { id: number; rank: number }[]));
      if (page.length === 0) return { query, total, items: [], notice: parsed.notice };
      // The page's rows by id; the caption's highlight is made in JS (highlight.ts), as FTS5's highlight()
      // would need one more MATCH walk that re-reads every posting list of the query.
      const ids = page.map((h) => h.id);
      const rows = this.db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id
           WHERE p.id IN (SELECT value FROM json_each(@ids))`,
        )
        .all({ ids: JSON.stringify(ids) }) as SummaryRow[];
      const byId = new Map(rows.map((r) => [r.id, r]));
      const items = page.flatMap((h) => {
        const r = byId.get(h.id);
        return r ? [{ ...toSummary(r), rank: h.rank, highlight: r.caption_text ? highlightText(r.caption_text, parsed.phrases) : null }] : [];
      });
      const capNotice = more
        ? `More than ${SEARCH_WINDOW.toLocaleString('en')} photos match; the newest ${SEARCH_WINDOW.toLocaleString('en')} are shown, newest first. Add a word or a filter to narrow it down.`
        : null;
      return { query, total, items, notice: [parsed.notice, capNotice].filter(Boolean).join(' ') || null };
    } catch (err) {
      // The parser only emits valid syntax; this guards against SQLite limits (e.g. very long queries).
      return { query, total: 0, items: [], notice: `This search could not be run: ${(err as Error).message}` };
    }
  }
}
