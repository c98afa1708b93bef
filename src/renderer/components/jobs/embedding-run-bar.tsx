import type { SearchByMeaning } from '../../hooks/use-search-by-meaning';
import { formatEta, formatNumber, formatRate } from '../../lib/format';
import { RunStatusLine } from './run-status-line';

const STATE_TITLE: Record<string, string> = {
  loading: 'Loading the search model',
  running: 'Reading photos for search by meaning',
  pausing: 'Pausing',
  paused: 'Search by meaning paused',
  cancelling: 'Cancelling',
  done: 'Photos read for search by meaning',
  cancelled: 'Reading for search by meaning cancelled',
  failed: 'Reading for search by meaning stopped',
};

/**
 * The embedding run of search by meaning (one more vision pass per photo, after each scan) beside captioning in
 * the status bar: how far it is, how fast, and pause / resume / cancel; its outcome stays until dismissed.
 */
export function EmbeddingRunBar({ meaning }: { meaning: SearchByMeaning }) {
  const p = meaning.run;
  if (!p) return null;
  const details = [
    p.total > 0 ? `${formatNumber(p.done)} of ${formatNumber(p.total)}` : '',
    meaning.running ? formatRate(p.photosPerSec) : '',
    meaning.running && p.state !== 'paused' ? formatEta(p.etaSec) : '',
    p.model,
  ].filter(Boolean);
  const controls = { active: meaning.running, pause: meaning.pause, resume: meaning.resume, cancel: meaning.cancel, dismiss: meaning.dismiss };
  return <RunStatusLine progress={p} controls={controls} titles={STATE_TITLE} label="Reading photos for search by meaning"
      doing="reading for search by meaning"
      dismissLabel="Dismiss the search-by-meaning status"
      details={details} testId="embedding" />;
}
