import { describe, expect, it } from 'vitest';
import { buildGridLayout, gridMetrics, MAX_SCROLL_HEIGHT, rowAt, scrollScale, type TilesRow } from '../../src/renderer/lib/grid-layout';

const SPACING = { gap: 8, padding: 16, bodyHeight: 0, headerHeight: 40, aspect: 1 };

describe('scroll scale of a grid taller than a browser can lay out', () => {
  it('leaves a grid that fits alone', () => {
    const s = scrollScale(3_000_000, 800);
    expect(s.canvasHeight).toBe(3_000_000);
    expect(s.toLayout(123_456)).toBe(123_456);
    expect(s.toScroll(987)).toBe(987);
  });

  it('squeezes a million photos under the limit, with both ends and the middle where they belong', () => {
    const metrics = gridMetrics(1000, 180, SPACING);
    const layout = buildGridLayout(1_000_000, metrics);
    expect(layout.height).toBeGreaterThan(MAX_SCROLL_HEIGHT);
    const view = 800;
    const s = scrollScale(layout.height, view);
    expect(s.canvasHeight).toBe(MAX_SCROLL_HEIGHT);
    expect(s.toLayout(0)).toBe(0);
    // The last scroll position shows the last screenful of the layout.
    expect(s.toLayout(s.canvasHeight - view)).toBeCloseTo(layout.height - view, 3);
    for (const f of [0.1, 0.37, 0.5, 0.83]) {
      const row = layout.rows[rowAt(layout, s.toLayout(f * (s.canvasHeight - view)))] as TilesRow;
      expect(Math.abs(row.start / 1_000_000 - f)).toBeLessThan(0.001);
    }
    expect(s.toScroll(s.toLayout(4_321_000))).toBeCloseTo(4_321_000, 6);
  });
});
