import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from 'react';
import type { JobFailure } from '../../../shared/api';
import {
  buildGridLayout,
  gridMetrics,
  itemRangeOfRows,
  monthKey,
  rowAt,
  scrollScale,
  scrollToReveal,
  tileRect,
  visibleRowRange,
  type GridLayout,
  type GridSpacing,
} from '../../lib/grid-layout';
import { isNavKey, navigate } from '../../lib/grid-navigation';
import { formatMonth } from '../../lib/format';
import type { PhotoSource } from '../../hooks/use-photo-source';
import { PhotoTile, PlaceholderTile } from './photo-tile';

/** Tiles drawn above and below the viewport, in pixels: enough to hide paging while scrolling, few enough to stay light. */
const OVERSCAN_PX = 360;
/** Below this tile size the name and caption are hidden, Lightroom-style. */
export const DETAILS_MIN_TILE = 150;

const SPACING: Omit<GridSpacing, 'bodyHeight'> = { gap: 12, padding: 16, headerHeight: 44, aspect: 0.75 };
const BODY_HEIGHT = 70;

export type GridKeyAction =
  | { kind: 'move'; index: number; extend: boolean; keepSelection: boolean }
  | { kind: 'open'; index: number }
  | { kind: 'preview'; index: number }
  | { kind: 'escape' }
  | { kind: 'select-all' }
  | { kind: 'toggle'; index: number };

type Props = {
  source: PhotoSource;
  mediaBase: string;
  tileSize: number;
  groupByMonth: boolean;
  selected: ReadonlySet<number>;
  activeIndex: number;
  failures: ReadonlyMap<number, JobFailure>;
  onPointer(index: number, e: MouseEvent): void;
  onOpen(index: number): void;
  onKeyAction(action: GridKeyAction): void;
  /** Where the grid is, for tests and the status line: first and last visible item. */
  onVisibleRange?(start: number, end: number): void;
  /** Bump to bring the active tile into view again (e.g. after the photo view closes). */
  revealKey?: number;
};

/** Month keys, worked out once per item object (items are replaced, never mutated, when they change). */
const monthCache = new WeakMap<object, string | null>();
function monthOf(item: { takenAt: string | null }): string | null {
  let key = monthCache.get(item);
  if (key === undefined) {
    key = monthKey(item.takenAt);
    monthCache.set(item, key);
  }
  return key;
}

function useElementSize(ref: RefObject<HTMLElement | null>): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setSize((s) => (s.width === el.clientWidth && s.height === el.clientHeight ? s : { width: el.clientWidth, height: el.clientHeight }));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return size;
}

/**
 * The photo grid, virtualized: only the rows on screen (plus a margin) are in the DOM, so 100,000 photos
 * scroll like 100. A listbox (multi-select) that keeps focus itself and points at the active tile with
 * aria-activedescendant, since tiles come and go as the grid scrolls.
 */
