import { describe, expect, it } from 'vitest';
import { buildGridLayout, gridMetrics } from '../../src/renderer/lib/grid-layout';
import { isNavKey, navigate } from '../../src/renderer/lib/grid-navigation';

const m = gridMetrics(1000, 180, { gap: 10, padding: 20, bodyHeight: 50, headerHeight: 40, aspect: 0.75 }); // 5 columns
// Rows: [0..4] [5..7] | header | [8..12] [13]
const keys = ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b'];
const layout = buildGridLayout(keys.length, m, (i) => keys[i]);

describe('grid keyboard navigation', () => {
  it('moves left and right through items, stopping at the ends', () => {
    expect(navigate(layout, 3, 'ArrowRight')).toBe(4);
    expect(navigate(layout, 4, 'ArrowRight')).toBe(5);
    expect(navigate(layout, 13, 'ArrowRight')).toBe(13);
    expect(navigate(layout, 0, 'ArrowLeft')).toBe(0);
  });

  it('keeps the column going up and down, landing on the last item of a short row', () => {
    expect(navigate(layout, 1, 'ArrowDown')).toBe(6);
    expect(navigate(layout, 4, 'ArrowDown')).toBe(7); // row [5..7] is short
    expect(navigate(layout, 7, 'ArrowDown')).toBe(10); // across the month header
    expect(navigate(layout, 12, 'ArrowDown')).toBe(13);
    expect(navigate(layout, 10, 'ArrowUp')).toBe(7);
  });

  it('goes to the first or last item from the first or last row', () => {
    expect(navigate(layout, 2, 'ArrowUp')).toBe(0);
    expect(navigate(layout, 13, 'ArrowDown')).toBe(13);
    expect(navigate(layout, 6, 'Home')).toBe(0);
    expect(navigate(layout, 6, 'End')).toBe(13);
  });

  it('pages by whole rows', () => {
    expect(navigate(layout, 1, 'PageDown', 2)).toBe(9);
    expect(navigate(layout, 9, 'PageUp', 2)).toBe(1);
    expect(navigate(layout, 9, 'PageDown', 10)).toBe(13);
  });

  it('lands on the first item when there is no cursor yet (End on the last)', () => {
    expect(navigate(layout, -1, 'ArrowDown')).toBe(0);
    expect(navigate(layout, -1, 'End')).toBe(13);
    expect(navigate(buildGridLayout(0, m), -1, 'ArrowDown')).toBe(-1);
  });

  it('knows its keys', () => {
    expect(isNavKey('PageDown')).toBe(true);
    expect(isNavKey('Enter')).toBe(false);
  });
});
