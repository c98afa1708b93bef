import { useCallback, useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { AppSettings, CaptionEntry, ModelEntry, PhotoDetail } from '../../../shared/api';
import type { Jobs } from '../../hooks/use-jobs';
import { useNotices } from '../../hooks/use-notices';
import type { PhotoSource } from '../../hooks/use-photo-source';
import { usePhotoDetail } from '../../hooks/use-photo-detail';
import { useTandem } from '../../hooks/use-tandem';
import { shownEntryId, sourceKind } from '../../lib/caption-history';
import { formatNumber } from '../../lib/format';
import { thumbUrl } from '../../../shared/media-url';
import { ChatPanel } from '../chat/chat-panel';
import { ChatIcon, ChevronLeftIcon, ChevronRightIcon, CloseIcon, ListIcon } from '../icons';
import { CaptionEditor } from './caption-editor';
import { CaptionHistory } from './caption-history';
import { ExifPanel } from './exif-panel';
import { PhotoStage, type Zoom } from './photo-stage';
import { RegenerateForm } from './regenerate-form';
import { TagEditor } from './tag-editor';
import { VqaAsk } from './vqa-ask';

type Tab = 'details' | 'chat';

type Props = {
  source: PhotoSource;
  index: number;
  onIndex(index: number): void;
  onClose(): void;
  mediaBase: string;
  models: ModelEntry[];
  settings: AppSettings | null;
  jobs: Jobs;
  tab: Tab;
  onTab(tab: Tab): void;
  /** A caption was saved, reverted or undone (library counts may have changed). */
  onCaptionChanged?(): void;
  /** "Find similar photos" (search by meaning is on and photos are embedded); absent hides the button. */
  onFindSimilar?(photo: { id: number; fileName: string }): void;
};

/** Keys typed into a field belong to the field, not to the photo view's shortcuts. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || target.isContentEditable) return true;
  if (target instanceof HTMLInputElement) return !['radio', 'checkbox', 'button', 'submit', 'range'].includes(target.type);
  return false;
}

/** Arrow keys that a focused control uses itself (tabs, radio groups, sliders). */
function ownsArrows(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.getAttribute('role') === 'tab' || (target instanceof HTMLInputElement && (target.type === 'radio' || target.type === 'range'));
}

/**
 * One photo, large: fit or 100%, the caption editable in place, its history with revert, regenerate, a quick
 * BLIP question, EXIF, and the chat beside it. ←/→ move through the current results, Esc goes back.
 */
export function PhotoView({ source, index, onIndex, onClose, mediaBase, models, settings, jobs, tab, onTab, onCaptionChanged, onFindSimilar }: Props) {
  const api = useTandem();
  const { reportError, toast } = useNotices();
  const root = useRef<HTMLDivElement | null>(null);
  const [zoom, setZoom] = useState<Zoom>('fit');
  const [editRequest, setEditRequest] = useState(0);
  const [reverting, setReverting] = useState(false);
  const [regenerateSince, setRegenerateSince] = useState<number | null>(null);
  const undo = useRef<{ photoId: number; previous: CaptionEntry | null } | null>(null);

  const item = source.itemAt(index);
  const photoId = item?.id ?? null;
  const patchGrid = useCallback(
    (d: PhotoDetail) => {
      source.patch(d.id, { caption: d.caption, captionSource: d.captionSource });
      onCaptionChanged?.();
    },
    [source, onCaptionChanged],
  );
  const { detail, setCaption, revert, reload } = usePhotoDetail(photoId, reportError, patchGrid);

  useEffect(() => {
    root.current?.focus();
  }, []);

  // Keep neighbours loaded, so ←/→ never wait for a page.
  useEffect(() => {
    source.ensureRange(Math.max(0, index - 1), index + 2);
  }, [source, index]);

  // Ask for the neighbours' large previews now: the core makes each on first view, so ←/→ find it made.
  // Only photos that have one: a broken file's preview would be a 404 in the console.
  const okId = (i: number) => {
    const it = source.itemAt(i);
    return it?.status === 'ok' ? it.id : undefined;
  };
  const prevId = okId(index - 1);
  const nextId = okId(index + 1);
  useEffect(() => {
    for (const id of [nextId, prevId]) {
      if (id === undefined) continue;
      const img = new Image();
      img.src = thumbUrl(mediaBase, id, 'large');
    }
  }, [prevId, nextId, mediaBase]);

  // A photo the user is looking at jumps the caption queue.
  useEffect(() => {
    if (photoId !== null && item && !item.caption && item.status === 'ok') api.invoke('jobs.prioritize', { photoId }).catch(() => undefined);
    setZoom('fit');
    setRegenerateSince(null);
    // Only when another photo opens.
  }, [photoId]);

  const go = useCallback(
    (delta: number) => {
      const next = index + delta;
      if (next < 0 || next >= source.total) return;
      void source.loadRange(next, next + 1).then(() => onIndex(next));
    },
    [index, source, onIndex],
  );

  const runUndo = useCallback(async () => {
    const u = undo.current;
    if (!u) return;
    undo.current = null;
    try {
      const d = u.previous
        ? await api.invoke('captions.revert', { photoId: u.photoId, captionId: u.previous.id })
        : await api.invoke('captions.setUser', { photoId: u.photoId, text: '' });
      patchGrid(d);
      if (d.id === photoId) reload();
      toast('Caption change undone');
    } catch (err) {
      reportError(err);
    }
  }, [api, patchGrid, photoId, reload, toast, reportError]);

  const saveCaption = useCallback(
    async (text: string) => {
      if (!detail) return false;
      const shown = shownEntryId(detail.captions);
      const previous = detail.captions.find((c) => c.id === shown) ?? null;
      const d = await setCaption(text);
      if (!d) return false;
      undo.current = { photoId: d.id, previous };
      toast(text ? 'Caption saved' : 'Caption cleared', { label: 'Undo', run: () => void runUndo() });
      return true;
    },
    [detail, setCaption, toast, runUndo],
  );

  const onRevert = useCallback(
    async (entry: CaptionEntry) => {
      if (!detail) return;
      const shown = shownEntryId(detail.captions);
      const previous = detail.captions.find((c) => c.id === shown) ?? null;
      setReverting(true);
      const d = await revert(entry.id);
      setReverting(false);
      if (d) {
        undo.current = { photoId: d.id, previous };
        toast('Caption reverted', { label: 'Undo', run: () => void runUndo() });
      }
    },
    [detail, revert, toast, runUndo],
  );

  const onRegenerate = useCallback(
    async (r: { model: string; numBeams: number; maxLength: number; prompt: string | null }) => {
      if (photoId === null || !detail) return false;
      const newest = detail.captions.reduce((n, c) => Math.max(n, c.id), 0);
      const started = await jobs.start({
        scope: { kind: 'photos', photoIds: [photoId] },
        model: r.model,
        settings: { numBeams: r.numBeams, maxLength: r.maxLength, prompt: r.prompt },
        regenerate: true,
      });
      if (!started) return false;
      api.invoke('jobs.prioritize', { photoId }).catch(() => undefined);
      setRegenerateSince(newest);
      return true;
    },
    [api, jobs, photoId, detail],
  );

  const arrived = regenerateSince !== null && !!detail?.captions.some((c) => c.id > regenerateSince && sourceKind(c.source) === 'model');

  const onKeyDown = (e: globalThis.KeyboardEvent) => {
    if (e.defaultPrevented) return;
    const typing = isTyping(e.target);
    const mod = e.ctrlKey || e.metaKey;
    if (e.key === 'Escape') {
      e.preventDefault();
      // Escape in a field with words in it leaves the field (the words stay); otherwise it closes the photo.
      const value = typing && 'value' in (e.target as object) ? String((e.target as HTMLInputElement).value) : '';
      if (value.trim()) root.current?.focus();
      else onClose();
    } else if (typing) {
      return;
    } else if ((e.key === 'ArrowLeft' || e.key === 'ArrowRight') && !mod && !ownsArrows(e.target)) {
      e.preventDefault();
      go(e.key === 'ArrowLeft' ? -1 : 1);
    } else if (mod && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      void runUndo();
    } else if (!mod && !e.altKey && e.key.toLowerCase() === 'e') {
      e.preventDefault();
      setEditRequest((n) => n + 1);
    } else if (!mod && !e.altKey && e.key.toLowerCase() === 'z') {
      setZoom((z) => (z === 'fit' ? 'actual' : 'fit'));
    }
  };

  // The view is modal: its shortcuts work wherever focus is (even when a control that had it went away).
  const keyHandler = useRef(onKeyDown);
  useEffect(() => {
    keyHandler.current = onKeyDown;
  });
  useEffect(() => {
    const listener = (e: globalThis.KeyboardEvent) => keyHandler.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      const next = tab === 'details' ? 'chat' : 'details';
      onTab(next);
      document.getElementById(`photo-tab-${next}`)?.focus();
    }
  };

  const userShown = detail?.captionSource === 'user' || detail?.captionSource === 'file';

  return (
    <div
      ref={root}
      className="photo-view"
      role="dialog"
      aria-modal="true"
      aria-label={item ? `Photo ${item.fileName}` : 'Photo'}
      tabIndex={-1}
      data-photo-id={photoId ?? undefined}
    >
      <header className="photo-view__bar">
        <button type="button" className="button button--quiet button--small" onClick={onClose} aria-label="Close photo" aria-keyshortcuts="Escape">
          <CloseIcon />
          <span>Library</span>
        </button>
        <div className="photo-view__title">
          <h2 className="photo-view__name">{item?.fileName ?? '…'}</h2>
          <span className="photo-view__position" data-testid="photo-position">
            {formatNumber(index + 1)} of {formatNumber(source.total)}
          </span>
        </div>
        <div className="photo-view__nav">
          <button type="button" className="icon-button" aria-label="Previous photo" aria-keyshortcuts="ArrowLeft" disabled={index <= 0} onClick={() => go(-1)}>
            <ChevronLeftIcon />
          </button>
          <button type="button" className="icon-button" aria-label="Next photo" aria-keyshortcuts="ArrowRight" disabled={index >= source.total - 1} onClick={() => go(1)}>
            <ChevronRightIcon />
          </button>
        </div>
        {onFindSimilar && item && (
          <button type="button" className="button button--quiet button--small" onClick={() => onFindSimilar({ id: item.id, fileName: item.fileName })}>
            Find similar photos
          </button>
        )}
        <div className="segmented segmented--buttons" role="group" aria-label="Zoom">
          <button type="button" className={`segmented__option${zoom === 'fit' ? ' segmented__option--on' : ''}`} aria-pressed={zoom === 'fit'} onClick={() => setZoom('fit')}>
            Fit
          </button>
          <button type="button" className={`segmented__option${zoom === 'actual' ? ' segmented__option--on' : ''}`} aria-pressed={zoom === 'actual'} onClick={() => setZoom('actual')}>
            100%
          </button>
        </div>
      </header>

      <div className="photo-view__main">
        <div className="photo-view__left">
          {item ? <PhotoStage photo={item} mediaBase={mediaBase} zoom={zoom} onZoom={setZoom} /> : <div className="photo-stage" />}
          <div className="caption-bar">
            <CaptionEditor detail={detail} onSave={saveCaption} editRequest={editRequest} />
          </div>
        </div>

        <aside className="photo-view__side" aria-label="About this photo">
          <div className="tabs" role="tablist" aria-label="Photo panels">
            <button
              type="button"
              id="photo-tab-details"
              role="tab"
              className="tabs__tab"
              aria-selected={tab === 'details'}
              aria-controls="photo-panel-details"
              tabIndex={tab === 'details' ? 0 : -1}
              onClick={() => onTab('details')}
              onKeyDown={onTabKey}
            >
              <ListIcon />
              Details
            </button>
            <button
              type="button"
              id="photo-tab-chat"
              role="tab"
              className="tabs__tab"
              aria-selected={tab === 'chat'}
              aria-controls="photo-panel-chat"
              tabIndex={tab === 'chat' ? 0 : -1}
              onClick={() => onTab('chat')}
              onKeyDown={onTabKey}
            >
              <ChatIcon />
              Chat
            </button>
          </div>
          {tab === 'details' ? (
            <div className="photo-view__panel" role="tabpanel" id="photo-panel-details" aria-labelledby="photo-tab-details">
              {detail && (
                <>
                  <section className="panel-section">
                    <h3 className="panel-section__title">Caption history</h3>
                    <CaptionHistory history={detail.captions} onRevert={(e) => void onRevert(e)} busy={reverting} />
                  </section>
                  <section className="panel-section">
                    <h3 className="panel-section__title">Keywords</h3>
                    <TagEditor photoId={detail.id} />
                  </section>
                  <details className="panel-section panel-section--collapsible">
                    <summary className="panel-section__title">Regenerate with…</summary>
                    <RegenerateForm models={models} settings={settings} userCaptionShown={userShown} onRegenerate={onRegenerate} arrived={arrived} />
                  </details>
                  {detail.status === 'ok' && (
                    <section className="panel-section">
                      <h3 className="panel-section__title">Quick question</h3>
                      <VqaAsk photoId={detail.id} />
                    </section>
                  )}
                  <section className="panel-section">
                    <h3 className="panel-section__title">Information</h3>
                    <ExifPanel detail={detail} />
                  </section>
                </>
              )}
            </div>
          ) : (
            <div className="photo-view__panel photo-view__panel--chat" role="tabpanel" id="photo-panel-chat" aria-labelledby="photo-tab-chat">
              {photoId !== null && <ChatPanel photoId={photoId} />}
            </div>
          )}
        </aside>
      </div>
    </div>
  );
}
