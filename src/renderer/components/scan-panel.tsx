import type { ScanCounts } from '../../shared/api';
import type { ScanState } from '../hooks/use-folder-scan';
import { formatCount, formatEta, formatRate } from '../lib/format';
import { CloseIcon } from './icons';

type Props = { state: ScanState; onDismiss(): void };

function countsSummary(c: ScanCounts): string {
  const parts = [`${c.ok} ok`];
  if (c.unsupported) parts.push(`${c.unsupported} unsupported`);
  if (c.broken) parts.push(`${c.broken} broken`);
  if (c.missing) parts.push(`${c.missing} missing`);
  const summary = `${formatCount(c.seen, 'file')} checked: ${parts.join(', ')}`;
  return c.invalidNames ? `${summary} · ${c.invalidNames} skipped: names are not valid UTF-8` : summary;
}

/** The skipped names, for the tooltip: rename them and they are indexed on the next scan. */
function invalidNamesHint(c: ScanCounts): string | undefined {
  if (!c.invalidNames) return undefined;
  const examples = c.invalidNameExamples ?? [];
  const more = c.invalidNames - examples.length;
  return ['Rename these to index them:', ...examples, ...(more > 0 ? [`… and ${more} more`] : [])].join('\n');
}

/** Progress of the running scan (done/total, rate, ETA), then a short summary once it is over. */
export function ScanPanel({ state, onDismiss }: Props) {
  if (state.kind === 'idle') return null;

  let title: string;
  let detail: string;
  let done: number | null = null;
  let total = 0;
  let hint: string | undefined;
  if (state.kind === 'starting') {
    title = 'Adding folder…';
    detail = state.folder ?? '';
  } else if (state.kind === 'scanning' && state.progress.phase === 'walking') {
    title = 'Looking for photos…';
    detail = '';
  } else if (state.kind === 'scanning') {
    const p = state.progress;
    title = 'Indexing photos';
    done = p.done;
    total = p.total;
    detail = [`${p.done} of ${p.total}`, formatRate(p.ratePerSec), formatEta(p.etaSec)].filter(Boolean).join(' · ');
  } else {
    title = 'Library up to date';
    done = state.counts.seen;
    total = state.counts.seen;
    detail = countsSummary(state.counts);
    hint = invalidNamesHint(state.counts);
  }
  const percent = done !== null && total > 0 ? Math.min(100, (done / total) * 100) : null;
  const finished = state.kind === 'finished';

  return (
    <section className={`scan-panel${finished ? ' scan-panel--finished' : ''}`} aria-label="Scan progress" aria-live="polite">
      <div className="scan-panel__text">
        <strong className="scan-panel__title">{title}</strong>
        <span className="scan-panel__detail" data-testid="scan-detail" title={hint}>
          {detail}
        </span>
      </div>
      <div
        className={`progress${percent === null ? ' progress--indeterminate' : ''}`}
        role="progressbar"
        aria-label="Indexing progress"
        aria-valuemin={0}
        aria-valuemax={percent === null ? undefined : total}
        aria-valuenow={percent === null ? undefined : (done ?? 0)}
      >
        <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
      </div>
      {finished && (
        <button type="button" className="icon-button" aria-label="Dismiss scan summary" onClick={onDismiss}>
          <CloseIcon />
        </button>
      )}
    </section>
  );
}
