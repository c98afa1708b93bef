/**
 * Multi-selection in the grid, by photo id: click selects one, Ctrl/Cmd+click toggles one, Shift+click
 * selects the range from the anchor (Ctrl/Cmd+Shift adds the range). Ranges are by position in the current
 * results, resolved to ids through `idAt`, so a selection survives scrolling, paging and live updates.
 */

export type Selection = {
  ids: ReadonlySet<number>;
  /** Position the next Shift range starts from. */
  anchor: number | null;
};

export const EMPTY_SELECTION: Selection = { ids: new Set(), anchor: null };

export type SelectModifiers = { shift?: boolean; toggle?: boolean };

/** Ids of positions `[from, to]` (either order); positions whose item is not loaded are skipped. */
export function idsInRange(from: number, to: number, idAt: (index: number) => number | undefined): number[] {
  const ids: number[] = [];
  const lo = Math.min(from, to);
  const hi = Math.max(from, to);
  for (let i = lo; i <= hi; i++) {
    const id = idAt(i);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

export function selectAt(
  selection: Selection,
  index: number,
  modifiers: SelectModifiers,
  idAt: (index: number) => number | undefined,
): Selection {
  const id = idAt(index);
  if (id === undefined) return selection;
  if (modifiers.shift && selection.anchor !== null) {
    const range = idsInRange(selection.anchor, index, idAt);
    const ids = new Set(modifiers.toggle ? selection.ids : []);
    for (const r of range) ids.add(r);
    return { ids, anchor: selection.anchor };
  }
  if (modifiers.toggle) {
    const ids = new Set(selection.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: index };
  }
  return { ids: new Set([id]), anchor: index };
}

/** Keeps only ids that are still in the results (after a search or filter change). */
export function retainSelection(selection: Selection, stillThere: (id: number) => boolean): Selection {
  const ids = new Set([...selection.ids].filter(stillThere));
  return ids.size === selection.ids.size ? selection : { ids, anchor: null };
}
