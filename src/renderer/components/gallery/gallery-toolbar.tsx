import type { PhotoSort } from '../../../shared/api';
import { formatCount } from '../../lib/format';
import { DownloadIcon, FilterIcon, PencilIcon, SparkleIcon, CloseIcon } from '../icons';

type Props = {
  total: number;
  query: string;
  notice: string | null;
  loading: boolean;
  sort: PhotoSort;
  onSort(sort: PhotoSort): void;
  groupByMonth: boolean;
  onGroupByMonth(on: boolean): void;
  tileSize: number;
  onTileSize(size: number): void;
  filtersOpen: boolean;
  filterCount: number;
  onToggleFilters(): void;
  selectedCount: number;
  onClearSelection(): void;
  captionLabel: string;
  onCaption(): void;
  /** Opens the dataset export dialog (absent: no export button). */
  onExport?(): void;
  /** Writes captions and keywords of the selection / folder / library to files (absent: no button). */
  writeMetadataLabel?: string;
  onWriteMetadata?(): void;
};

export const TILE_SIZE_MIN = 96;
export const TILE_SIZE_MAX = 320;

const SORT_LABEL: Record<PhotoSort, string> = { taken: 'Date taken', name: 'File name', added: 'Recently added' };

/** Count and search notice on the left; captioning, filters, sort, grouping and tile size on the right. */
export function GalleryToolbar(p: Props) {
  const searching = p.query !== '';
  const count = searching ? `${formatCount(p.total, 'photo')} match “${p.query}”` : formatCount(p.total, 'photo');
  return (
    <div className="gallery-toolbar">
      <div className="gallery-toolbar__summary">
        {(p.total > 0 || !searching) && (
          <p className="gallery-toolbar__count" aria-live="polite" aria-busy={p.loading} data-testid="result-count">
            {count}
          </p>
        )}
        {p.notice && (
          <p className="gallery-toolbar__notice" role="status" data-testid="search-notice">
            {p.notice}
          </p>
        )}
        {p.selectedCount > 0 && (
          <span className="selection-pill" data-testid="selection-count">
            {formatCount(p.selectedCount, 'photo')} selected
            <button type="button" className="icon-button icon-button--small" aria-label="Clear selection" onClick={p.onClearSelection}>
              <CloseIcon />
            </button>
          </span>
        )}
      </div>
      <div className="gallery-toolbar__tools">
        <button type="button" className="button button--quiet button--small" onClick={p.onCaption}>
          <SparkleIcon />
          <span>{p.captionLabel}</span>
        </button>
        {p.onWriteMetadata && (
          <button type="button" className="button button--quiet button--small" onClick={p.onWriteMetadata} data-testid="write-metadata">
            <PencilIcon />
            <span>{p.writeMetadataLabel ?? 'Write captions to files'}</span>
          </button>
        )}
        {p.onExport && (
          <button type="button" className="button button--quiet button--small" onClick={p.onExport}>
            <DownloadIcon />
            <span>Export…</span>
          </button>
        )}
        <button
          type="button"
          className={`button button--quiet button--small${p.filterCount > 0 ? ' button--flagged' : ''}`}
          aria-expanded={p.filtersOpen}
          aria-controls="gallery-filters"
          onClick={p.onToggleFilters}
        >
          <FilterIcon />
          <span>Filters{p.filterCount > 0 ? ` (${p.filterCount})` : ''}</span>
        </button>
        <label className="field-inline">
          <span className="field-inline__label">Sort</span>
          <select
            className="select"
            aria-label="Sort by"
            value={searching ? 'relevance' : p.sort}
            disabled={searching}
            onChange={(e) => p.onSort(e.target.value as PhotoSort)}
          >
            {searching && <option value="relevance">Best match</option>}
            {(Object.keys(SORT_LABEL) as PhotoSort[]).map((s) => (
              <option key={s} value={s}>
                {SORT_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
        <label className="check-inline" title="Group photos by the month they were taken">
          <input
            type="checkbox"
            checked={p.groupByMonth}
            disabled={searching || p.sort !== 'taken'}
            onChange={(e) => p.onGroupByMonth(e.target.checked)}
          />
          <span>By month</span>
        </label>
        <label className="field-inline field-inline--slider">
          <span className="visually-hidden">Tile size</span>
          <span className="slider-glyph slider-glyph--small" aria-hidden="true" />
          <input
            type="range"
            className="slider"
            min={TILE_SIZE_MIN}
            max={TILE_SIZE_MAX}
            step={8}
            value={p.tileSize}
            aria-label="Tile size"
            aria-valuetext={`${p.tileSize} pixels`}
            onChange={(e) => p.onTileSize(Number(e.target.value))}
          />
          <span className="slider-glyph" aria-hidden="true" />
        </label>
      </div>
    </div>
  );
}
