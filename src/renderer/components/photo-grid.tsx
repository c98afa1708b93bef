import type { PhotoSummary, SearchHit } from '../../shared/api';
import { PhotoTile } from './photo-tile';

type Props = { photos: (PhotoSummary | SearchHit)[]; mediaBase: string };

/** A plain CSS grid for now; the desktop UI issue replaces it with a virtualized one behind the same props. */
export function PhotoGrid({ photos, mediaBase }: Props) {
  return (
    <ul className="photo-grid" aria-label="Photos">
      {photos.map((p) => (
        <PhotoTile key={p.id} photo={p} mediaBase={mediaBase} />
      ))}
    </ul>
  );
}
