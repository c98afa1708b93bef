import type { MetadataWrites } from '../../hooks/use-metadata-writes';
import { formatCount, formatEta, formatNumber, formatRate } from '../../lib/format';
import { CloseIcon, PauseIcon, PlayIcon } from '../icons';

const STATE_TITLE: Record<string, string> = {
  running: 'Writing to files',
  pausing: 'Pausing',
  paused: 'Writing paused',
  done: 'Written to files',
  cancelled: 'Writing cancelled',
  failed: 'Writing stopped',
  idle: 'Writing to files',
};

/**
 * A second status line while captions and keywords are written to sidecars or photo files: a progress bar, count,
 * speed, ETA, what was written / skipped / failed, and the last per-file problem; pause, resume and cancel.
 */
export function MetadataWriteBar({ writes }: { writes: MetadataWrites }) {
  const p = writes.progress;
  if (!p) return null;
  const percent = p.total > 0 ? (p.state === 'done' ? 100 : Math.min(100, (p.done / p.total) * 100)) : null;
  const details = [
    p.total > 0 ? `${formatNumber(p.done)} of ${formatNumber(p.total)}` : '',
    writes.active ? formatRate(p.photosPerSec) : '',
    writes.active && p.state !== 'paused' ? formatEta(p.etaSec) : '',
    `${formatNumber(p.written)} written`,
    p.skipped > 0 ? `${formatNumber(p.skipped)} unchanged or skipped` : '',
  ].filter(Boolean);
  return (
    <div className="status-bar" aria-label="Writing captions to files">
      <div className={`status-bar__run status-bar__run--${p.state}`} data-testid="metadata-run" data-state={p.state}>
        <strong className="status-bar__title">{STATE_TITLE[p.state] ?? p.state}</strong>
        <div
          className={`progress progress--slim${percent === null && writes.active ? ' progress--indeterminate' : ''}`}
          role="progressbar"
          aria-label="Writing captions to files"
          aria-valuemin={0}
          aria-valuemax={p.total || undefined}
          aria-valuenow={percent === null ? undefined : p.done}
        >
          <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
        </div>
        <span className="status-bar__details" data-testid="metadata-details">
          {details.join(' · ')}
          {p.failed > 0 && <span className="status-bar__failed"> · {formatCount(p.failed, 'failure')}</span>}
        </span>
        {p.message && (
          <span className="status-bar__message" title={p.message} data-testid="metadata-message">
            {p.message}
          </span>
        )}
        <span className="status-bar__actions">
          {writes.active ? (
            <>
              {p.state === 'paused' || p.state === 'pausing' ? (
                <button type="button" className="icon-button" aria-label="Resume writing to files" title="Resume" onClick={writes.resume}>
                  <PlayIcon />
                </button>
              ) : (
                <button type="button" className="icon-button" aria-label="Pause writing to files" title="Pause" onClick={writes.pause}>
                  <PauseIcon />
                </button>
              )}
              <button type="button" className="icon-button" aria-label="Cancel writing to files" title="Cancel" onClick={writes.cancel}>
                <CloseIcon />
              </button>
            </>
          ) : (
            <button type="button" className="icon-button" aria-label="Dismiss the write-to-files status" title="Dismiss" onClick={writes.dismiss}>
              <CloseIcon />
            </button>
          )}
        </span>
      </div>
    </div>
  );
}
