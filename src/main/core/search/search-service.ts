import type { PhotoFilters, PhotoPage, PhotoSort, SearchResult } from '../../../shared/api';
import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from '../library/photo-store';
import type { Db } from '../store/database';
import { ensureSearchIndex } from './search-index';
import { parseSearchQuery } from './fts-query';
import { highlightText } from './highlight';
import { readIndexTotals, scorePhrase, singlePhrase, type IndexTotals } from './phrase-score';
import { facetMatch, normalizeFolder } from './search-facets';
import { expandPrefix } from './search-terms';

/** bm25 column weights: caption, tags, chat, file name, folder; the facets column never ranks. */
export const BM25_WEIGHTS = '10.0, 8.0, 2.0, 3.0, 2.0, 0.0';
const BM25_WEIGHT_LIST = BM25_WEIGHTS.split(',').map(Number);
/** The text columns are the first five of photo_fts. */
const TEXT_COLUMN_COUNT = 5;

/**
 * scorePhrases reads the photos excluded by default (NOT facets : smissing) into a set, to walk a phrase alone
 * and drop them in JS; past this many missing photos it leaves the phrase to the plain walk and bm25.
 */
const MAX_EXCLUDED = 100_000;

/**
 * What scoring a phrase's match in JS costs more than bm25 per row, in ms: reading its text and tokenizing it
 * (~4.5 µs at 1M, idle) against bm25's read of its row size (~1.5 µs). bm25 costs two more walks of the phrase.
 */
const PHRASE_ROW_MS = 0.003;

/**
 * And at most this many matches: bm25 reads each match's row size from photo_fts_docsize (small, and warm from
 * every search), JS reads its text from photo_fts_content (177 MiB at 1M, read by nothing else), so a cold
 * start costs JS more per row than the bench shows. Up to here the two walks bm25 saves outweigh that.
 */
const PHRASE_SCORE_MAX = 2500;

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

/**
 * rankWithin ranks a filtered search from its words alone when the words match at most this many photos.
 * Its cost is two walks of the words' posting lists (the probe and the rank statement) plus bm25's own
 * pass over them; past ~20k rows that costs more than ranking the whole match with its facet tokens
 * (measured at 1M: "talking" in a date range 9.6 → 2.5 ms; "table", 50k+ rows, 25 → 41 ms). Between 5k and
 * 20k the two cost about the same on average, but the probe's walk of up to 20k rows set the tail: at 1M,
 * idle, mixed searches p95 20.2 ms with 20k against 19.6 with 5k (word + date range 20.3 → 15.6).
 */
const RANK_WITHIN_WORDS = 5_000;

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

/** Each sort as its key expression and direction (id breaks ties the same way), for seeking from a known row. */
const SORT_KEY: Record<PhotoSort, { expr: string; desc: boolean }> = {
  taken: { expr: SORT_TAKEN_EXPR, desc: true },
  name: { expr: 'p.file_name COLLATE NOCASE', desc: false },
  added: { expr: 'p.id', desc: true },
};

/** The same order walked backwards, for a page just before a known row. */
const REVERSED_ORDER: Record<PhotoSort, string> = {
  taken: `${SORT_TAKEN_EXPR} ASC, p.id ASC`,
  name: 'p.file_name COLLATE NOCASE DESC, p.id DESC',
  added: 'p.id ASC',
};

/** A row whose position in a list is known: its sort key and id. */
export interface ListMark {
  key: string | number | null;
  id: number;
}

export interface ListHints {
  /** Photos in the filtered folder (from photo_counts); decides which index serves a folder filter. */
  folderSize?: number;
  /** The date sort keys a big folder spans (from photo_counts): where its page starts in the sort index. */
  folderSpan?: { lo: string; hi: string };
  /**
   * Start the page from a row whose position is known instead of counting rows from the top: 'after' pages
   * forward from just after it, 'before' walks backwards from just before it (the rows come out reversed).
   */
  seek?: { mark: ListMark; direction: 'after' | 'before' };
  /** The page is far down the list and no mark is near: count the rows above it in the sort index alone. */
  deep?: boolean;
}

