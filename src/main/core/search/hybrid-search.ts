import { RERANK_MIN_WORDS, type MatchReason, type PhotoFilters, type SearchHit, type SearchResult } from '../../../shared/api';
import { SUMMARY_COLUMNS, toSummary, type PhotoStore, type SummaryRow } from '../library/photo-store';
import type { EmbeddingService } from '../retrieval/embedding-service';
import type { VectorHit } from '../retrieval/vector-matrix';
import type { Db } from '../store/database';
import { parseSearchQuery } from './fts-query';
import { highlightText } from './highlight';
import { filterClauses, type SearchService } from './search-service';

/** The columns a person's words match (search-service.ts's own choice): never the hidden facet tokens. */
const TEXT_COLUMNS = '{caption tags chat file_name folder}';

/** Reciprocal-rank fusion's constant (Cormack et al. 2009): ranks past ~60 weigh little, and no list dominates. */
export const RRF_K = 60;

/** How many word hits and meaning hits are fused; past the fused window, results continue with the words' ranking. */
export const FUSE_DEPTH = 200;

/** Meaning hits considered for a text query: enough to fill a first screen and feed the ITM re-rank. */
export const MEANING_DEPTH = 48;

/**
 * A meaning-only hit must score within this much cosine of the best one. Without a cut every photo "matches" every
 * query; BLIP's ITC cosines for a right caption sit roughly 0.1–0.2 above those of unrelated ones.
 */
export const MEANING_MARGIN = 0.12;

/** ITM re-ranks this many of the top hits (issue 11's default). */
export const RERANK_TOP = 24;


/**
 * How long a search waits for its text embedding before answering from words alone. The text encoder shares the
 * inference process's queue with captioning, so while a caption batch runs a query can wait seconds; the embedding
 * still arrives, is cached, and the next search with these words uses it.
 */
export const MEANING_WAIT_MS = 1500;

/** "Find similar" shows at most this many photos. */
export const SIMILAR_DEPTH = 200;

export interface HybridSearchDeps {
  db: Db;
  words: SearchService;
  embeddings: EmbeddingService;
  photos: PhotoStore;
}

export interface HybridSearchOptions {
  /** Words only, even where search by meaning is on (the CLI's --words-only). */
  wordsOnly?: boolean;
  /** Re-rank the top hits with ITM when the query has at least RERANK_MIN_WORDS words (one vision pass per hit). */
  rerank?: boolean;
  rerankTop?: number;
  meaningMargin?: number;
  /** Word hits fused (FUSE_DEPTH by default; tests use a small one to reach past it). */
  fuseDepth?: number;
  /** Wait this long for the query's text embedding (MEANING_WAIT_MS by default; the CLI waits as long as it takes). */
  meaningWaitMs?: number;
}

interface Fused {
  id: number;
  score: number;
  wordsRank: number | null;
  meaningRank: number | null;
  similarity: number | null;
  word: SearchHit | null;
  probability: number | null;
  /** A meaning hit whose words match too, ranked by words past the fused window. */
  deepWords: boolean;
}

