import { useEffect, useRef, useState } from 'react';
import type { ExportFormat, ExportOptions, ExportProgress, ExportScope, PhotoFilters } from '../../../shared/api';
import { useTandem, useTandemEvent } from '../../hooks/use-tandem';
import { formatCount, formatEta, formatNumber, formatRate, readableError } from '../../lib/format';
import { CloseIcon, FolderIcon } from '../icons';

/** What the dialog can export, from where the user is in the gallery. */
export type ExportContext = {
  selectedIds: readonly number[];
  query: string;
  filters: PhotoFilters;
  /** "in exif · captioned": the filters in words, '' for none. */
  filtersLabel: string;
  /** Photos the current search and filters show. */
  inView: number;
  /** Photos in the library. */
  libraryTotal: number | null;
};

type Props = { context: ExportContext; onClose(): void };
type ScopeChoice = 'selection' | 'view' | 'all';

const FORMAT_LABEL: Record<ExportFormat, string> = {
  txt: '.txt caption files (kohya, OneTrainer, TagGUI)',
  caption: '.caption caption files',
  csv: 'CSV manifest (metadata.csv)',
  jsonl: 'JSON Lines manifest (metadata.jsonl)',
};

type Phase = { kind: 'form' } | { kind: 'picking' } | { kind: 'running'; exportId: number; dest: string; total: number } | { kind: 'finished'; exportId: number; dest: string };

/**
 * Dataset export: which photos (selection, the current search and filters, or the whole library), what to write,
 * whether to copy, resize or hard-link the images, and where: the folder comes from the main process's picker as a grant.
 */
