import { useCallback, useEffect, useState } from 'react';
import type { PhotoDetail } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type PhotoDetailState = {
  detail: PhotoDetail | null;
  reload(): void;
  /** Saves a user caption ('' clears it); resolves to the new detail, or null on failure. */
  setCaption(text: string): Promise<PhotoDetail | null>;
  revert(captionId: number): Promise<PhotoDetail | null>;
};

/** One photo with its EXIF and caption history; reloads when a caption for it arrives. */
export function usePhotoDetail(photoId: number | null, onError: (err: unknown) => void, onChanged?: (d: PhotoDetail) => void): PhotoDetailState {
  const api = useTandem();
  const [detail, setDetail] = useState<PhotoDetail | null>(null);

  const reload = useCallback(() => {
    if (photoId === null) return;
    api.invoke('photos.get', { id: photoId }).then((d) => {
      // Answers for a photo the user has already left are dropped.
      setDetail((cur) => (cur === null || cur.id === d.id || d.id === photoId ? d : cur));
    }, onError);
  }, [api, photoId, onError]);

  useEffect(() => {
    setDetail((cur) => (cur?.id === photoId ? cur : null));
    reload();
  }, [photoId, reload]);

  useTandemEvent('caption.added', (e) => {
    if (e.photoId === photoId) reload();
  });

  const apply = useCallback(
    async (p: Promise<PhotoDetail>) => {
      try {
        const d = await p;
        setDetail(d);
        onChanged?.(d);
        return d;
      } catch (err) {
        onError(err);
        return null;
      }
    },
    [onError, onChanged],
  );

  const setCaption = useCallback(
    (text: string) => (photoId === null ? Promise.resolve(null) : apply(api.invoke('captions.setUser', { photoId, text }))),
    [api, apply, photoId],
  );
  const revert = useCallback(
    (captionId: number) => (photoId === null ? Promise.resolve(null) : apply(api.invoke('captions.revert', { photoId, captionId }))),
    [api, apply, photoId],
  );

  return { detail: detail?.id === photoId ? detail : null, reload, setCaption, revert };
}
