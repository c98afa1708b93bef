import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { PhotoFilters, PhotoSort, PhotoSummary, SearchHit } from '../../shared/api';
import { useTandem } from './use-tandem';

export type GalleryItem = PhotoSummary | SearchHit;

/**
 * What the grid shows: photos like one photo (`similarTo`, "Find similar photos"), a search (when `query` has words)
 * or the library, filtered and sorted.
 */
export type SourceRequest = {
  query: string;
  filters: PhotoFilters;
  sort: PhotoSort;
  similarTo?: number;
  /** The query was submitted (Enter), not just typed: its top hits may be re-ranked by BLIP's matching head. */
  rerank?: boolean;
};

/** Items per request: about two screenfuls. Cost grows with the page (the core builds and the IPC copies every row), so a small first page paints sooner. */
export const PAGE_SIZE = 200;
/** The very first request asks for one screenful only, so the grid paints sooner; the rest of the page follows. */
const FIRST_REQUEST = 60;
/** The contract allows 5,000 items per request. */
const MAX_PAGES_PER_REQUEST = 10;

/** One result set, loaded page by page as the grid scrolls: 100,000 photos never sit in memory at once. */
class ResultPages {
  readonly pages = new Map<number, GalleryItem[]>();
  readonly pending = new Set<number>();
  constructor(
    readonly key: string,
    readonly request: SourceRequest,
    public total: number,
    public notice: string | null,
  ) {}

  itemAt(index: number): GalleryItem | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** A page is complete when it holds every item it can (the first one may hold only the first screenful). */
  complete(page: number): boolean {
    const items = this.pages.get(page);
    return items !== undefined && items.length >= Math.min(PAGE_SIZE, this.total - page * PAGE_SIZE);
  }
}

export type PhotoSource = {
  /** Identifies the result set; changes when the query, filters or sort change. */
  key: string;
  /** The query the shown results answer ('' = browsing). */
  query: string;
  request: SourceRequest | null;
  total: number;
  notice: string | null;
  /** True while a new result set is on its way (the previous one stays on screen meanwhile). */
  loading: boolean;
  /** Bumps whenever pages of items arrive (what a layout depends on). */
  version: number;
  /** Bumps when loaded items change in place (a caption arrived): tiles redraw, the layout stays. */
  revision: number;
  itemAt(index: number): GalleryItem | undefined;
  /** The first index at or after `index` that is loaded (or `total`): lets a layout skip what is not loaded. */
  nextLoaded(index: number): number;
  /** Loads the pages covering `[start, end)` in the background. */
  ensureRange(start: number, end: number): void;
  /** Loads the pages covering `[start, end)` and resolves once they are in. */
  loadRange(start: number, end: number): Promise<void>;
  /** Position of a photo among the loaded items, or -1. */
  indexOfId(id: number): number;
  /** Updates a loaded item in place (e.g. a caption that just arrived) without reloading. */
  patch(id: number, change: Partial<PhotoSummary>): void;
  /** Reloads the pages in view, keeping the current ones on screen until the new ones arrive. */
  refresh(): void;
};

function pagesOf(start: number, end: number): number[] {
  const pages: number[] = [];
  for (let p = Math.floor(Math.max(0, start) / PAGE_SIZE); p * PAGE_SIZE < Math.max(start + 1, end); p++) pages.push(p);
  return pages;
}

