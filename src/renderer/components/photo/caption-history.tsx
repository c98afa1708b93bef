import type { CaptionEntry } from '../../../shared/api';
import { settingsSummary, shownEntryId, sourceKind, sourceLabel, sourceWithPrecision } from '../../lib/caption-history';
import { formatTimestamp } from '../../lib/format';

type Props = { history: CaptionEntry[]; onRevert(entry: CaptionEntry): void; busy: boolean };

/** Every caption the photo has had, newest first, with who wrote it and a way back to any of them. */
export function CaptionHistory({ history, onRevert, busy }: Props) {
  if (history.length === 0) return <p className="muted">No captions yet. Caption this photo with a model, or write one above.</p>;
  const shown = shownEntryId(history);
  return (
    <ol className="history" aria-label="Caption history">
      {history.map((e) => {
        const kind = sourceKind(e.source);
        const current = e.id === shown;
        return (
          <li key={e.id} className={`history__entry${current ? ' history__entry--current' : ''}`} data-source={e.source}>
            <div className="history__meta">
              <span className={`source-chip source-chip--${kind}`}>{kind === 'model' ? `Model · ${sourceWithPrecision(e.source, e.settings)}` : sourceLabel(e.source)}</span>
              <time dateTime={e.createdAt}>{formatTimestamp(e.createdAt)}</time>
              {current && <span className="history__current">Shown</span>}
            </div>
            <p className="history__text">{e.text || <em>Caption cleared</em>}</p>
            {settingsSummary(e.settings) && <p className="history__settings">{settingsSummary(e.settings)}</p>}
            {!current && (
              <button
                type="button"
                className="button button--link"
                disabled={busy}
                onClick={() => onRevert(e)}
                aria-label={`Revert to “${e.text || 'no caption'}” (${sourceLabel(e.source)})`}
              >
                Revert to this
              </button>
            )}
          </li>
        );
      })}
    </ol>
  );
}
