import { formatCount } from '../lib/format';

type Props = { query: string; total: number; shown: number; notice: string | null; loading: boolean };

export function ResultSummary({ query, total, shown, notice, loading }: Props) {
  const count = query ? `${formatCount(total, 'photo')} match “${query}”` : formatCount(total, 'photo');
  return (
    <div className="result-summary">
      {/* With no matches the empty state below says it in full; the count would only repeat it. */}
      {(total > 0 || !query) && (
        <p className="result-summary__count" aria-live="polite" aria-busy={loading} data-testid="result-count">
          {count}
          {shown < total && <span className="result-summary__more"> · showing the first {shown}</span>}
        </p>
      )}
      {notice && (
        <p className="result-summary__notice" role="status" data-testid="search-notice">
          {notice}
        </p>
      )}
    </div>
  );
}
