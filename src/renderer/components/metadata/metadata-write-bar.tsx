import type { MetadataWrites } from '../../hooks/use-metadata-writes';
import { formatEta, formatNumber, formatRate } from '../../lib/format';
import { RunStatusLine } from '../jobs/run-status-line';

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
  const details = [
    p.total > 0 ? `${formatNumber(p.done)} of ${formatNumber(p.total)}` : '',
    writes.active ? formatRate(p.photosPerSec) : '',
    writes.active && p.state !== 'paused' ? formatEta(p.etaSec) : '',
    `${formatNumber(p.written)} written`,
    p.skipped > 0 ? `${formatNumber(p.skipped)} unchanged or skipped` : '',
  ].filter(Boolean);
  return <RunStatusLine progress={p} controls={writes} titles={STATE_TITLE} label="Writing captions to files"
      doing="writing to files"
      dismissLabel="Dismiss the write-to-files status"
      details={details} testId="metadata" />;
}
