import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from '../../src/main/core/library/photo-store';
import { parseSearchQuery } from '../../src/main/core/search/fts-query';
import { highlightText } from '../../src/main/core/search/highlight';
import { facetMatch } from '../../src/main/core/search/search-facets';
import { BM25_WEIGHTS, filterClauses, SEARCH_WINDOW } from '../../src/main/core/search/search-service';
import { expandPrefix } from '../../src/main/core/search/search-terms';
import type { Db } from '../../src/main/core/store/database';
import type { PhotoFilters, SearchResult } from '../../src/shared/api';

/**
 * SearchService.search() as the previous session left it (newest-first walk of the window, then a second
 * walk to rank; a filtered search ranked from its words only when they match ≤ 5,000 photos), frozen here so
 * the bench times it beside the current service on the same data in the same run. Nothing in src/ uses this.
 */
const TEXT_COLUMNS = '{caption tags chat file_name folder}';
const RANK_BY_WORDS_SPREAD = 4;

export class PreviousSearchService {
  constructor(private readonly db: Db) {}

  private rankByWords(words: string, matches: number[], offset: number, limit: number): { id: number; rank: number }[] | null {
    const match = `${TEXT_COLUMNS} : (${words})`;
    const some = this.db.prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? LIMIT ${SEARCH_WINDOW + 1}`).pluck().all(match);
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
    const parsed = parseSearchQuery(query, (prefix) => expandPrefix(this.db, prefix));
    if (parsed.match === null) return { query, total: 0, items: [], notice: parsed.notice };
    const facets = facetMatch(filters);
    const positive = `${TEXT_COLUMNS} : (${parsed.match})${facets.expr ? ` AND facets : (${facets.expr})` : ''}`;
    const match = facets.exclude ? `(${positive}) NOT facets : ${facets.exclude}` : positive;
    const w = facets.exact ? { sql: [] as string[], params: {} } : filterClauses(filters);
    const join = w.sql.length > 0 ? 'JOIN photos p ON p.id = photo_fts.rowid' : '';
    const where = ['photo_fts MATCH @match', ...w.sql].join(' AND ');
    const params = { ...w.params, match };
    const newest = this.db
      .prepare(`SELECT photo_fts.rowid FROM photo_fts ${join} WHERE ${where} ORDER BY photo_fts.rowid DESC LIMIT ${SEARCH_WINDOW + 1}`)
      .pluck()
      .all(params) as number[];
    const more = newest.length > SEARCH_WINDOW;
    const total = Math.min(newest.length, SEARCH_WINDOW);
    if (total === 0 || offset >= total) return { query, total, items: [], notice: parsed.notice };
    const page: { id: number; rank: number }[] = more
      ? newest.slice(offset, offset + limit).map((id) => ({ id, rank: 0 }))
      : ((facets.expr !== null ? this.rankByWords(parsed.match, newest, offset, limit) : null) ??
        (this.db
          .prepare(
            `SELECT photo_fts.rowid AS id, bm25(photo_fts, ${BM25_WEIGHTS}) AS rank FROM photo_fts ${join}
             WHERE ${where} ORDER BY rank, photo_fts.rowid DESC LIMIT @limit OFFSET @offset`,
          )
          .all({ ...params, limit, offset }) as { id: number; rank: number }[]));
    if (page.length === 0) return { query, total, items: [], notice: parsed.notice };
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.id IN (SELECT value FROM json_each(@ids))`)
      .all({ ids: JSON.stringify(page.map((h) => h.id)) }) as SummaryRow[];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const items = page.flatMap((h) => {
      const r = byId.get(h.id);
      return r ? [{ ...toSummary(r), rank: h.rank, highlight: r.caption_text ? highlightText(r.caption_text, parsed.phrases) : null }] : [];
    });
    return { query, total, items, notice: parsed.notice };
  }
}
