import { useEffect, useState } from 'react';
import type { PhotoSort } from '../../shared/api';

export type GalleryPrefs = { sort: PhotoSort; groupByMonth: boolean; tileSize: number };

const KEY = 'tandem.gallery';
const DEFAULTS: GalleryPrefs = { sort: 'taken', groupByMonth: true, tileSize: 184 };

function load(): GalleryPrefs {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return DEFAULTS;
    const v = JSON.parse(raw) as Partial<GalleryPrefs>;
    return {
      sort: v.sort === 'name' || v.sort === 'added' || v.sort === 'taken' ? v.sort : DEFAULTS.sort,
      groupByMonth: typeof v.groupByMonth === 'boolean' ? v.groupByMonth : DEFAULTS.groupByMonth,
      tileSize: typeof v.tileSize === 'number' && v.tileSize >= 64 && v.tileSize <= 400 ? v.tileSize : DEFAULTS.tileSize,
    };
  } catch {
    return DEFAULTS;
  }
}

/** How the grid looks (sort, month groups, tile size): a per-window preference, kept across restarts. */
export function useGalleryPrefs(): [GalleryPrefs, (patch: Partial<GalleryPrefs>) => void] {
  const [prefs, setPrefs] = useState<GalleryPrefs>(load);
  useEffect(() => {
    try {
      localStorage.setItem(KEY, JSON.stringify(prefs));
    } catch {
      // Storage can be unavailable; the preference then lasts for this session.
    }
  }, [prefs]);
  return [prefs, (patch) => setPrefs((p) => ({ ...p, ...patch }))];
}
