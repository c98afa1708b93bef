/**
 * Where the grid's cursor goes for a navigation key. Up and down keep the column when the next row is long
 * enough (rows at the end of a month can be short), as in Finder's and Lightroom's grids.
 */
import { tileRowOf, type GridLayout, type TilesRow } from './grid-layout';

export const NAV_KEYS = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'] as const;
export type NavKey = (typeof NAV_KEYS)[number];

export function isNavKey(key: string): key is NavKey {
  return (NAV_KEYS as readonly string[]).includes(key);
}

/**
 * The item index the cursor moves to from `index` (-1 = no cursor yet: any key lands on the first item).
 * `pageRows` is how many tile rows a PageUp/PageDown jumps.
 */
export function navigate(layout: GridLayout, index: number, key: NavKey, pageRows = 1): number {
  const total = layout.total;
  if (total === 0) return -1;
  if (index < 0 || index >= total) return key === 'End' ? total - 1 : 0;
  switch (key) {
    case 'ArrowLeft':
      return Math.max(0, index - 1);
    case 'ArrowRight':
      return Math.min(total - 1, index + 1);
    case 'Home':
      return 0;
    case 'End':
      return total - 1;
    case 'ArrowUp':
      return verticalMove(layout, index, -1);
    case 'ArrowDown':
      return verticalMove(layout, index, 1);
    case 'PageUp':
      return verticalMove(layout, index, -Math.max(1, pageRows));
    case 'PageDown':
      return verticalMove(layout, index, Math.max(1, pageRows));
  }
}

function verticalMove(layout: GridLayout, index: number, rowDelta: number): number {
  const t = tileRowOf(layout, index);
  if (t < 0) return index;
  const row = layout.rows[layout.tileRows[t]!] as TilesRow;
  const column = index - row.start;
  const target = Math.min(layout.tileRows.length - 1, Math.max(0, t + rowDelta));
  if (target === t) {
    // Already on the first or last row: go to the very first or last item, as text fields do.
    return rowDelta < 0 ? 0 : layout.total - 1;
  }
  const next = layout.rows[layout.tileRows[target]!] as TilesRow;
  return next.start + Math.min(column, next.count - 1);
}
