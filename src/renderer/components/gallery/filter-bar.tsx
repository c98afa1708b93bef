import { CAPTION_FILTER_LABEL, type CaptionFilter, type GalleryFilters } from '../../lib/gallery-filters';
import { CloseIcon, FolderIcon } from '../icons';

type Props = {
  filters: GalleryFilters;
  onChange(filters: GalleryFilters): void;
  onClear(): void;
};

/** Caption state and date range; the folder comes from the sidebar and shows here as a removable chip. */
export function FilterBar({ filters, onChange, onClear }: Props) {
  return (
    <div className="filter-bar" id="gallery-filters" role="group" aria-label="Filters">
      <label className="field-inline">
        <span className="field-inline__label">Show</span>
        <select className="select" aria-label="Show" value={filters.show} onChange={(e) => onChange({ ...filters, show: e.target.value as CaptionFilter })}>
          {(Object.keys(CAPTION_FILTER_LABEL) as CaptionFilter[]).map((k) => (
            <option key={k} value={k}>
              {CAPTION_FILTER_LABEL[k]}
            </option>
          ))}
        </select>
      </label>
      <label className="field-inline">
        <span className="field-inline__label">Taken from</span>
        <input
          type="date"
          className="input input--date"
          aria-label="Taken from"
          value={filters.from}
          max={filters.to || undefined}
          onChange={(e) => onChange({ ...filters, from: e.target.value })}
        />
      </label>
      <label className="field-inline">
        <span className="field-inline__label">to</span>
        <input
          type="date"
          className="input input--date"
          aria-label="Taken until"
          value={filters.to}
          min={filters.from || undefined}
          onChange={(e) => onChange({ ...filters, to: e.target.value })}
        />
      </label>
      {filters.folder && (
        <span className="filter-chip">
          <FolderIcon />
          {filters.folder.name}
          <button type="button" className="icon-button icon-button--small" aria-label={`Show all folders instead of ${filters.folder.name}`} onClick={() => onChange({ ...filters, folder: null })}>
            <CloseIcon />
          </button>
        </span>
      )}
      <button type="button" className="button button--link" onClick={onClear}>
        Clear filters
      </button>
    </div>
  );
}
