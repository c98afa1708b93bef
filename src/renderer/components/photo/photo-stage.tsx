import { useEffect, useRef, useState, type MouseEvent } from 'react';
import { photoUrl, thumbUrl } from '../../../shared/media-url';
import type { PhotoSummary } from '../../../shared/api';
import { BrokenImageIcon } from '../icons';

export type Zoom = 'fit' | 'actual';

type Props = { photo: PhotoSummary; mediaBase: string; zoom: Zoom; onZoom(zoom: Zoom): void };

/**
 * The photo, fitted to the space or at 100% (actual pixels, drag or scroll to pan). Never a blank while
 * it waits: the grid's small thumbnail (already in the browser cache) shows at once, the large preview
 * (made on first view by the core, so it may take a moment) covers it when it arrives, and the original
 * covers both.
 */
export function PhotoStage({ photo, mediaBase, zoom, onZoom }: Props) {
  const [loaded, setLoaded] = useState(false);
  const [previewLoaded, setPreviewLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  const stage = useRef<HTMLDivElement | null>(null);
  const drag = useRef<{ x: number; y: number; left: number; top: number; moved: boolean } | null>(null);

  useEffect(() => {
    setLoaded(false);
    setPreviewLoaded(false);
    setFailed(false);
  }, [photo.id]);

  // At 100%, start from the middle of the photo, where the subject usually is.
  useEffect(() => {
    const el = stage.current;
    if (!el || zoom !== 'actual' || !loaded) return;
    el.scrollLeft = (el.scrollWidth - el.clientWidth) / 2;
    el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
  }, [zoom, loaded, photo.id]);

  if (photo.status !== 'ok' || failed) {
    return (
      <div className="photo-stage photo-stage--broken" data-testid="photo-stage">
        <BrokenImageIcon />
        <p>{photo.statusReason ?? 'This photo cannot be shown.'}</p>
      </div>
    );
  }

  const onMouseDown = (e: MouseEvent) => {
    const el = stage.current;
    if (!el || zoom !== 'actual' || e.button !== 0) return;
    drag.current = { x: e.clientX, y: e.clientY, left: el.scrollLeft, top: el.scrollTop, moved: false };
  };
  const onMouseMove = (e: MouseEvent) => {
    const el = stage.current;
    const d = drag.current;
    if (!el || !d) return;
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true;
    el.scrollLeft = d.left - dx;
    el.scrollTop = d.top - dy;
  };
  const onMouseUp = () => {
    const d = drag.current;
    drag.current = null;
    // A click (not a drag) toggles the zoom, as in most photo viewers.
    if (!d?.moved) onZoom(zoom === 'fit' ? 'actual' : 'fit');
  };

  return (
    <div
      ref={stage}
      className={`photo-stage photo-stage--${zoom}`}
      data-testid="photo-stage"
      data-zoom={zoom}
      onMouseDown={onMouseDown}
      onMouseMove={onMouseMove}
      onMouseUp={onMouseUp}
      onMouseLeave={() => (drag.current = null)}
    >
      {!loaded && zoom === 'fit' && !previewLoaded && (
        <img key={`s${photo.id}`} className="photo-stage__img photo-stage__img--preview" data-testid="photo-stage-thumb" src={thumbUrl(mediaBase, photo.id, 'small')} alt="" />
      )}
      {!loaded && zoom === 'fit' && (
        <img
          key={`l${photo.id}`}
          className={`photo-stage__img photo-stage__img--preview${previewLoaded ? '' : ' photo-stage__img--loading'}`}
          data-testid="photo-stage-preview"
          data-loaded={previewLoaded}
          src={thumbUrl(mediaBase, photo.id, 'large')}
          alt=""
          onLoad={() => setPreviewLoaded(true)}
        />
      )}
      {/* At 100% the canvas is at least the stage's size, so a small photo sits in the middle and a large one scrolls. */}
      <div className="photo-stage__canvas">
        <img
          key={photo.id}
          className={`photo-stage__img${loaded ? '' : ' photo-stage__img--loading'}`}
          src={photoUrl(mediaBase, photo.id)}
          alt={photo.caption ?? photo.fileName}
          draggable={false}
          onLoad={() => setLoaded(true)}
          onError={() => setFailed(true)}
        />
      </div>
    </div>
  );
}
