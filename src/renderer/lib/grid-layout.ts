/**
 * Layout math for the virtualized photo grid: how many columns fit, where each row sits, which rows are
 * on screen. Pure functions, so the 100,000-photo case is tested without a browser
 * (tests/unit/renderer-grid-layout.test.ts).
 *
 * Rows are either a month header or a row of tiles. A section (month) always starts on a new row, like
 * Lightroom's and Apple Photos' grids. Items whose page is not loaded yet have an unknown group and simply
 * continue the current section; when their page arrives the headers appear and the grid keeps the photo
 * the user is looking at in place (see VirtualGrid's scroll anchoring).
 */

export type GridSpacing = {
  /** Space between tiles, horizontally and vertically. */
  gap: number;
  /** Space around the grid. */
  padding: number;
  /** Height of the name/caption block under the thumbnail (0 hides it). */
  bodyHeight: number;
  /** Height of a month header row, its own top margin included. */
  headerHeight: number;
  /** Thumbnail height / width. */
  aspect: number;
};

export type GridMetrics = GridSpacing & {
  columns: number;
  tileWidth: number;
  tileHeight: number;
};

export type HeaderRow = { kind: 'header'; y: number; height: number; group: string | null };
export type TilesRow = { kind: 'tiles'; y: number; height: number; start: number; count: number };
export type GridRow = HeaderRow | TilesRow;

export type GridLayout = {
  total: number;
  metrics: GridMetrics;
  rows: GridRow[];
  /** Indexes into `rows` of the tile rows, in order (for keyboard navigation and lookups by item). */
  tileRows: number[];
  height: number;
};

/** `undefined`: not loaded yet; `null`: loaded, but in no group (e.g. no date). */
export type GroupKeyAt = (index: number) => string | null | undefined;

/** Fits as many tiles of about `tileSize` px as the width allows, then stretches them to fill the row. */
export function gridMetrics(width: number, tileSize: number, spacing: GridSpacing): GridMetrics {
  const inner = Math.max(0, width - 2 * spacing.padding);
  const columns = Math.max(1, Math.floor((inner + spacing.gap) / (Math.max(1, tileSize) + spacing.gap)));
  const tileWidth = Math.max(1, Math.floor((inner - spacing.gap * (columns - 1)) / columns));
  const tileHeight = Math.round(tileWidth * spacing.aspect) + spacing.bodyHeight;
  return { ...spacing, columns, tileWidth, tileHeight };
}

/**
 * Builds every row of the grid. With `groupKeyAt`, a header row starts each run of items that share a group
 * key. Cost is one `groupKeyAt` call per item, a few milliseconds at 100,000 items; with `nextKnown` (the
 * first index at or after `i` whose key may be known, e.g. the next loaded page), runs of items that are not
 * loaded are skipped in one step, so the cost follows what is loaded rather than the library's size.
 */
export function buildGridLayout(total: number, metrics: GridMetrics, groupKeyAt?: GroupKeyAt, nextKnown?: (index: number) => number): GridLayout {
  const rows: GridRow[] = [];
  const tileRows: number[] = [];
  const { columns, tileHeight, gap, padding, headerHeight } = metrics;
  let y = padding;

  const pushTiles = (start: number, end: number) => {
    for (let s = start; s < end; s += columns) {
      tileRows.push(rows.length);
      rows.push({ kind: 'tiles', y, height: tileHeight, start: s, count: Math.min(columns, end - s) });
      y += tileHeight + gap;
    }
  };

  if (!groupKeyAt) {
    pushTiles(0, total);
  } else {
    let i = 0;
    let current: string | null | undefined = undefined;
    while (i < total) {
      const key = groupKeyAt(i);
      if (key !== undefined && key !== current) {
        rows.push({ kind: 'header', y, height: headerHeight, group: key });
        y += headerHeight;
        current = key;
      }
      let j = i + 1;
      while (j < total) {
        const k = groupKeyAt(j);
        if (k === undefined) {
          j = nextKnown ? Math.max(j + 1, Math.min(total, nextKnown(j))) : j + 1;
          continue;
        }
        if (k !== current) break;
        j++;
      }
      pushTiles(i, j);
      i = j;
    }
  }
  const height = rows.length === 0 ? 0 : y - (rows.at(-1)!.kind === 'tiles' ? gap : 0) + padding;
  return { total, metrics, rows, tileRows, height };
}

