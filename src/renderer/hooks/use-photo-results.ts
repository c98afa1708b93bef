import { useEffect, useRef, useState } from 'react';
import type { PhotoSummary, SearchHit } from '../../shared/api';
import { useTandem } from './use-tandem';

export const PAGE_SIZE = 200;

export type PhotoResults = {
  /** The query these results answer ('' = browsing the whole library). */
  query: string;
  items: (PhotoSummary | SearchHit)[];
  total: number;
  notice: string | null;
  loading: boolean;
};

const initial: PhotoResults = { query: '', items: [], total: 0, notice: null, loading: true };

/**
 * Search results for `query`, or the library in date order when it is empty.
 * Answers that arrive after a newer request was made are dropped, so fast typing never shows stale results.
 */
export function usePhotoResults(query: string, refreshKey: number, onError: (err: unknown) => void): PhotoResults {
  const api = useTandem();
  const [results, setResults] = useState<PhotoResults>(initial);
  const latestRequest = useRef(0);

  useEffect(() => {
    const id = ++latestRequest.current;
    const q = query.trim();
    setResults((r) => ({ ...r, loading: true }));
    const request =
      q === ''
        ? api.invoke('photos.list', { page: { offset: 0, limit: PAGE_SIZE } }).then((page) => ({ ...page, notice: null }))
        : api.invoke('search.query', { query: q, page: { offset: 0, limit: PAGE_SIZE } });
    request.then(
      (r) => {
        if (id === latestRequest.current) setResults({ query: q, items: r.items, total: r.total, notice: r.notice, loading: false });
      },
      (err: unknown) => {
        if (id !== latestRequest.current) return;
        setResults((r) => ({ ...r, loading: false }));
        onError(err);
      },
    );
  }, [api, query, refreshKey, onError]);

  return results;
}
