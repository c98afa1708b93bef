import { useCallback, useEffect, useState, type MouseEvent } from 'react';
import { EMPTY_SELECTION, idsInRange, selectAt, type Selection } from '../lib/selection';
import type { PhotoSource } from './use-photo-source';

export type GallerySelection = {
  selection: Selection;
  activeIndex: number;
  setActiveIndex(index: number): void;
  /** Mouse down on a tile: click, Shift+click, Ctrl/Cmd+click. */
  pointer(index: number, e: MouseEvent): void;
  /** Keyboard move: plain moves select, Shift extends, Ctrl/Cmd moves the cursor only. */
  move(index: number, extend: boolean, keepSelection: boolean): void;
  toggle(index: number): void;
  selectAll(): Promise<void>;
  clear(): void;
};

/** Cursor and multi-selection of the grid, by photo id; ranges load the pages they span first. */
export function useGallerySelection(source: PhotoSource): GallerySelection {
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [activeIndex, setActiveIndex] = useState(-1);
  const idAt = useCallback((i: number) => source.itemAt(i)?.id, [source]);

  // A new search or filter starts with nothing selected.
  useEffect(() => {
    setSelection(EMPTY_SELECTION);
    setActiveIndex(-1);
  }, [source.key]);

  const selectRange = useCallback(
    async (index: number, toggle: boolean, fallbackAnchor: number) => {
      const from = selection.anchor ?? fallbackAnchor;
      await source.loadRange(Math.min(from, index), Math.max(from, index) + 1);
      setSelection((s) => selectAt({ ...s, anchor: s.anchor ?? from }, index, { shift: true, toggle }, idAt));
    },
    [selection.anchor, source, idAt],
  );

  const pointer = useCallback(
    (index: number, e: MouseEvent) => {
      if (e.button !== 0) return;
      const toggle = e.ctrlKey || e.metaKey;
      setActiveIndex(index);
      if (e.shiftKey && (selection.anchor !== null || activeIndex >= 0)) void selectRange(index, toggle, activeIndex);
      else setSelection((s) => selectAt(s, index, { toggle }, idAt));
    },
    [selection.anchor, activeIndex, selectRange, idAt],
  );

  const move = useCallback(
    (index: number, extend: boolean, keepSelection: boolean) => {
      setActiveIndex(index);
      if (keepSelection) return;
      if (extend) {
        void selectRange(index, false, activeIndex >= 0 ? activeIndex : index);
      } else {
        setSelection((s) => selectAt(s, index, {}, idAt));
      }
    },
    [activeIndex, selectRange, idAt],
  );

  const toggle = useCallback((index: number) => setSelection((s) => selectAt(s, index, { toggle: true }, idAt)), [idAt]);

  const selectAll = useCallback(async () => {
    await source.loadRange(0, source.total);
    setSelection({ ids: new Set(idsInRange(0, source.total - 1, idAt)), anchor: 0 });
  }, [source, idAt]);

  const clear = useCallback(() => setSelection(EMPTY_SELECTION), []);

  return { selection, activeIndex, setActiveIndex, pointer, move, toggle, selectAll, clear };
}