export function ExportDialog({ context, onClose }: Props) {
  const api = useTandem();
  const panel = useRef<HTMLDivElement | null>(null);
  const hasSelection = context.selectedIds.length > 0;
  const inViewDiffers = context.query !== '' || context.filtersLabel !== '';
  const [scope, setScope] = useState<ScopeChoice>(hasSelection ? 'selection' : inViewDiffers ? 'view' : 'all');
  const [formats, setFormats] = useState<ReadonlySet<ExportFormat>>(new Set<ExportFormat>(['txt']));
  const [images, setImages] = useState<ExportOptions['images']>('copy');
  const [maxSide, setMaxSide] = useState('1024');
  const [captions, setCaptions] = useState<ExportOptions['captions']>('shown');
  const [phase, setPhase] = useState<Phase>({ kind: 'form' });
  const [error, setError] = useState<string | null>(null);
  // Progress can arrive before export.start answers, so every export's latest event is kept by id.
  const [latest, setLatest] = useState<Record<number, ExportProgress>>({});

  useEffect(() => panel.current?.focus(), []);
  useTandemEvent('export.progress', (p) => setLatest((all) => ({ ...all, [p.exportId]: p })));

  const progress = phase.kind === 'running' ? latest[phase.exportId] : undefined;
  useEffect(() => {
    if (phase.kind === 'running' && progress && progress.phase !== 'exporting') {
      if (progress.phase === 'failed') setError(progress.error ?? 'The export failed.');
      setPhase({ kind: 'finished', exportId: phase.exportId, dest: phase.dest });
    }
  }, [phase, progress]);
  const finished = phase.kind === 'finished' ? latest[phase.exportId] : undefined;

  const side = maxSide.trim() === '' ? null : Number(maxSide);
  const sideInvalid = images === 'copy' && side !== null && !(Number.isInteger(side) && side >= 16 && side <= 16384);
  const scopeCount = scope === 'selection' ? context.selectedIds.length : scope === 'view' ? context.inView : (context.libraryTotal ?? 0);

  const toScope = (): ExportScope =>
    scope === 'selection'
      ? { kind: 'photos', photoIds: [...context.selectedIds] }
      : scope === 'view'
        ? { kind: 'search', query: context.query, filters: context.filters }
        : { kind: 'all' };

  const start = async () => {
    setError(null);
    setPhase({ kind: 'picking' });
    try {
      const picked = await api.invoke('dialog.pickFolder', { purpose: 'export' });
      if (!picked.grant) return setPhase({ kind: 'form' });
      const options: ExportOptions = {
        scope: toScope(),
        formats: [...formats],
        images,
        maxSide: images === 'copy' ? side : null,
        captions,
      };
      const r = await api.invoke('export.start', { grant: picked.grant, options });
      setPhase({ kind: 'running', exportId: r.exportId, dest: r.dest, total: r.total });
    } catch (err) {
      setError(readableError(err));
      setPhase({ kind: 'form' });
    }
  };

  const cancel = () => {
    if (phase.kind === 'running') api.invoke('export.cancel', { exportId: phase.exportId }).catch((err: unknown) => setError(readableError(err)));
  };
  const running = phase.kind === 'running' || phase.kind === 'picking';
  const close = () => {
    if (phase.kind === 'running') cancel();
    onClose();
  };

  // Escape closes from anywhere: a button that had focus may have been disabled, leaving focus on the page.
  const closeRef = useRef(close);
  useEffect(() => {
    closeRef.current = close;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        closeRef.current();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const toggleFormat = (f: ExportFormat, on: boolean) =>
    setFormats((cur) => {
      const next = new Set(cur);
      if (on) next.add(f);
      else next.delete(f);
      return next;
    });

  const viewLabel = [context.query ? `“${context.query}”` : '', context.filtersLabel].filter(Boolean).join(' · ') || 'everything shown';

  return (
    <div className="drawer-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !running && close()}>
      <div
        ref={panel}
        className="drawer export-dialog"
        role="dialog"
        aria-modal="true"
        aria-label="Export dataset"
        tabIndex={-1}
      >
        <header className="drawer__header">
          <h2 className="drawer__title">Export dataset</h2>
          <button type="button" className="icon-button" aria-label="Close export" onClick={close}>
            <CloseIcon />
          </button>
        </header>

        {phase.kind === 'form' || phase.kind === 'picking' ? (
          <form
            className="export-form"
            onSubmit={(e) => {
              e.preventDefault();
              void start();
            }}
          >
            <fieldset className="export-form__group">
              <legend className="panel-section__title">Photos</legend>
              {hasSelection && (
                <label className="check-inline">
                  <input type="radio" name="export-scope" checked={scope === 'selection'} onChange={() => setScope('selection')} />
                  <span>Selected ({formatNumber(context.selectedIds.length)})</span>
                </label>
              )}
              <label className="check-inline">
                <input type="radio" name="export-scope" checked={scope === 'view'} onChange={() => setScope('view')} />
                <span>
                  Current search and filters ({formatNumber(context.inView)}): {viewLabel}
                </span>
              </label>
              <label className="check-inline">
                <input type="radio" name="export-scope" checked={scope === 'all'} onChange={() => setScope('all')} />
                <span>Whole library{context.libraryTotal !== null ? ` (${formatNumber(context.libraryTotal)})` : ''}</span>
              </label>
            </fieldset>

            <fieldset className="export-form__group">
              <legend className="panel-section__title">Write</legend>
              {(Object.keys(FORMAT_LABEL) as ExportFormat[]).map((f) => (
                <label key={f} className="check-inline">
                  <input type="checkbox" checked={formats.has(f)} onChange={(e) => toggleFormat(f, e.target.checked)} />
                  <span>{FORMAT_LABEL[f]}</span>
                </label>
              ))}
              <label className="check-inline">
                <input type="checkbox" checked={captions === 'all'} onChange={(e) => setCaptions(e.target.checked ? 'all' : 'shown')} />
                <span>Every model’s caption too, one per line</span>
              </label>
            </fieldset>

            <fieldset className="export-form__group">
              <legend className="panel-section__title">Images</legend>
              <label className="check-inline">
                <input type="radio" name="export-images" checked={images === 'copy'} onChange={() => setImages('copy')} />
                <span>Copy into the export folder</span>
              </label>
              {images === 'copy' && (
                <label className="field-inline export-form__indent">
                  <span className="field-inline__label">Longest side at most</span>
                  <input
                    className="input input--number"
                    inputMode="numeric"
                    aria-label="Maximum side in pixels"
                    aria-invalid={sideInvalid}
                    value={maxSide}
                    placeholder="original"
                    onChange={(e) => setMaxSide(e.target.value)}
                  />
                  <span className="muted">px (empty: original size)</span>
                </label>
              )}
              <label className="check-inline">
                <input type="radio" name="export-images" checked={images === 'link'} onChange={() => setImages('link')} />
                <span>Hard-link (no extra space, original size)</span>
              </label>
              <label className="check-inline">
                <input type="radio" name="export-images" checked={images === 'none'} onChange={() => setImages('none')} />
                <span>Captions and manifests only</span>
              </label>
            </fieldset>

            {sideInvalid && (
              <p className="inline-error" role="alert">
                The longest side must be a whole number of pixels from 16 to 16384.
              </p>
            )}
            {error && (
              <p className="inline-error" role="alert">
                {error}
              </p>
            )}
            <div className="button-row">
              <button type="submit" className="button button--primary" disabled={formats.size === 0 || sideInvalid || scopeCount === 0 || phase.kind === 'picking'}>
                <FolderIcon />
                <span>{phase.kind === 'picking' ? 'Choosing a folder…' : `Choose folder and export ${formatCount(scopeCount, 'photo')}…`}</span>
              </button>
            </div>
          </form>
        ) : phase.kind === 'running' ? (
          <section className="export-run" aria-label="Export progress">
            <p>
              Exporting to <strong>{phase.dest}</strong>
            </p>
            <div
              className="progress"
              role="progressbar"
              aria-label="Export progress"
              aria-valuemin={0}
              aria-valuemax={phase.total}
              aria-valuenow={progress?.done ?? 0}
            >
              <div className="progress__bar" style={{ width: `${phase.total ? ((progress?.done ?? 0) / phase.total) * 100 : 0}%` }} />
            </div>
            <p className="muted" data-testid="export-count">
              {formatNumber(progress?.done ?? 0)} of {formatNumber(phase.total)}
              {progress && formatRate(progress.ratePerSec) ? ` · ${formatRate(progress.ratePerSec)}` : ''}
              {progress && formatEta(progress.etaSec) ? ` · ${formatEta(progress.etaSec)}` : ''}
            </p>
            <div className="button-row">
              <button type="button" className="button button--quiet" onClick={cancel}>
                Stop
              </button>
            </div>
          </section>
        ) : (
          <ExportSummaryView dest={phase.dest} progress={finished} error={error} onClose={onClose} />
        )}
      </div>
    </div>
  );
}

function ExportSummaryView({ dest, progress, error, onClose }: { dest: string; progress: ExportProgress | undefined; error: string | null; onClose(): void }) {
  const s = progress?.summary;
  return (
    <section className="export-summary" aria-label="Export summary" data-testid="export-summary">
      {error ? (
        <p className="inline-error" role="alert">
          {error}
        </p>
      ) : (
        <h3 className="export-summary__title">{s?.cancelled ? 'Export stopped' : 'Export finished'}</h3>
      )}
      {s && (
        <ul className="export-summary__list">
          <li>
            {formatCount(s.exported, 'photo')} exported to <strong>{dest}</strong>
          </li>
          {s.images > 0 && <li>{formatCount(s.images, 'image')} written{s.resized ? `, ${formatNumber(s.resized)} resized` : ''}</li>}
          {s.sidecars > 0 && <li>{formatCount(s.sidecars, 'caption file')}</li>}
          {s.manifests.length > 0 && <li>{s.manifests.join(', ')}</li>}
          {s.uncaptioned > 0 && <li>{formatCount(s.uncaptioned, 'photo')} without a caption</li>}
          {s.renamed > 0 && <li>{formatCount(s.renamed, 'photo')} renamed (another photo had the same name)</li>}
          {s.linkFallbacks > 0 && <li>{formatCount(s.linkFallbacks, 'image')} copied instead of linked (another disk)</li>}
        </ul>
      )}
      {s && s.skipped > 0 && (
        <>
          <h4 className="panel-section__title">{formatCount(s.skipped, 'photo')} skipped</h4>
          <ul className="failures" aria-label="Skipped photos">
            {s.skippedExamples.map((k) => (
              <li key={k.path} className="failure">
                <div className="failure__main">
                  <span className="failure__path">{k.path}</span>
                  <span className="failure__reason">{k.reason}</span>
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="button-row">
        <button type="button" className="button button--primary" onClick={onClose}>
          Done
        </button>
      </div>
    </section>
  );
}
