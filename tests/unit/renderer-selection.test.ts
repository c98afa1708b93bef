import { describe, expect, it } from 'vitest';
import { EMPTY_SELECTION, idsInRange, retainSelection, selectAt } from '../../src/renderer/lib/selection';

// Positions 0..9 hold photo ids 100..109; position 5 is not loaded yet.
const idAt = (i: number) => (i >= 0 && i < 10 && i !== 5 ? 100 + i : undefined);
const ids = (s: { ids: ReadonlySet<number> }) => [...s.ids].sort((a, b) => a - b);

describe('grid selection', () => {
  it('a click selects one photo and sets the anchor', () => {
    const s = selectAt(EMPTY_SELECTION, 3, {}, idAt);
    expect(ids(s)).toEqual([103]);
    expect(s.anchor).toBe(3);
    expect(ids(selectAt(s, 7, {}, idAt))).toEqual([107]);
  });

  it('Ctrl/Cmd+click toggles one photo and keeps the rest', () => {
    let s = selectAt(EMPTY_SELECTION, 1, {}, idAt);
    s = selectAt(s, 4, { toggle: true }, idAt);
    expect(ids(s)).toEqual([101, 104]);
    s = selectAt(s, 1, { toggle: true }, idAt);
    expect(ids(s)).toEqual([104]);
  });

  it('Shift+click selects the range from the anchor, in either direction, replacing the selection', () => {
    let s = selectAt(EMPTY_SELECTION, 6, {}, idAt);
    s = selectAt(s, 8, { shift: true }, idAt);
    expect(ids(s)).toEqual([106, 107, 108]);
    s = selectAt(s, 3, { shift: true }, idAt);
    expect(ids(s)).toEqual([103, 104, 106]); // 5 is not loaded: skipped
    expect(s.anchor).toBe(6);
  });

  it('Ctrl/Cmd+Shift+click adds the range to the selection', () => {
    let s = selectAt(EMPTY_SELECTION, 0, {}, idAt);
    s = selectAt(s, 8, { toggle: true }, idAt);
    s = selectAt(s, 9, { shift: true, toggle: true }, idAt);
    expect(ids(s)).toEqual([100, 108, 109]);
  });

  it('ignores positions whose photo is not loaded', () => {
    const s = selectAt(EMPTY_SELECTION, 2, {}, idAt);
    expect(selectAt(s, 5, {}, idAt)).toBe(s);
  });

  it('keeps only photos still in the results', () => {
    const s = { ids: new Set([101, 102, 103]), anchor: 2 };
    const kept = retainSelection(s, (id) => id !== 102);
    expect(ids(kept)).toEqual([101, 103]);
    expect(kept.anchor).toBeNull();
    expect(retainSelection(s, () => true)).toBe(s);
  });

  it('lists the ids of a range', () => {
    expect(idsInRange(4, 2, idAt)).toEqual([102, 103, 104]);
  });
});