export function usePhotoSource(request: SourceRequest, onError: (err: unknown) => void): PhotoSource {
  const api = useTandem();
  const key = JSON.stringify(request);
  const [store, setStore] = useState<ResultPages | null>(null);
  const [version, setVersion] = useState(0);
  const [revision, setRevision] = useState(0);
  const revisionFrame = useRef(0);
  useEffect(() => () => cancelAnimationFrame(revisionFrame.current), []);
  const [loading, setLoading] = useState(true);
  const [refreshTick, setRefreshTick] = useState(0);
  const storeRef = useRef<ResultPages | null>(null);
  const inView = useRef<[number, number]>([0, PAGE_SIZE]);
  const onErrorRef = useRef(onError);
  useEffect(() => {
    onErrorRef.current = onError;
  });

  /** Fetches `count` pages from `page` on, in one request: the core sorts once for all of them. */
  const fetchPages = useCallback(
    async (req: SourceRequest, page: number, count = 1, limit = PAGE_SIZE * count) => {
      const pageReq = { offset: page * PAGE_SIZE, limit };
      if (req.similarTo !== undefined) return api.invoke('search.similar', { photoId: req.similarTo, filters: req.filters, page: pageReq });
      const q = req.query.trim();
      if (q) return api.invoke('search.query', { query: q, filters: req.filters, page: pageReq, ...(req.rerank ? { rerank: true } : {}) });
      const r = await api.invoke('photos.list', { filters: req.filters, sort: req.sort, page: pageReq });
      return { ...r, notice: null };
    },
    [api],
  );

  // A new result set (or a refresh of this one): fetch it, then swap it in whole, so the grid never blanks.
  useEffect(() => {
    let cancelled = false;
    const req = JSON.parse(key) as SourceRequest;
    const refreshing = storeRef.current?.key === key;
    const pages = refreshing ? pagesOf(...inView.current) : [0];
    setLoading(true);
    fetchPages(req, pages[0]!, pages.length, refreshing ? pages.length * PAGE_SIZE : FIRST_REQUEST).then(
      (r) => {
        if (cancelled) return;
        const next = new ResultPages(key, req, r.total, r.notice);
        pages.forEach((p, i) => next.pages.set(p, r.items.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
        storeRef.current = next;
        if (!refreshing) inView.current = [0, PAGE_SIZE];
        setStore(next);
        setVersion((v) => v + 1);
        setLoading(false);
      },
      (err: unknown) => {
        if (cancelled) return;
        setLoading(false);
        onErrorRef.current(err);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [key, refreshTick, fetchPages]);

  const loadPages = useCallback(
    (start: number, end: number): Promise<void>[] => {
      const s = storeRef.current;
      if (!s) return [];
      const missing = pagesOf(start, Math.min(end, s.total)).filter((p) => !s.complete(p) && !s.pending.has(p));
      // Neighbouring missing pages go in one request.
      const runs: number[][] = [];
      for (const p of missing) {
        const run = runs.at(-1);
        if (run && run.at(-1) === p - 1 && run.length < MAX_PAGES_PER_REQUEST) run.push(p);
        else runs.push([p]);
      }
      return runs.map((run) => {
        for (const p of run) s.pending.add(p);
        return fetchPages(s.request, run[0]!, run.length).then(
          (r) => {
            for (const p of run) s.pending.delete(p);
            if (storeRef.current !== s) return;
            run.forEach((p, i) => s.pages.set(p, r.items.slice(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
            s.total = r.total;
            setVersion((v) => v + 1);
          },
          (err: unknown) => {
            for (const p of run) s.pending.delete(p);
            if (storeRef.current === s) onErrorRef.current(err);
          },
        );
      });
    },
    [fetchPages],
  );

  const ensureRange = useCallback(
    (start: number, end: number) => {
      inView.current = [start, end];
      void loadPages(start, end);
    },
    [loadPages],
  );

  const loadRange = useCallback(
    async (start: number, end: number) => {
      await Promise.all(loadPages(start, end));
      // Pages another caller had already asked for: wait until they are in as well.
      const s = storeRef.current;
      for (let tries = 0; s && tries < 200 && pagesOf(start, Math.min(end, s.total)).some((p) => !s.complete(p) && s.pending.has(p)); tries++) {
        await new Promise((done) => setTimeout(done, 25));
      }
    },
    [loadPages],
  );

  const itemAt = useCallback((index: number) => storeRef.current?.itemAt(index), []);

  const nextLoaded = useCallback((index: number) => {
    const s = storeRef.current;
    if (!s) return index;
    let best = s.total;
    for (const p of s.pages.keys()) {
      const start = p * PAGE_SIZE;
      const end = start + (s.pages.get(p)?.length ?? 0);
      if (end > index && start < best) best = Math.max(start, index);
    }
    return best;
  }, []);

  const indexOfId = useCallback((id: number) => {
    const s = storeRef.current;
    if (!s) return -1;
    for (const [page, items] of s.pages) {
      const i = items.findIndex((it) => it.id === id);
      if (i >= 0) return page * PAGE_SIZE + i;
    }
    return -1;
  }, []);

  const patch = useCallback((id: number, change: Partial<PhotoSummary>) => {
    const s = storeRef.current;
    if (!s) return;
    for (const items of s.pages.values()) {
      const i = items.findIndex((it) => it.id === id);
      if (i < 0) continue;
      const before = items[i]!;
      // A caption changed under a search highlight: the old highlight no longer matches the text.
      items[i] = { ...before, ...change, ...('highlight' in before && change.caption !== undefined ? { highlight: null } : {}) };
      // Captions can stream in by the hundred per second: redraw at most once a frame.
      if (!revisionFrame.current) {
        revisionFrame.current = requestAnimationFrame(() => {
          revisionFrame.current = 0;
          setRevision((r) => r + 1);
        });
      }
      return;
    }
  }, []);

  const refresh = useCallback(() => setRefreshTick((t) => t + 1), []);

  return useMemo(
    () => ({
      key: store?.key ?? '',
      query: store?.request.query.trim() ?? '',
      request: store?.request ?? null,
      total: store?.total ?? 0,
      notice: store?.notice ?? null,
      loading,
      version,
      revision,
      itemAt,
      nextLoaded,
      ensureRange,
      loadRange,
      indexOfId,
      patch,
      refresh,
    }),
    [store, loading, version, revision, itemAt, nextLoaded, ensureRange, loadRange, indexOfId, patch, refresh],
  );
}