/** Index of the first row whose bottom edge is below `y` (binary search). */
export function rowAt(layout: GridLayout, y: number): number {
  const { rows } = layout;
  let lo = 0;
  let hi = rows.length - 1;
  let found = rows.length;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = rows[mid]!;
    if (r.y + r.height > y) {
      found = mid;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return found;
}

/** Rows that intersect [top, bottom): the `[first, last]` row indexes, or null when none do. */
export function visibleRowRange(layout: GridLayout, top: number, bottom: number): [number, number] | null {
  const first = rowAt(layout, top);
  if (first >= layout.rows.length || layout.rows[first]!.y >= bottom) return null;
  let last = first;
  while (last + 1 < layout.rows.length && layout.rows[last + 1]!.y < bottom) last++;
  return [first, last];
}

/** Items in the given rows: `[start, end)`, or null when the rows hold no tiles. */
export function itemRangeOfRows(layout: GridLayout, firstRow: number, lastRow: number): [number, number] | null {
  let start = -1;
  let end = -1;
  for (let r = firstRow; r <= lastRow; r++) {
    const row = layout.rows[r];
    if (row?.kind !== 'tiles') continue;
    if (start < 0) start = row.start;
    end = row.start + row.count;
  }
  return start < 0 ? null : [start, end];
}

/** Position in `tileRows` of the tile row that holds item `index` (binary search), or -1. */
export function tileRowOf(layout: GridLayout, index: number): number {
  if (index < 0 || index >= layout.total) return -1;
  let lo = 0;
  let hi = layout.tileRows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const row = layout.rows[layout.tileRows[mid]!] as TilesRow;
    if (index < row.start) hi = mid - 1;
    else if (index >= row.start + row.count) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export type TileRect = { x: number; y: number; width: number; height: number };

/** Where item `index` is drawn, in grid coordinates; null when it is not in the layout. */
export function tileRect(layout: GridLayout, index: number): TileRect | null {
  const t = tileRowOf(layout, index);
  if (t < 0) return null;
  const row = layout.rows[layout.tileRows[t]!] as TilesRow;
  const { padding, tileWidth, gap, tileHeight } = layout.metrics;
  return { x: padding + (index - row.start) * (tileWidth + gap), y: row.y, width: tileWidth, height: tileHeight };
}

/** The scroll position that brings `rect` fully into a viewport of `viewHeight` at `scrollTop`, moving as little as possible. */
export function scrollToReveal(rect: { y: number; height: number }, scrollTop: number, viewHeight: number, margin = 0): number {
  const top = rect.y - margin;
  const bottom = rect.y + rect.height + margin;
  if (top < scrollTop) return Math.max(0, top);
  if (bottom > scrollTop + viewHeight) return Math.max(0, bottom - viewHeight);
  return scrollTop;
}

/**
 * Browsers cap an element's height: Chromium (and so Electron) lays out nothing past 2^25 px (about 33.5M) and
 * Firefox clips near 17.9M. A million photos in rows of five are ~38M px, so past this the scrollable height
 * is squeezed and scroll positions map to layout positions linearly; near the view, tiles keep their real
 * spacing (the drawn band is shifted by one offset), as react-virtualized's scaling does.
 */
export const MAX_SCROLL_HEIGHT = 15_000_000;

export type ScrollScale = {
  /** Height of the scrollable canvas. */
  canvasHeight: number;
  /** Layout y at the top of the view for a scrollTop. */
  toLayout(scrollTop: number): number;
  /** The scrollTop that puts layout y at the top of the view. */
  toScroll(y: number): number;
};

export function scrollScale(layoutHeight: number, viewHeight: number, max = MAX_SCROLL_HEIGHT): ScrollScale {
  if (layoutHeight <= max || max <= viewHeight) return { canvasHeight: layoutHeight, toLayout: (t) => t, toScroll: (y) => y };
  // Both ends line up: scrollTop 0 is layout 0, the last scrollTop shows the layout's last screenful.
  const k = (layoutHeight - viewHeight) / (max - viewHeight);
  return { canvasHeight: max, toLayout: (t) => t * k, toScroll: (y) => y / k };
}

/** The month an item belongs to in the date-sorted grid: 'YYYY-MM' from its capture date, null when undated. */
export function monthKey(takenAt: string | null): string | null {
  if (!takenAt) return null;
  const m = /^(\d{4})-(\d{2})/.exec(takenAt);
  return m ? `${m[1]}-${m[2]}` : null;
}
