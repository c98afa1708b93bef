/** The gallery's filters as the user sets them, and what they mean for `photos.list` / `search.query`. */
import type { PhotoFilters } from '../../shared/api';

export type CaptionFilter = 'all' | 'captioned' | 'uncaptioned' | 'failed';

export type GalleryFilters = {
  folder: { rootId: number; path: string; name: string } | null;
  show: CaptionFilter;
  /** 'YYYY-MM-DD' or ''. */
  from: string;
  to: string;
};

export const NO_FILTERS: GalleryFilters = { folder: null, show: 'all', from: '', to: '' };

export const CAPTION_FILTER_LABEL: Record<CaptionFilter, string> = {
  all: 'All photos',
  captioned: 'Captioned',
  uncaptioned: 'Not captioned',
  failed: 'Failed (unreadable or not captioned)',
};

export function toPhotoFilters(f: GalleryFilters): PhotoFilters {
  const out: PhotoFilters = {};
  if (f.folder) {
    out.rootId = f.folder.rootId;
    if (f.folder.path) out.folder = f.folder.path;
  }
  if (f.show === 'captioned') out.captioned = 'yes';
  if (f.show === 'uncaptioned') out.captioned = 'no';
  if (f.show === 'failed') out.problems = true;
  if (f.from) out.takenFrom = f.from;
  if (f.to) out.takenTo = f.to;
  return out;
}

export function activeFilterCount(f: GalleryFilters): number {
  return (f.folder ? 1 : 0) + (f.show !== 'all' ? 1 : 0) + (f.from || f.to ? 1 : 0);
}

/** "in exif · not captioned · 2019-01-01 to 2020-12-31": what the empty state says was searched. */
export function describeFilters(f: GalleryFilters): string {
  const parts: string[] = [];
  if (f.folder) parts.push(`in ${f.folder.name}`);
  if (f.show !== 'all') parts.push(CAPTION_FILTER_LABEL[f.show].toLowerCase());
  if (f.from && f.to) parts.push(`taken ${f.from} to ${f.to}`);
  else if (f.from) parts.push(`taken from ${f.from}`);
  else if (f.to) parts.push(`taken until ${f.to}`);
  return parts.join(' · ');
}
