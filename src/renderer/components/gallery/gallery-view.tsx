import { useCallback, useEffect, useState } from 'react';
import type { JobFailure } from '../../../shared/api';
import type { GalleryPrefs } from '../../hooks/use-gallery-prefs';
import type { GallerySelection } from '../../hooks/use-gallery-selection';
import type { PhotoSource } from '../../hooks/use-photo-source';
import { activeFilterCount, describeFilters, NO_FILTERS, type GalleryFilters } from '../../lib/gallery-filters';
import { formatNumber } from '../../lib/format';
import { EmptyState } from '../empty-state';
import { FilterBar } from './filter-bar';
import { GalleryToolbar } from './gallery-toolbar';
import { QuickPreview } from './quick-preview';
import { VirtualGrid, type GridKeyAction } from './virtual-grid';

type Props = {
  source: PhotoSource;
  mediaBase: string;
  prefs: GalleryPrefs;
  onPrefs(patch: Partial<GalleryPrefs>): void;
  filters: GalleryFilters;
  onFilters(filters: GalleryFilters): void;
  selection: GallerySelection;
  failures: ReadonlyMap<number, JobFailure>;
  scanning: boolean;
  onOpen(index: number): void;
  /** Captions the selection, else the folder in view, else every photo without a caption. */
  onCaption(scope: 'selection' | 'folder' | 'missing'): void;
  onExport?(): void;
  /** Writes captions and keywords to files: the selection, else the folder in view, else the whole library. */
  onWriteMetadata?(scope: 'selection' | 'folder' | 'all'): void;
  revealKey: number;
};

/** The library grid with its toolbar, filters, empty states and Space preview. */
export function GalleryView({
  source, mediaBase, prefs, onPrefs, filters, onFilters, selection, failures, scanning, onOpen, onCaption, onExport, onWriteMetadata, revealKey,
}: Props) {
  const [filtersOpen, setFiltersOpen] = useState(activeFilterCount(filters) > 0);
  const [previewIndex, setPreviewIndex] = useState<number | null>(null);
  const { activeIndex } = selection;
  const selectedCount = selection.selection.ids.size;

  useEffect(() => setPreviewIndex(null), [source.key]);
  // The preview follows the cursor.
  useEffect(() => {
    setPreviewIndex((p) => (p === null ? null : activeIndex));
  }, [activeIndex]);

  const onKeyAction = useCallback(
    (a: GridKeyAction) => {
      switch (a.kind) {
        case 'move':
          selection.move(a.index, a.extend, a.keepSelection);
          break;
        case 'open':
          setPreviewIndex(null);
          onOpen(a.index);
          break;
        case 'preview':
          setPreviewIndex((p) => (p === null ? a.index : null));
          break;
        case 'toggle':
          selection.toggle(a.index);
          break;
        case 'select-all':
          void selection.selectAll();
          break;
        case 'escape':
          if (previewIndex !== null) setPreviewIndex(null);
          else selection.clear();
          break;
      }
    },
    [selection, onOpen, previewIndex],
  );

  const previewItem = previewIndex !== null ? source.itemAt(previewIndex) : undefined;
  const described = describeFilters(filters);
  const captionScope = selectedCount > 0 ? 'selection' : filters.folder ? 'folder' : 'missing';
  const captionLabel =
    captionScope === 'selection' ? `Caption ${formatNumber(selectedCount)} selected` : captionScope === 'folder' ? `Caption ${filters.folder!.name}` : 'Caption new photos';
  const writeScope = captionScope === 'missing' ? 'all' : captionScope;
  const writeLabel =
    writeScope === 'selection' ? `Write ${formatNumber(selectedCount)} to files` : writeScope === 'folder' ? `Write ${filters.folder!.name} to files` : 'Write captions to files';

  let body;
  if (source.total > 0) {
    body = (
      <VirtualGrid
        source={source}
        mediaBase={mediaBase}
        tileSize={prefs.tileSize}
        groupByMonth={prefs.groupByMonth}
        selected={selection.selection.ids}
        activeIndex={activeIndex}
        failures={failures}
        onPointer={selection.pointer}
        onOpen={onOpen}
        onKeyAction={onKeyAction}
        revealKey={revealKey}
      />
    );
  } else if (source.loading && source.request === null) {
    body = null;
  } else if (source.query) {
    body = (
      <EmptyState kind="no-matches" title={`No photos match “${source.query}”`}>
        <p className="empty-state__text">
          {described ? `Searched ${described}. ` : ''}Try fewer or different words; searches cover captions, file names, folders and chats.
        </p>
      </EmptyState>
    );
  } else if (described) {
    body = (
      <EmptyState kind="no-matches" title="No photos match these filters">
        <p className="empty-state__text">Showing {described}.</p>
        <button type="button" className="button button--quiet" onClick={() => onFilters(NO_FILTERS)}>
          Clear filters
        </button>
      </EmptyState>
    );
  } else {
    body = <EmptyState kind="no-photos" title={scanning ? 'Indexing your photos…' : 'No photos in your library folders yet'} />;
  }

  return (
    <section className="gallery" aria-label="Gallery">
      <GalleryToolbar
        total={source.total}
        query={source.query}
        notice={source.notice}
        loading={source.loading}
        sort={prefs.sort}
        onSort={(sort) => onPrefs({ sort })}
        groupByMonth={prefs.groupByMonth}
        onGroupByMonth={(groupByMonth) => onPrefs({ groupByMonth })}
        tileSize={prefs.tileSize}
        onTileSize={(tileSize) => onPrefs({ tileSize })}
        filtersOpen={filtersOpen}
        filterCount={activeFilterCount(filters)}
        onToggleFilters={() => setFiltersOpen((o) => !o)}
        selectedCount={selectedCount}
        onClearSelection={selection.clear}
        captionLabel={captionLabel}
        onCaption={() => onCaption(captionScope)}
        {...(onExport ? { onExport } : {})}
        {...(onWriteMetadata ? { onWriteMetadata: () => onWriteMetadata(writeScope), writeMetadataLabel: writeLabel } : {})}
      />
      {filtersOpen && <FilterBar filters={filters} onChange={onFilters} onClear={() => onFilters(NO_FILTERS)} />}
      <div className={`gallery__body${source.loading ? ' gallery__body--loading' : ''}`}>{body}</div>
      {previewItem && <QuickPreview photo={previewItem} mediaBase={mediaBase} position={`${formatNumber((previewIndex ?? 0) + 1)} of ${formatNumber(source.total)}`} />}
    </section>
  );
}