/** The natural-language part of a query, for the text encoder: search syntax (quotes, -exclusions, OR) removed. */
export function meaningText(query: string): string {
  return query
    .split(/\s+/)
    .filter((t) => t !== '' && t !== 'OR' && !t.startsWith('-'))
    .join(' ')
    .replace(/["“”]/g, '')
    .trim();
}

/**
 * Search by meaning and words together (issue 11): FTS5's ranking (search-service.ts, unchanged) and the ITC
 * similarity of the query to each photo's image embedding are fused by reciprocal rank, so a photo both lists
 * agree on comes first and one that only one of them found still appears. The same filters apply to both lists.
 * Each hit says why it matched; long queries get their top hits re-ranked by ITM.
 */
export class HybridSearch {
  constructor(private readonly deps: HybridSearchDeps) {}

  /** Whether a search would use meaning now (the setting is on, the pack installed, photos embedded). */
  meaningAvailable(): boolean {
    return this.deps.embeddings.active();
  }

  async search(query: string, filters: PhotoFilters, offset: number, limit: number, opts: HybridSearchOptions = {}): Promise<SearchResult> {
    const text = meaningText(query);
    if (opts.wordsOnly || text === '' || !this.meaningAvailable()) return this.deps.words.search(query, filters, offset, limit);

    const model = this.deps.embeddings.modelName();
    const vector = await this.queryVector(text, model, opts.meaningWaitMs ?? MEANING_WAIT_MS);
    if (typeof vector === 'string') {
      const words = this.deps.words.search(query, filters, offset, limit);
      return { ...words, notice: [words.notice, vector].filter(Boolean).join(' ') };
    }
    const words = this.deps.words.search(query, filters, 0, opts.fuseDepth ?? FUSE_DEPTH);
    const meaning = this.withoutExcluded(query, await this.meaningHits(model, vector, filters, MEANING_DEPTH, opts.meaningMargin ?? MEANING_MARGIN));
    const fused = fuse(words.items, meaning);
    const deeper = words.total > words.items.length;
    // Past the fused window there are more word hits: a meaning hit may be one of them. It is then a words match too
    // (said so, highlighted) and is not listed again where the words' own order continues.
    if (deeper) {
      const deep = this.wordMatches(query, fused.filter((f) => f.wordsRank === null).map((f) => f.id));
      for (const f of fused) if (deep.has(f.id)) f.deepWords = true;
    }
    if (opts.rerank && offset < (opts.rerankTop ?? RERANK_TOP) && text.split(' ').length >= RERANK_MIN_WORDS) {
      await this.rerank(fused, text, opts.rerankTop ?? RERANK_TOP, model);
    }
    const deepCount = fused.filter((f) => f.deepWords).length;
    const meaningOnly = fused.filter((f) => f.wordsRank === null && !f.deepWords).length;
    const total = words.total + meaningOnly;
    const items: SearchHit[] = this.hits(fused.slice(offset, offset + limit), query);
    if (items.length < limit && deeper) {
      // Past the fused window the order is the words' own, minus the word hits the window already showed.
      const start = Math.max(0, offset - fused.length);
      const need = limit - items.length;
      const inFused = new Set(fused.map((f) => f.id));
      const rest = this.deps.words.search(query, filters, words.items.length, start + need + deepCount);
      const tail = rest.items.filter((h) => !inFused.has(h.id)).slice(start, start + need);
      items.push(...tail.map((h) => ({ ...h, matchedBy: 'words' as const, similarity: null })));
    }
    return { query, total, items, notice: words.notice };
  }

  /** The query's text embedding, or why the search goes on with words alone (the model is busy or failed). */
  private async queryVector(text: string, model: string, waitMs: number): Promise<Float32Array | string> {
    let timer: NodeJS.Timeout | undefined;
    const pending = this.deps.embeddings.embedQuery(text, model);
    const late = new Promise<string>((resolve) => {
      if (Number.isFinite(waitMs)) timer = setTimeout(() => resolve('The model is busy, so this search matched words only; search again in a moment to match by meaning too.'), waitMs);
    });
    try {
      return await Promise.race([pending, late]);
    } catch (err) {
      return `Search by meaning failed (${err instanceof Error ? err.message : String(err)}), so this search matched words only.`;
    } finally {
      clearTimeout(timer);
      // A late embedding is still cached for the next search; a late failure needs no one's attention.
      pending.catch(() => undefined);
    }
  }

  /** Photos that look like this one (image–image ITC), most similar first, filtered like a search; the photo itself is left out. */
  async similar(photoId: number, filters: PhotoFilters, offset: number, limit: number): Promise<SearchResult> {
    const row = this.deps.photos.row(photoId);
    const label = `Photos like ${row.file_name}`;
    const model = this.deps.embeddings.modelName();
    const vector = this.deps.embeddings.index.vectorOf(model, photoId);
    if (!vector) {
      const why = this.deps.embeddings.installed(model)
        ? `${row.file_name} has not been read for search by meaning yet; it will be once its turn in the queue comes.`
        : `Finding similar photos needs the ${model} model pack (tandem models install ${model}).`;
      return { query: label, total: 0, items: [], notice: why };
    }
    const hits = (await this.filtered(model, vector, filters, SIMILAR_DEPTH + 1, (id) => id !== photoId)).filter((h) => h.photoId !== photoId);
    const page = hits.slice(offset, offset + limit);
    const rows = this.summaries(page.map((h) => h.photoId));
    const items = page.flatMap((h): SearchHit[] => {
      const r = rows.get(h.photoId);
      // No matchedBy: every one of them is here by likeness, which the view already says once for all.
      return r ? [{ ...toSummary(r), rank: -h.score, highlight: null, similarity: h.score, matchProbability: null }] : [];
    });
    return { query: label, total: hits.length, items, notice: null };
  }

  /** Which of these photos the query's words match (text columns only: the photos already passed the filters). */
  private wordMatches(query: string, ids: readonly number[]): Set<number> {
    const parsed = parseSearchQuery(query);
    if (parsed.match === null || ids.length === 0) return new Set();
    return new Set(
      this.deps.db
        .prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))`)
        .pluck()
        .all(`${TEXT_COLUMNS} : (${parsed.match})`, JSON.stringify(ids)) as number[],
    );
  }

  /**
   * Meaning hits minus the photos whose words hold a word the query excludes ("beach -dog"): the text encoder cannot
   * read an exclusion, so it is applied to the meaning side with the same FTS5 columns the word search uses.
   */
  private withoutExcluded(query: string, hits: VectorHit[]): VectorHit[] {
    const excluded = query
      .split(/\s+/)
      .filter((t) => t.length > 1 && t.startsWith('-'))
      .map((t) => t.slice(1));
    if (excluded.length === 0 || hits.length === 0) return hits;
    const parsed = parseSearchQuery(excluded.join(' OR '));
    if (parsed.match === null) return hits;
    const found = new Set(
      this.deps.db
        .prepare(`SELECT rowid FROM photo_fts WHERE photo_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))`)
        .pluck()
        .all(`${TEXT_COLUMNS} : (${parsed.match})`, JSON.stringify(hits.map((h) => h.photoId))) as number[],
    );
    return hits.filter((h) => !found.has(h.photoId));
  }

  /** The best meaning hits under the filters, cut at `margin` below the best one. */
  private async meaningHits(model: string, vector: Float32Array, filters: PhotoFilters, depth: number, margin: number): Promise<VectorHit[]> {
    const hits = await this.filtered(model, vector, filters, depth);
    const best = hits[0]?.score ?? 0;
    return hits.filter((h) => h.score >= best - margin);
  }

  /**
   * The top `depth` vectors the filters admit. The whole matrix is scanned once; the few best rows are checked
   * against the filters in SQL. Only when a selective filter leaves too few is the admitted set read in full.
   */
  private async filtered(
    model: string,
    vector: Float32Array,
    filters: PhotoFilters,
    depth: number,
    keep: (id: number) => boolean = () => true,
  ): Promise<VectorHit[]> {
    const matrix = await this.deps.embeddings.index.ready(model);
    if (!matrix) return [];
    const candidates = matrix.search(vector, depth * 2, keep);
    const admitted = this.admitted(candidates.map((h) => h.photoId), filters);
    const hits = candidates.filter((h) => admitted.has(h.photoId));
    // Enough admitted, nothing filtered out, or the scan already saw every row: the answer is complete.
    if (hits.length >= depth || admitted.size === candidates.length || candidates.length < depth * 2) return hits.slice(0, depth);
    const all = this.admittedAll(filters);
    return matrix.search(vector, depth, (id) => all.has(id) && keep(id));
  }

  private admitted(ids: readonly number[], filters: PhotoFilters): Set<number> {
    if (ids.length === 0) return new Set();
    const w = filterClauses(filters);
    const rows = this.deps.db
      .prepare(`SELECT p.id FROM photos p WHERE p.id IN (SELECT value FROM json_each(@ids)) AND ${w.sql.join(' AND ')}`)
      .pluck()
      .all({ ...w.params, ids: JSON.stringify(ids) }) as number[];
    return new Set(rows);
  }

  private admittedAll(filters: PhotoFilters): Set<number> {
    const w = filterClauses(filters);
    return new Set(this.deps.db.prepare(`SELECT p.id FROM photos p WHERE ${w.sql.join(' AND ')}`).pluck().all(w.params) as number[]);
  }

  /** ITM's match probability re-orders the top hits; the rest keep their fused order. */
  private async rerank(fused: Fused[], text: string, top: number, model: string): Promise<void> {
    const head = fused.slice(0, top);
    const paths = head.map((f) => this.deps.photos.absolutePath(this.deps.photos.row(f.id)));
    const probabilities = await this.deps.embeddings.matchProbabilities(paths, text, model);
    head.forEach((f, i) => (f.probability = probabilities[i] ?? 0));
    head.sort((a, b) => (b.probability ?? 0) - (a.probability ?? 0) || b.score - a.score);
    fused.splice(0, head.length, ...head);
  }

  private hits(page: readonly Fused[], query: string): SearchHit[] {
    const rows = this.summaries(page.filter((f) => !f.word).map((f) => f.id));
    const phrases = page.some((f) => f.deepWords) ? parseSearchQuery(query).phrases : [];
    return page.flatMap((f): SearchHit[] => {
      const byWords = f.wordsRank !== null || f.deepWords;
      const matchedBy: MatchReason = byWords && f.meaningRank !== null ? 'both' : byWords ? 'words' : 'meaning';
      const extra = { rank: -f.score, matchedBy, similarity: f.similarity, matchProbability: f.probability };
      if (f.word) return [{ ...f.word, ...extra }];
      const r = rows.get(f.id);
      const highlight = f.deepWords && r?.caption_text ? highlightText(r.caption_text, phrases) : null;
      return r ? [{ ...toSummary(r), highlight, ...extra }] : [];
    });
  }

  private summaries(ids: readonly number[]): Map<number, SummaryRow> {
    if (ids.length === 0) return new Map();
    const rows = this.deps.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM photos p JOIN roots r ON r.id = p.root_id WHERE p.id IN (SELECT value FROM json_each(@ids))`)
      .all({ ids: JSON.stringify(ids) }) as SummaryRow[];
    return new Map(rows.map((r) => [r.id, r]));
  }
}

/** Reciprocal-rank fusion of the two lists: score = Σ 1 / (RRF_K + rank), ranks from 1. */
export function fuse(words: readonly SearchHit[], meaning: readonly VectorHit[]): Fused[] {
  const byId = new Map<number, Fused>();
  const entry = (id: number): Fused => {
    let f = byId.get(id);
    if (!f) {
      f = { id, score: 0, wordsRank: null, meaningRank: null, similarity: null, word: null, probability: null, deepWords: false };
      byId.set(id, f);
    }
    return f;
  };
  words.forEach((h, i) => {
    const f = entry(h.id);
    f.wordsRank = i + 1;
    f.word = h;
    f.score += 1 / (RRF_K + i + 1);
  });
  meaning.forEach((h, i) => {
    const f = entry(h.photoId);
    f.meaningRank = i + 1;
    f.similarity = h.score;
    f.score += 1 / (RRF_K + i + 1);
  });
  return [...byId.values()].sort(
    (a, b) => b.score - a.score || (a.wordsRank ?? Infinity) - (b.wordsRank ?? Infinity) || (b.similarity ?? -1) - (a.similarity ?? -1) || b.id - a.id,
  );
}
