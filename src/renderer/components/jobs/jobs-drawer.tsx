import { useEffect, useRef } from 'react';
import type { Jobs } from '../../hooks/use-jobs';
import { formatEta, formatNumber, formatRate } from '../../lib/format';
import { CloseIcon, PauseIcon, PlayIcon, RefreshIcon } from '../icons';

type Props = { jobs: Jobs; onClose(): void; onOpenPhoto(photoId: number): void };

/** Everything about the caption queue: the run, counts by state, and every failure with its reason and a retry. */
export function JobsDrawer({ jobs, onClose, onOpenPhoto }: Props) {
  const panel = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    panel.current?.focus();
    jobs.refresh();
    // Refresh once when the drawer opens.
  }, []);
  // Escape closes the modal wherever focus is: a retried failure's button leaves the list, and focus with it.
  // Captured at the document so nothing behind the drawer (the photo view) also takes that Escape.
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      onClose();
    };
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, [onClose]);

  const p = jobs.progress;
  const c = jobs.counts;
  return (
    <div className="drawer-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={panel}
        className="drawer"
        role="dialog"
        aria-modal="true"
        aria-label="Jobs"
        tabIndex={-1}
      >
        <header className="drawer__header">
          <h2 className="drawer__title">Jobs</h2>
          <button type="button" className="icon-button" aria-label="Close jobs" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>

        <section className="panel-section">
          <h3 className="panel-section__title">Captioning</h3>
          {p ? (
            <div className="job-card">
              <p>
                <strong>{p.model}</strong> · {p.state}
                {p.total > 0 && ` · ${formatNumber(p.done)} of ${formatNumber(p.total)}`}
                {jobs.active && formatRate(p.photosPerSec) && ` · ${formatRate(p.photosPerSec)}`}
                {jobs.active && formatEta(p.etaSec) && ` · ${formatEta(p.etaSec)}`}
              </p>
              {p.currentPath && jobs.active && <p className="muted">Now: {p.currentPath}</p>}
              {p.message && <p className="muted">{p.message}</p>}
              {jobs.active && (
                <div className="button-row">
                  {p.state === 'paused' || p.state === 'pausing' ? (
                    <button type="button" className="button button--quiet button--small" onClick={jobs.resume}>
                      <PlayIcon />
                      Resume
                    </button>
                  ) : (
                    <button type="button" className="button button--quiet button--small" onClick={jobs.pause}>
                      <PauseIcon />
                      Pause
                    </button>
                  )}
                  <button type="button" className="button button--quiet button--small" onClick={jobs.cancel}>
                    <CloseIcon />
                    Cancel
                  </button>
                </div>
              )}
            </div>
          ) : (
            <p className="muted">Nothing has been captioned in this session yet.</p>
          )}
          {c && (
            <dl className="counts" aria-label="Jobs by state">
              {(['queued', 'running', 'done', 'failed', 'cancelled'] as const).map((k) => (
                <div key={k} className={`counts__item counts__item--${k}`}>
                  <dt>{k}</dt>
                  <dd data-testid={`count-${k}`}>{formatNumber(c[k])}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>

        <section className="panel-section">
          <div className="panel-section__head">
            <h3 className="panel-section__title">Failures</h3>
            {jobs.failures.length > 0 && (
              <button type="button" className="button button--quiet button--small" onClick={() => void jobs.retry()}>
                <RefreshIcon />
                Retry all
              </button>
            )}
          </div>
          {jobs.failures.length === 0 ? (
            <p className="muted">No failures.</p>
          ) : (
            <ul className="failures" aria-label="Failed jobs">
              {jobs.failures.map((f) => (
                <li key={f.jobId} className="failure" data-testid="failure">
                  <div className="failure__main">
                    <button type="button" className="button button--link failure__path" onClick={() => onOpenPhoto(f.photoId)} title="Open this photo">
                      {f.relPath}
                    </button>
                    <p className="failure__reason">{f.error ?? 'No reason was recorded.'}</p>
                    <p className="muted">
                      {f.model} · {f.attempts} {f.attempts === 1 ? 'attempt' : 'attempts'}
                    </p>
                  </div>
                  <button type="button" className="button button--quiet button--small" onClick={() => void jobs.retry([f.jobId])} aria-label={`Retry ${f.relPath}`}>
                    Retry
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