export function VirtualGrid({ source, mediaBase, tileSize, groupByMonth, selected, activeIndex, failures, onPointer, onOpen, onKeyAction, onVisibleRange, revealKey }: Props) {
  const scrollRef = useRef<HTMLDivElement | null>(null);
  const { width, height: viewHeight } = useElementSize(scrollRef);
  const [scrollTop, setScrollTop] = useState(0);
  const showBody = tileSize >= DETAILS_MIN_TILE;

  const metrics = useMemo(() => gridMetrics(width || 800, tileSize, { ...SPACING, bodyHeight: showBody ? BODY_HEIGHT : 0 }), [width, tileSize, showBody]);
  // Searches and "photos like this one" are in order of relevance: month headers would break that order up.
  const grouped = groupByMonth && source.request !== null && !source.query && source.request.similarTo === undefined && source.request.sort === 'taken';
  const { total, itemAt, nextLoaded, version } = source;
  const layout: GridLayout = useMemo(
    () =>
      buildGridLayout(
        total,
        metrics,
        grouped ? (i) => {
          const item = itemAt(i);
          return item === undefined ? undefined : monthOf(item);
        } : undefined,
        nextLoaded,
      ),
    // `version` changes whenever items arrive, which is when the month headers can change.
    [total, metrics, grouped, itemAt, nextLoaded, version],
  );

  // Past MAX_SCROLL_HEIGHT (about 600,000 photos) the canvas is squeezed: scrollTop and layout y differ.
  const scale = useMemo(() => scrollScale(layout.height, viewHeight || 800), [layout.height, viewHeight]);

  const anchor = useRef<{ index: number; offset: number } | null>(null);

  // A new result set starts at the top.
  useLayoutEffect(() => {
    if (scrollRef.current) scrollRef.current.scrollTop = 0;
    setScrollTop(0);
    anchor.current = null;
  }, [source.key]);

  // Keep the photo at the top of the view in place when rows above it change (headers appear as pages load,
  // the window is resized, the tile size changes).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const a = anchor.current;
    if (!el || !a) return;
    const rect = tileRect(layout, a.index);
    if (!rect) return;
    const wanted = scale.toScroll(Math.max(0, rect.y - a.offset));
    if (Math.abs(wanted - el.scrollTop) > 1) {
      el.scrollTop = wanted;
      setScrollTop(el.scrollTop);
    }
  }, [layout, scale]);

  const rememberAnchor = useCallback(
    (scrollTop: number) => {
      const top = scale.toLayout(scrollTop);
      const r = rowAt(layout, top);
      const range = r < layout.rows.length ? itemRangeOfRows(layout, r, Math.min(layout.rows.length - 1, r + 2)) : null;
      if (!range || top <= 0) {
        anchor.current = null;
        return;
      }
      const rect = tileRect(layout, range[0]);
      anchor.current = rect ? { index: range[0], offset: rect.y - top } : null;
    },
    [layout, scale],
  );

  const rowsAt = useCallback(
    (scrollTop: number) => {
      const top = scale.toLayout(scrollTop);
      return visibleRowRange(layout, Math.max(0, top - OVERSCAN_PX), top + (viewHeight || 800) + OVERSCAN_PX);
    },
    [layout, viewHeight, scale],
  );

  // Scrolling itself is the browser's job; React renders only when a row enters or leaves the drawn band.
  const frame = useRef(0);
  const renderedTop = useRef(0);
  renderedTop.current = scrollTop;
  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scrollRef.current;
      if (!el) return;
      rememberAnchor(el.scrollTop);
      const now = rowsAt(el.scrollTop);
      const drawn = rowsAt(renderedTop.current);
      if (now?.[0] !== drawn?.[0] || now?.[1] !== drawn?.[1]) setScrollTop(el.scrollTop);
    });
  }, [rememberAnchor, rowsAt]);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const rows = rowsAt(scrollTop);
  const items = rows ? itemRangeOfRows(layout, rows[0], rows[1]) : null;
  const itemStart = items?.[0] ?? 0;
  const itemEnd = items?.[1] ?? 0;

  useEffect(() => {
    if (itemEnd > itemStart) source.ensureRange(itemStart, itemEnd);
    onVisibleRange?.(itemStart, itemEnd);
  }, [source, itemStart, itemEnd, onVisibleRange]);

  // The active tile is always brought into view (keyboard moves, returning from the photo view).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || activeIndex < 0) return;
    const rect = tileRect(layout, activeIndex);
    if (!rect) return;
    const top = scale.toLayout(el.scrollTop);
    const next = scrollToReveal(rect, top, el.clientHeight, 8);
    if (next !== top) {
      el.scrollTop = scale.toScroll(next);
      setScrollTop(el.scrollTop);
      rememberAnchor(el.scrollTop);
    }
    // Only when the cursor moves, not on every layout change: `layout` is read, not a dependency.
  }, [activeIndex, revealKey]);

  const pageRows = Math.max(1, Math.floor((viewHeight || 800) / (metrics.tileHeight + metrics.gap)) - 1);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const mod = e.ctrlKey || e.metaKey;
    if (isNavKey(e.key)) {
      e.preventDefault();
      const next = navigate(layout, activeIndex, e.key, pageRows);
      if (next >= 0) onKeyAction({ kind: 'move', index: next, extend: e.shiftKey, keepSelection: mod });
    } else if (e.key === 'Enter' && activeIndex >= 0) {
      e.preventDefault();
      onKeyAction({ kind: 'open', index: activeIndex });
    } else if (e.key === ' ' && activeIndex >= 0) {
      e.preventDefault();
      onKeyAction(mod ? { kind: 'toggle', index: activeIndex } : { kind: 'preview', index: activeIndex });
    } else if (e.key === 'Escape') {
      onKeyAction({ kind: 'escape' });
    } else if (mod && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      onKeyAction({ kind: 'select-all' });
    }
  };

  // The month of the first photo on screen, pinned to the top while scrolling (headers scroll away).
  let stickyMonth: string | null = null;
  if (grouped) {
    const top = rowAt(layout, scale.toLayout(scrollTop));
    const range = top < layout.rows.length ? itemRangeOfRows(layout, top, Math.min(layout.rows.length - 1, top + 1)) : null;
    const first = range ? itemAt(range[0]) : undefined;
    if (first) stickyMonth = formatMonth(monthOf(first));
  }

  const activeItem = activeIndex >= 0 ? itemAt(activeIndex) : undefined;
  // Layout y minus this is where a row is drawn on the canvas (0 unless the canvas is squeezed).
  const shift = scale.toLayout(scrollTop) - scrollTop;
  const children: ReactNode[] = [];
  if (rows) {
    for (let r = rows[0]; r <= rows[1]; r++) {
      const row = layout.rows[r]!;
      if (row.kind === 'header') {
        children.push(
          <div key={`h${r}-${row.group ?? 'none'}`} className="grid-header" aria-hidden="true" style={{ transform: `translateY(${row.y - shift}px)`, height: row.height }}>
            <span className="grid-header__label">{formatMonth(row.group)}</span>
          </div>,
        );
        continue;
      }
      for (let i = row.start; i < row.start + row.count; i++) {
        const laid = tileRect(layout, i)!;
        const rect = shift === 0 ? laid : { ...laid, y: laid.y - shift };
        const item = itemAt(i);
        children.push(
          item ? (
            <PhotoTile
              key={item.id}
              index={i}
              photo={item}
              rect={rect}
              mediaBase={mediaBase}
              selected={selected.has(item.id)}
              active={i === activeIndex}
              showBody={showBody}
              failure={failures.get(item.id)}
              onPointer={onPointer}
              onOpen={onOpen}
            />
          ) : (
            <PlaceholderTile key={`p${i}`} rect={rect} />
          ),
        );
      }
    }
  }

  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      role="listbox"
      aria-label="Photos"
      aria-multiselectable="true"
      aria-busy={source.loading}
      aria-activedescendant={activeItem ? `photo-option-${activeItem.id}` : undefined}
      tabIndex={0}
      onScroll={onScroll}
      onKeyDown={onKeyDown}
      data-total={total}
    >
      {stickyMonth && scrollTop > metrics.headerHeight && (
        <div className="grid-sticky" aria-hidden="true" data-testid="sticky-month">
          <span className="grid-sticky__label">{stickyMonth}</span>
        </div>
      )}
      <div className="grid-canvas" style={{ height: scale.canvasHeight }}>
        {children}
      </div>
    </div>
  );
}
