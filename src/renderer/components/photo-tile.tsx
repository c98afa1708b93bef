import { memo, useState } from 'react';
import type { PhotoSummary, SearchHit } from '../../shared/api';
import { thumbUrl } from '../../shared/media-url';
import { highlightParts } from '../lib/highlight';
import { BrokenImageIcon } from './icons';

type Props = { photo: PhotoSummary | SearchHit; mediaBase: string };

const STATUS_LABEL = { broken: 'Broken', unsupported: 'Unsupported', missing: 'Missing' } as const;

function Caption({ photo }: { photo: PhotoSummary | SearchHit }) {
  const highlight = 'highlight' in photo ? photo.highlight : null;
  if (highlight) {
    return (
      <p className="tile__caption">
        {highlightParts(highlight).map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
      </p>
    );
  }
  if (photo.caption) return <p className="tile__caption">{photo.caption}</p>;
  return null;
}

/** Folder and pixel size: enough to tell apart photos that share a name. */
function tileMeta(photo: PhotoSummary): string {
  const parts: string[] = [];
  if (photo.folder) parts.push(photo.folder);
  if (photo.width && photo.height) parts.push(`${photo.width} × ${photo.height}`);
  // A non-breaking space keeps the line, so names line up across the row.
  return parts.join(' · ') || '\u00a0';
}

/** One photo in the grid: thumbnail (by id, through the media route), name, caption, and a badge when it cannot be shown. */
export const PhotoTile = memo(function PhotoTile({ photo, mediaBase }: Props) {
  const [failed, setFailed] = useState(false);
  const problem = photo.status === 'ok' ? null : photo.status;
  const reason = photo.statusReason ?? (problem ? `This file is ${problem}.` : '');

  return (
    <li className={`tile${problem ? ' tile--problem' : ''}`} data-status={photo.status} data-photo-id={photo.id} title={photo.relPath}>
      <div className="tile__frame">
        {problem === null && !failed ? (
          <img
            className="tile__img"
            src={thumbUrl(mediaBase, photo.id)}
            alt={photo.caption ?? photo.fileName}
            loading="lazy"
            decoding="async"
            onError={() => setFailed(true)}
          />
        ) : (
          <div className="tile__placeholder">
            <BrokenImageIcon />
            <span>{problem ? 'Cannot show this file' : 'Thumbnail unavailable'}</span>
          </div>
        )}
        {problem && (
          <span className={`badge badge--${problem}`} title={reason} aria-label={`${STATUS_LABEL[problem]}: ${reason}`}>
            {STATUS_LABEL[problem]}
          </span>
        )}
      </div>
      <div className="tile__body">
        <p className="tile__name">{photo.fileName}</p>
        <p className="tile__meta">{tileMeta(photo)}</p>
        {problem ? (
          <p className="tile__reason" title={reason}>
            {reason}
          </p>
        ) : (
          <Caption photo={photo} />
        )}
      </div>
    </li>
  );
});
