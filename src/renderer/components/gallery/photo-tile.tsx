import { memo, useState, type MouseEvent } from 'react';
import type { JobFailure } from '../../../shared/api';
import { thumbUrl } from '../../../shared/media-url';
import type { TileRect } from '../../lib/grid-layout';
import { highlightParts } from '../../lib/highlight';
import type { GalleryItem } from '../../hooks/use-photo-source';
import { BrokenImageIcon, CheckIcon, DotIcon, PencilIcon, AlertIcon } from '../icons';

const STATUS_LABEL = { broken: 'Broken', unsupported: 'Unsupported', missing: 'Missing' } as const;

export type TileProps = {
  index: number;
  photo: GalleryItem;
  rect: TileRect;
  mediaBase: string;
  selected: boolean;
  active: boolean;
  showBody: boolean;
  failure: JobFailure | undefined;
  onPointer(index: number, e: MouseEvent): void;
  onOpen(index: number): void;
};

/** Search by meaning found this photo although no word of the query is in its caption, tags, chats or names. */
function matchedByMeaningOnly(photo: GalleryItem): boolean {
  return 'matchedBy' in photo && photo.matchedBy === 'meaning';
}

function Caption({ photo }: { photo: GalleryItem }) {
  const highlight = 'highlight' in photo ? photo.highlight : null;
  if (highlight) {
    return (
      <p className="tile__caption">
        {highlightParts(highlight).map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
      </p>
    );
  }
  if (photo.caption) return <p className="tile__caption">{photo.caption}</p>;
  return <p className="tile__caption tile__caption--none">No caption yet</p>;
}

/** What a screen reader says for a tile: name, caption, and anything wrong with it. */
function tileLabel(photo: GalleryItem, failure: JobFailure | undefined): string {
  const parts = [photo.fileName];
  if (photo.status !== 'ok') parts.push(`${STATUS_LABEL[photo.status]}: ${photo.statusReason ?? 'cannot be shown'}`);
  else if (photo.caption) parts.push(photo.caption);
  else parts.push('no caption');
  if (photo.captionSource === 'user') parts.push('caption edited');
  if (failure) parts.push(`captioning failed: ${failure.error ?? 'unknown reason'}`);
  if (matchedByMeaningOnly(photo)) parts.push('matches by meaning');
  return parts.join(', ');
}

/**
 * One photo in the grid: thumbnail by id through the media route, name and caption, badges for what needs
 * attention (broken file, failed captioning with the reason on hover, edited caption, no caption yet).
 * An option of the grid's listbox: the listbox keeps focus and points at the active tile.
 */
export const PhotoTile = memo(function PhotoTile({ index, photo, rect, mediaBase, selected, active, showBody, failure, onPointer, onOpen }: TileProps) {
  const [failed, setFailed] = useState(false);
  const problem = photo.status === 'ok' ? null : photo.status;
  const reason = photo.statusReason ?? (problem ? `This file is ${problem}.` : '');
  const classes = ['tile', problem && 'tile--problem', selected && 'tile--selected', active && 'tile--active'].filter(Boolean).join(' ');

  return (
    <div
      role="option"
      id={`photo-option-${photo.id}`}
      aria-selected={selected}
      aria-label={tileLabel(photo, failure)}
      className={classes}
      data-status={photo.status}
      data-photo-id={photo.id}
      data-index={index}
      title={photo.relPath}
      style={{ transform: `translate(${rect.x}px, ${rect.y}px)`, width: rect.width, height: rect.height }}
      onMouseDown={(e) => onPointer(index, e)}
      onDoubleClick={() => onOpen(index)}
    >
      <div className="tile__frame">
        {problem === null && !failed ? (
          <img
            className="tile__img"
            src={thumbUrl(mediaBase, photo.id)}
            alt=""
            draggable={false}
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
        <span className="tile__chips">
          {failure && !problem && (
            <span className="chip chip--failed" title={`Captioning failed: ${failure.error ?? 'unknown reason'}`} data-badge="failed">
              <AlertIcon />
              Failed
            </span>
          )}
          {matchedByMeaningOnly(photo) && !showBody && (
            <span className="chip chip--meaning" title="Matches by meaning" data-badge="meaning">
              Meaning
            </span>
          )}
          {photo.captionSource === 'user' && (
            <span className="chip chip--edited" title="Caption edited by you" data-badge="edited">
              <PencilIcon />
            </span>
          )}
          {!problem && !photo.caption && !failure && (
            <span className="chip chip--uncaptioned" title="Not captioned yet" data-badge="uncaptioned">
              <DotIcon />
            </span>
          )}
        </span>
        <span className="tile__check" aria-hidden="true">
          <CheckIcon />
        </span>
      </div>
      {showBody && (
        <div className="tile__body">
          <p className="tile__name">{photo.fileName}</p>
          {problem ? (
            <p className="tile__reason" title={reason}>
              {reason}
            </p>
          ) : (
            <Caption photo={photo} />
          )}
          {matchedByMeaningOnly(photo) && (
            <p className="tile__why" data-match="meaning" title="No word of the search is in this photo’s caption, tags or name; it looks like what you searched for.">
              Matches by meaning
            </p>
          )}
        </div>
      )}
    </div>
  );
});

/** A tile whose page is still loading: same size, no content. */
export function PlaceholderTile({ rect }: { rect: TileRect }) {
  return (
    <div
      className="tile tile--loading"
      aria-hidden="true"
      style={{ transform: `translate(${rect.x}px, ${rect.y}px)`, width: rect.width, height: rect.height }}
    />
  );
}