/** No filter but the default one (every photo not missing): the whole library, as the gallery opens. */
function isWholeLibrary(f: PhotoFilters): boolean {
  return f.rootId === undefined && !f.folder && !f.takenFrom && !f.takenTo && !f.problems && f.captioned === undefined && !(f.status && f.status.length > 0);
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
  let order = ORDER[sort];
  if (hints.seek) {
    // Spelled as a range on the sort key (the index seeks to it) plus the tie-break on id.
    const { expr, desc } = SORT_KEY[sort];
    const forward = hints.seek.direction === 'after';
    const [gt, ge] = forward === desc ? ['<', '<='] : ['>', '>='];
    w.sql.push(sort === 'added' ? `p.id ${gt} @markId` : `${expr} ${ge} @markKey AND (${expr} ${gt} @markKey OR p.id ${gt} @markId)`);
    if (sort !== 'added') w.params['markKey'] = hints.seek.mark.key;
    w.params['markId'] = hints.seek.mark.id;
    if (!forward) order = REVERSED_ORDER[sort];
  }
  const where = w.sql.length ? `WHERE ${w.sql.join(' AND ')}` : '';
  const select = `SELECT ${SUMMARY_COLUMNS}, ${SORT_KEY[sort].expr} AS sort_key FROM photos p JOIN roots r ON r.id = p.root_id`;
  if (hints.deep && !hints.seek && isWholeLibrary(filters)) {
    // OFFSET steps over every row above the page; with the status test on the photo row that is one table
    // lookup per row (0.53 s at 500,000 of a million). Spelled as "not one of the few missing photos", the
    // sort index alone answers it (0.26 s), and only the page's rows are read.
    return {
      countSql: `SELECT count(*) AS n FROM photos p ${countWhere}`,
      pageSql: `${select} WHERE p.id IN (SELECT p.id FROM photos p WHERE p.id NOT IN (SELECT id FROM photos WHERE status = 'missing')
           ORDER BY ${order} LIMIT @limit OFFSET @offset) ORDER BY ${order}`,
      params: w.params,
    };
  }
  return {
    countSql: `SELECT count(*) AS n FROM photos p ${countWhere}`,
    pageSql: `${select} ${where}
         ORDER BY ${order} LIMIT @limit OFFSET @offset`,
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

/** Searches whose result set is kept for their next pages (each at most SEARCH_WINDOW ids and ranks). */
const KEPT_SEARCHES = 8;

/** What a search found, kept so that scrolling through its results does not find it again page by page. */
interface KeptSearch {
  total: number;
  /** More than SEARCH_WINDOW photos match: pages are the newest first. */
  more: boolean;
  /** The matches (ascending ids) when there are at most SEARCH_WINDOW. */
  ids: number[] | null;
  /** Every match in rank order, once a page past the first was asked for (the first page ranks only itself). */
  ranked: { id: number; rank: number }[] | null;
  /** A one-phrase search walked by phraseWalk: the rows of the whole index that hold the phrase (bm25's nHit). */
  phraseHits: number | null;
}

/** Pages from here on look for a mark to seek from; nearer the top, OFFSET is as cheap. */
const MARK_MIN_OFFSET = 2000;
/** Marks kept for the list being browsed (two per page served). */
const MAX_MARKS = 2000;

/**
 * The mark to start a page [offset, offset + limit) from, and how many rows to skip from it: the nearest one
 * before the page (read forward) or after it (read backwards), if it is nearer than the top of the list.
 */
export function nearestMark(
  marks: ReadonlyMap<number, ListMark>,
  offset: number,
  limit: number,
): { mark: ListMark; direction: 'after' | 'before'; skip: number } | null {
  let best: { mark: ListMark; direction: 'after' | 'before'; skip: number } | null = null;
  for (const [at, mark] of marks) {
    const candidate =
      at < offset
        ? { mark, direction: 'after' as const, skip: offset - at - 1 }
        : at >= offset + limit
          ? { mark, direction: 'before' as const, skip: at - offset - limit }
          : null;
    if (candidate && (best === null || candidate.skip < best.skip)) best = candidate;
  }
  return best !== null && best.skip < offset ? best : null;
}

/** Both on by default; the bench turns them off to time the same service without them. */
export interface SearchOptions {
  /** Search long prefixes as their whole words (search-terms.ts). */
  expandPrefixes?: boolean;
  /** Rank a filtered search from its words alone, scoring only its matches, when the words are few enough (rankWithin). */
  rankByWords?: boolean;
  /** How many photos the words may match for rankWithin (default RANK_WITHIN_WORDS); tests lower it to reach the fallback. */
  rankWithinWords?: number;
  /** Keep recent searches' results for their next pages (on by default; the bench times fresh searches). */
  keepSearches?: boolean;
  /**
   * Rank a narrow unfiltered one-phrase search in JS from its matches' text (phrase-score.ts) instead of bm25's
   * walks, when that is the cheaper of the two (by the count walk's time); 'always' whenever it can (tests).
   */
  scorePhrases?: boolean | 'always';
}

export class SearchService {
  private readonly expand: ((prefix: string) => string[] | null) | undefined;
  private readonly rankFilteredByWords: boolean;
  private readonly rankWithinWords: number;
  private marks: { key: string; marks: Map<number, ListMark> } | null = null;
  private readonly kept = new Map<string, KeptSearch>();
  private readonly keepSearches: boolean;
  private readonly scorePhrases: boolean | 'always';
  /** What phraseWalk and scorePhrase read of the index as a whole, for one data version (see dataVersion). */
  private phraseIndex: { key: string; totals: IndexTotals | null; excluded: Set<number> | null } | null = null;

  constructor(
    private readonly db: Db,
    options: SearchOptions = {},
  ) {
    ensureSearchIndex(db);
    this.expand = options.expandPrefixes === false ? undefined : (prefix) => expandPrefix(db, prefix);
    this.rankFilteredByWords = options.rankByWords !== false;
    this.rankWithinWords = options.rankWithinWords ?? RANK_WITHIN_WORDS;
    this.keepSearches = options.keepSearches !== false;
    this.scorePhrases = options.scorePhrases ?? true;
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
    const marks = this.listMarks(filters, sort);
    const near = offset >= MARK_MIN_OFFSET ? nearestMark(marks, offset, limit) : null;
    if (near) hints.seek = { mark: near.mark, direction: near.direction };
    else if (offset >= MARK_MIN_OFFSET) hints.deep = true;
    const q = listQuery(filters, sort, hints);
    const total = this.countPhotos(filters) ?? (this.db.prepare(q.countSql).get(q.params) as { n: number }).n;
    let rows = this.db.prepare(q.pageSql).all({ ...q.params, limit, offset: near ? near.skip : offset }) as (SummaryRow & { sort_key: string | number | null })[];
    if (near?.direction === 'before') rows = rows.reverse();
    if (rows.length > 0) {
      const first = rows[0]!;
      const last = rows[rows.length - 1]!;
      // A photo without a date sorts by its file time, so a key is never null; should one be, it is not a mark.
      if (first.sort_key !== null) marks.set(offset, { key: first.sort_key, id: first.id });
      if (last.sort_key !== null) marks.set(offset + rows.length - 1, { key: last.sort_key, id: last.id });
      if (marks.size > MAX_MARKS) marks.delete(marks.keys().next().value!);
    }
    return { total, items: rows.map(toSummary) };
  }

  /**
   * Rows at known positions of the list being browsed (first and last of each page served), so the next page
   * nearby seeks from one of them instead of stepping over every row before it: OFFSET walks the sort index
   * and looks each row up, 0.5 s for a page at 500,000 of a million photos; from a mark it is a page's work.
   * Marks last while the result set and the data are the same: any write (this connection's total_changes(),
   * another's data_version) starts afresh.
   */
  private listMarks(filters: PhotoFilters, sort: PhotoSort): Map<number, ListMark> {
    const key = `${this.dataVersion()} ${sort} ${JSON.stringify(filters)}`;
    if (this.marks?.key !== key) this.marks = { key, marks: new Map() };
    return this.marks.marks;
  }

  /** Changes with any write to the database: this connection's (total_changes()) or another's (data_version). */
  private dataVersion(): string {
    return `${this.db.prepare('PRAGMA data_version').pluck().get() as number}:${this.db.prepare('SELECT total_changes()').pluck().get() as number}`;
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
   * A filtered search's page ranked from its words alone, scoring only the photos that matched: bm25 reads
   * every posting list of the query in full, the filters' facet tokens too ("c1" is most of a library, a
   * date range is dozens of day, month and year tokens), and scores each row against every one of them.
   * The facets weigh 0, so each photo's score is the same either way (tested). `+rowid` keeps the id test
   * out of FTS5's xBestIndex: as a rowid constraint it would become one FTS5 query per id, each paying
   * bm25's full pass again. null when the words match more than rankWithinWords photos.
   */
  private rankWithin(words: string, matches: number[], offset: number, limit: number): { id: number; rank: number }[] | null {
    const match = `${TEXT_COLUMNS} : (${words})`;
    const some = this.db.prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? LIMIT ${this.rankWithinWords + 1}`).pluck().all(match);
    if (some.length > this.rankWithinWords) return null;
    return this.db
      .prepare(
        `SELECT rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts
         WHERE photo_fts MATCH @match AND +rowid IN (SELECT value FROM json_each(@ids))
         ORDER BY rank, rowid DESC LIMIT @limit OFFSET @offset`,
      )
      .all({ match, ids: JSON.stringify(matches), limit, offset }) as { id: number; rank: number }[];
  }

  /** The index totals and the rows `NOT facets : <exclude>` drops, read once per data version; null when unusable. */
  private phraseIndexFor(exclude: string | null): { totals: IndexTotals; excluded: Set<number> } | null {
    const key = `${this.dataVersion()} ${exclude ?? ''}`;
    if (this.phraseIndex?.key !== key) {
      let excluded: Set<number> | null = new Set();
      if (exclude !== null) {
        const rows = this.db
          .prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? LIMIT ${MAX_EXCLUDED + 1}`)
          .pluck()
          .all(`facets : ${exclude}`) as number[];
        excluded = rows.length > MAX_EXCLUDED ? null : new Set(rows);
      }
      this.phraseIndex = { key, totals: readIndexTotals(this.db, 'photo_fts', BM25_WEIGHT_LIST.length), excluded };
    }
    const { totals, excluded } = this.phraseIndex;
    return totals && excluded ? { totals, excluded } : null;
  }

  /**
   * The count walk of an unfiltered one-phrase search, `(phrase) NOT facets : smissing … LIMIT SEARCH_WINDOW + 1`,
   * done as a walk of the phrase alone with the excluded photos dropped in JS: the same rows in the same order,
   * and, when the walk reaches the phrase's last row, the number of rows holding the phrase (bm25's IDF counts
   * missing photos too). It reads a few rows past the window for the excluded ones among them (twice their
   * share of the library); should that fall short, it goes on from its last row (a new walk: ~3 ms at 1M).
   */
  private phraseWalk(phrase: string, excluded: Set<number>, rows: number): { ids: number[]; hits: number | null; ms: number } {
    const t0 = performance.now();
    const match = `${TEXT_COLUMNS} : (${phrase})`;
    const slack = excluded.size === 0 ? 0 : Math.min(excluded.size, Math.ceil((2 * (SEARCH_WINDOW + 1) * excluded.size) / rows) + 16);
    const ids: number[] = [];
    let seen = 0;
    let after: number | null = null;
    for (;;) {
      const limit = SEARCH_WINDOW + 1 - ids.length + slack;
      const some = (
        after === null
          ? this.db.prepare('SELECT photo_fts.rowid FROM photo_fts WHERE photo_fts MATCH @match LIMIT @limit').pluck().all({ match, limit })
          : this.db.prepare('SELECT photo_fts.rowid FROM photo_fts WHERE photo_fts MATCH @match AND photo_fts.rowid > @after LIMIT @limit').pluck().all({ match, after, limit })
      ) as number[];
      seen += some.length;
      for (const id of some) if (!excluded.has(id)) ids.push(id);
      if (ids.length > SEARCH_WINDOW) return { ids, hits: null, ms: performance.now() - t0 };
      if (some.length < limit) return { ids, hits: seen, ms: performance.now() - t0 };
      after = some[some.length - 1]!;
    }
  }

  /** What scorePhrases needs for this search, or null when it is not an unfiltered one-phrase search (or cannot be). */
  private phraseSearch(
    match: string,
    facets: { expr: string | null; exclude: string | null },
    joins: number,
  ): { words: string[]; totals: IndexTotals; excluded: Set<number> } | null {
    if (this.scorePhrases === false) return null;
    // Inside a transaction FTS5 may hold rows and totals not yet written to its tables.
    if (facets.expr !== null || joins > 0 || this.db.inTransaction) return null;
    const words = singlePhrase(match);
    const index = words ? this.phraseIndexFor(facets.exclude) : null;
    return words && index ? { words, ...index } : null;
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
      // The next page of a search just made reads what that search found (scrolling through results asks
      // for page after page of the same search); any write to the database forgets it.
      const keptKey = `${this.dataVersion()} ${this.rankFilteredByWords ? 'w' : '-'} ${where} ${JSON.stringify(params)}`;
      let found = this.kept.get(keptKey);
      let phrase: { words: string[]; totals: IndexTotals; excluded: Set<number> } | null = null;
      if (found) {
        this.kept.delete(keptKey); // most recently used last
      } else if ((phrase = this.phraseSearch(parsed.match, facets, w.sql.length))) {
        const walked = this.phraseWalk(parsed.match, phrase.excluded, phrase.totals.rows);
        const more = walked.ids.length > SEARCH_WINDOW;
        // Scored in JS when that reads less than bm25 would: bm25 walks the phrase twice more (each about as
        // long as this walk) and reads each match's row size; JS reads each match's text, ~3 µs a row more.
        const cheaper =
          this.scorePhrases === 'always' || (walked.ids.length <= PHRASE_SCORE_MAX && walked.ids.length * PHRASE_ROW_MS <= 2 * walked.ms);
        found = {
          total: Math.min(walked.ids.length, SEARCH_WINDOW),
          more,
          ids: more ? null : walked.ids,
          ranked: null,
          phraseHits: more || !cheaper ? null : walked.hits,
        };
      } else {
        // Up to SEARCH_WINDOW + 1 matches in FTS5's own (ascending) rowid order, cut by LIMIT: enough to tell a
        // narrow search (ranked) from a broad one (newest first). Ascending, because FTS5's newest-first walk
        // costs up to twice as much where it reads positions: "a woman standing" at 1M took 15 ms newest first
        // and 8 ms in rowid order. A broad search then walks newest first only as far as its page.
        const some = this.db
          .prepare(`SELECT photo_fts.rowid FROM photo_fts ${join} WHERE ${where} LIMIT ${SEARCH_WINDOW + 1}`)
          .pluck()
          .all(params) as number[];
        const more = some.length > SEARCH_WINDOW;
        found = { total: Math.min(some.length, SEARCH_WINDOW), more, ids: more ? null : some, ranked: null, phraseHits: null };
      }
      if (this.keepSearches) this.kept.set(keptKey, found);
      if (this.kept.size > KEPT_SEARCHES) this.kept.delete(this.kept.keys().next().value!);
      const { total, more, ids: matches } = found;
      const words = parsed.match;
      if (total === 0 || offset >= total) return { query, total, items: [], notice: parsed.notice };
      // Up to the window, bm25 ranks: the first page ranks only itself; a later page ranks every match once.
      const rank = (from: number, count: number): { id: number; rank: number }[] =>
        (facets.expr !== null && this.rankFilteredByWords && matches ? this.rankWithin(words, matches, from, count) : null) ??
        (this.db
          .prepare(
            `SELECT photo_fts.rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts ${join}
             WHERE ${where} ORDER BY rank, photo_fts.rowid DESC LIMIT @limit OFFSET @offset`,
          )
          .all({ ...params, limit: count, offset: from }) as { id: number; rank: number }[]);
      if (!more && found.ranked === null && found.phraseHits !== null && matches) {
        // A narrow one-phrase search: every match scored at once from its text, as bm25 scores it (phrase-score.ts).
        const p = phrase ?? this.phraseSearch(parsed.match, facets, w.sql.length);
        found.ranked = p ? scorePhrase(this.db, 'photo_fts', p.words, matches, found.phraseHits, p.totals, BM25_WEIGHT_LIST, TEXT_COLUMN_COUNT) : null;
        if (found.ranked === null) found.phraseHits = null; // not ASCII: bm25 ranks it
      }
      if (!more && offset > 0 && found.ranked === null) found.ranked = rank(0, total);
      // Past the window, newest first, only as far as this page: bm25 first reads every posting list of every
      // term in full (its IDF), 85 ms for "a" and 50 ms for "white table" at a million photos, whatever LIMIT says.
      const page: { id: number; rank: number }[] = more
        ? (this.db
            .prepare(`SELECT photo_fts.rowid FROM photo_fts ${join} WHERE ${where} ORDER BY photo_fts.rowid DESC LIMIT @limit OFFSET @offset`)
            .pluck()
            .all({ ...params, limit: Math.min(limit, total - offset), offset }) as number[]).map((id) => ({ id, rank: 0 }))
        : found.ranked
          ? found.ranked.slice(offset, offset + limit)
          : rank(offset, limit);
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
