import { describe, expect, it } from 'vitest';
import {
  buildGridLayout,
  gridMetrics,
  itemRangeOfRows,
  monthKey,
  rowAt,
  scrollToReveal,
  tileRect,
  tileRowOf,
  visibleRowRange,
  type GridSpacing,
} from '../../src/renderer/lib/grid-layout';

const SPACING: GridSpacing = { gap: 10, padding: 20, bodyHeight: 50, headerHeight: 40, aspect: 0.75 };

describe('grid metrics', () => {
  it('fits as many tiles as the width allows and stretches them to fill the row', () => {
    const m = gridMetrics(1000, 180, SPACING);
    // inner 960: 5 tiles of 180 + 4 gaps of 10 = 940 fit, 6 would need 1130.
    expect(m.columns).toBe(5);
    expect(m.tileWidth).toBe(184); // (960 - 40) / 5
    expect(m.tileHeight).toBe(Math.round(184 * 0.75) + 50);
  });

  it('always has at least one column, even narrower than one tile', () => {
    expect(gridMetrics(100, 300, SPACING).columns).toBe(1);
    expect(gridMetrics(0, 300, SPACING).tileWidth).toBeGreaterThan(0);
  });
});

describe('grid layout', () => {
  const m = gridMetrics(1000, 180, SPACING); // 5 columns

  it('lays out plain rows without groups', () => {
    const l = buildGridLayout(12, m);
    expect(l.rows.map((r) => (r.kind === 'tiles' ? [r.start, r.count] : r.kind))).toEqual([
      [0, 5],
      [5, 5],
      [10, 2],
    ]);
    expect(l.rows[1]!.y).toBe(20 + m.tileHeight + 10);
    expect(l.height).toBe(20 + 3 * m.tileHeight + 2 * 10 + 20);
  });

  it('starts every group on a new row under a header', () => {
    const keys = ['2021-03', '2021-03', '2021-03', '2021-02', '2021-02', '2021-02', '2021-02', '2021-02', '2021-02', null];
    const l = buildGridLayout(keys.length, m, (i) => keys[i]);
    expect(l.rows.map((r) => (r.kind === 'tiles' ? `t${r.start}+${r.count}` : `h:${r.group}`))).toEqual([
      'h:2021-03',
      't0+3',
      'h:2021-02',
      't3+5',
      't8+1',
      'h:null',
      't9+1',
    ]);
    expect(l.tileRows).toEqual([1, 3, 4, 6]);
  });

  it('keeps items whose page is not loaded in the current group, and adds headers once they load', () => {
    const loaded = (i: number) => (i < 5 ? '2020-01' : undefined);
    const before = buildGridLayout(12, m, loaded);
    expect(before.rows.filter((r) => r.kind === 'header')).toHaveLength(1);
    const after = buildGridLayout(12, m, (i) => (i < 5 ? '2020-01' : '2019-12'));
    expect(after.rows.filter((r) => r.kind === 'header')).toHaveLength(2);
    // The first photo of the new group moved down by one header.
    expect(tileRect(after, 5)!.y - tileRect(before, 5)!.y).toBe(40);
  });

  it('lays out 100,000 items in a few milliseconds and finds rows by position', () => {
    const t0 = performance.now();
    const l = buildGridLayout(100_000, m, (i) => `20${String(10 + Math.floor(i / 3000)).padStart(2, '0')}-01`);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(200);
    expect(l.rows.filter((r) => r.kind === 'header')).toHaveLength(Math.ceil(100_000 / 3000));
    const mid = tileRect(l, 54_321)!;
    const r = rowAt(l, mid.y + 1);
    const row = l.rows[r]!;
    expect(row.kind === 'tiles' && row.start <= 54_321 && 54_321 < row.start + row.count).toBe(true);
    const range = visibleRowRange(l, mid.y - 300, mid.y + 900)!;
    const items = itemRangeOfRows(l, range[0], range[1])!;
    // A viewport's worth of rows holds a few dozen tiles, never thousands.
    expect(items[1] - items[0]).toBeLessThan(60);
    expect(items[0]).toBeLessThanOrEqual(54_321);
    expect(items[1]).toBeGreaterThan(54_321);
  });

  it('finds the tile row and rectangle of an item', () => {
    const l = buildGridLayout(12, m);
    expect(tileRowOf(l, 7)).toBe(1);
    expect(tileRowOf(l, 12)).toBe(-1);
    expect(tileRect(l, 7)).toEqual({ x: 20 + 2 * (m.tileWidth + 10), y: l.rows[1]!.y, width: m.tileWidth, height: m.tileHeight });
  });

  it('has no rows when there is nothing to show', () => {
    const l = buildGridLayout(0, m, () => null);
    expect(l.rows).toEqual([]);
    expect(l.height).toBe(0);
    expect(visibleRowRange(l, 0, 1000)).toBeNull();
  });
});

describe('scrolling helpers', () => {
  it('scrolls as little as possible to reveal a tile', () => {
    expect(scrollToReveal({ y: 100, height: 50 }, 0, 400)).toBe(0);
    expect(scrollToReveal({ y: 500, height: 50 }, 0, 400)).toBe(150);
    expect(scrollToReveal({ y: 100, height: 50 }, 300, 400, 8)).toBe(92);
  });

  it('groups by the month of the capture date', () => {
    expect(monthKey('2021-03-02T08:15:00')).toBe('2021-03');
    expect(monthKey(null)).toBeNull();
    expect(monthKey('garbage')).toBeNull();
  });
});
