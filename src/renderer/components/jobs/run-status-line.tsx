import { formatCount } from '../../lib/format';
import { CloseIcon, PauseIcon, PlayIcon } from '../icons';

/** What a background run reports, whatever it does (write to files, read photos for search by meaning). */
export interface RunLineProgress {
  state: string;
  done: number;
  total: number;
  failed: number;
  message: string | null;
}

export interface RunLineControls {
  active: boolean;
  pause(): void;
  resume(): void;
  cancel(): void;
  dismiss(): void;
}

type Props = {
  progress: RunLineProgress;
  controls: RunLineControls;
  /** Titles per state, e.g. { running: 'Writing to files', … } */
  titles: Readonly<Record<string, string>>;
  /** The line's and its progress bar's accessible name ("Writing captions to files"). */
  label: string;
  /** What the run does, for the buttons' names: "Pause <doing>" ("writing to files"). */
  doing: string;
  /** The dismiss button's name, once the run has ended. */
  dismissLabel: string;
  details: string[];
  /** data-testid prefix: `<id>-run`, `<id>-details`, `<id>-message` */
  testId: string;
};

/**
 * A second status line for a background run: title, progress bar, details, failures, its last problem, and
 * pause / resume / cancel while it runs (dismiss once it has ended).
 */
export function RunStatusLine({ progress: p, controls, titles, label, doing, dismissLabel, details, testId }: Props) {
  const percent = p.total > 0 ? (p.state === 'done' ? 100 : Math.min(100, (p.done / p.total) * 100)) : null;
  return (
    <div className="status-bar" aria-label={label}>
      <div className={`status-bar__run status-bar__run--${p.state}`} data-testid={`${testId}-run`} data-state={p.state}>
        <strong className="status-bar__title">{titles[p.state] ?? p.state}</strong>
        <div
          className={`progress progress--slim${percent === null && controls.active ? ' progress--indeterminate' : ''}`}
          role="progressbar"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={p.total || undefined}
          aria-valuenow={percent === null ? undefined : p.done}
        >
          <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
        </div>
        <span className="status-bar__details" data-testid={`${testId}-details`}>
          {details.join(' · ')}
          {p.failed > 0 && <span className="status-bar__failed"> · {formatCount(p.failed, 'failure')}</span>}
        </span>
        {p.message && (
          <span className="status-bar__message" title={p.message} data-testid={`${testId}-message`}>
            {p.message}
          </span>
        )}
        <span className="status-bar__actions">
          {controls.active ? (
            <>
              {p.state === 'paused' || p.state === 'pausing' ? (
                <button type="button" className="icon-button" aria-label={`Resume ${doing}`} title="Resume" onClick={controls.resume}>
                  <PlayIcon />
                </button>
              ) : (
                <button type="button" className="icon-button" aria-label={`Pause ${doing}`} title="Pause" onClick={controls.pause}>
                  <PauseIcon />
                </button>
              )}
              <button type="button" className="icon-button" aria-label={`Cancel ${doing}`} title="Cancel" onClick={controls.cancel} disabled={p.state === 'cancelling'}>
                <CloseIcon />
              </button>
            </>
          ) : (
            <button type="button" className="icon-button" aria-label={dismissLabel} title="Dismiss" onClick={controls.dismiss}>
              <CloseIcon />
            </button>
          )}
        </span>
      </div>
    </div>
  );
}
