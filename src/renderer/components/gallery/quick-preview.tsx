import { thumbUrl } from '../../../shared/media-url';
import type { GalleryItem } from '../../hooks/use-photo-source';
import { formatTakenAt } from '../../lib/format';
import { BrokenImageIcon } from '../icons';

type Props = { photo: GalleryItem; mediaBase: string; position: string };

/**
 * Space in the grid: a large look at the active photo without leaving the grid (like Quick Look).
 * Focus stays in the grid, so the arrows keep moving through photos; Space or Escape closes it.
 */
export function QuickPreview({ photo, mediaBase, position }: Props) {
  return (
    <div className="quick-preview" role="dialog" aria-label={`Preview of ${photo.fileName}`} data-testid="quick-preview">
      <figure className="quick-preview__card">
        {photo.status === 'ok' ? (
          <img className="quick-preview__img" src={thumbUrl(mediaBase, photo.id, 'large')} alt={photo.caption ?? photo.fileName} />
        ) : (
          <div className="quick-preview__broken">
            <BrokenImageIcon />
            <span>{photo.statusReason ?? 'This file cannot be shown.'}</span>
          </div>
        )}
        <figcaption className="quick-preview__caption">
          <strong>{photo.fileName}</strong>
          <span>{[position, formatTakenAt(photo.takenAt)].filter(Boolean).join(' · ')}</span>
          {photo.caption && <span className="quick-preview__text">{photo.caption}</span>}
          <span className="quick-preview__hint">Space or Esc to close · Enter to open</span>
        </figcaption>
      </figure>
    </div>
  );
}
