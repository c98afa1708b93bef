import type { LibraryStatus } from '../../../shared/api';
import type { Jobs } from '../../hooks/use-jobs';
import { formatCount, formatEta, formatNumber, formatRate } from '../../lib/format';
import { AlertIcon, CloseIcon, PauseIcon, PlayIcon } from '../icons';

type Props = { jobs: Jobs; status: LibraryStatus | null; onOpenDrawer(): void };

const STATE_TITLE: Record<string, string> = {
  loading: 'Loading model',
  running: 'Captioning',
  pausing: 'Pausing',
  paused: 'Paused',
  cancelling: 'Cancelling',
  done: 'Captioning finished',
  cancelled: 'Captioning cancelled',
  failed: 'Captioning stopped',
  idle: 'Idle',
};

/**
 * The bottom bar: library totals when idle; the running caption job with a progress bar, count, speed,
 * ETA and failures while it runs, with pause/resume/cancel. "Jobs" opens the drawer.
 */
export function JobsStatusBar({ jobs, status, onOpenDrawer }: Props) {
  const p = jobs.progress;
  const failed = jobs.counts?.failed ?? 0;
  const showRun = p !== null && (jobs.active || p.state === 'done' || p.state === 'failed' || p.state === 'cancelled');
  // A finished run is drawn full even when some photos failed: the failures are counted beside it.
  const percent = p && p.total > 0 ? (p.state === 'done' ? 100 : Math.min(100, (p.done / p.total) * 100)) : null;
  const details = p
    ? [
        p.total > 0 ? `${formatNumber(p.done)} of ${formatNumber(p.total)}` : '',
        jobs.active ? formatRate(p.photosPerSec) : '',
        jobs.active && p.state !== 'paused' ? formatEta(p.etaSec) : '',
      ].filter(Boolean)
    : [];

  return (
    <footer className="status-bar" aria-label="Jobs status">
      {showRun && p ? (
        <div className={`status-bar__run status-bar__run--${p.state}`} data-testid="job-run" data-state={p.state}>
          <strong className="status-bar__title">
            {STATE_TITLE[p.state] ?? p.state}
            <span className="status-bar__model"> · {p.model}</span>
          </strong>
          <div
            className={`progress progress--slim${percent === null && jobs.active ? ' progress--indeterminate' : ''}`}
            role="progressbar"
            aria-label="Captioning progress"
            aria-valuemin={0}
            aria-valuemax={p.total || undefined}
            aria-valuenow={percent === null ? undefined : p.done}
          >
            <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
          </div>
          <span className="status-bar__details" data-testid="job-details">
            {details.join(' · ')}
            {p.failed > 0 && <span className="status-bar__failed"> · {formatCount(p.failed, 'failure')}</span>}
          </span>
          {p.message && !jobs.active && <span className="status-bar__message" title={p.message}>{p.message}</span>}
          {jobs.active && (
            <span className="status-bar__actions">
              {p.state === 'paused' || p.state === 'pausing' ? (
                <button type="button" className="icon-button" aria-label="Resume captioning" title="Resume" onClick={jobs.resume}>
                  <PlayIcon />
                </button>
              ) : (
                <button type="button" className="icon-button" aria-label="Pause captioning" title="Pause" onClick={jobs.pause}>
                  <PauseIcon />
                </button>
              )}
              <button type="button" className="icon-button" aria-label="Cancel captioning" title="Cancel" onClick={jobs.cancel} disabled={p.state === 'cancelling'}>
                <CloseIcon />
              </button>
            </span>
          )}
        </div>
      ) : (
        <div className="status-bar__idle">
          {status ? `${formatCount(status.photos, 'photo')} · ${formatNumber(status.captioned)} captioned` : ''}
          {jobs.counts && jobs.counts.queued > 0 && ` · ${formatNumber(jobs.counts.queued)} waiting to be captioned`}
        </div>
      )}
      <button type="button" className={`status-bar__jobs${failed > 0 ? ' status-bar__jobs--failed' : ''}`} onClick={onOpenDrawer} aria-haspopup="dialog">
        {failed > 0 && <AlertIcon />}
        <span>Jobs{failed > 0 ? ` · ${formatNumber(failed)} failed` : ''}</span>
      </button>
    </footer>
  );
}
