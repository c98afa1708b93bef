/** Small formatting helpers for counts, rates and durations shown in the UI. */

const numberFormat = new Intl.NumberFormat(undefined);

export function formatCount(n: number, singular: string, plural = `${singular}s`): string {
  return `${numberFormat.format(n)} ${n === 1 ? singular : plural}`;
}

export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec) || perSec <= 0) return '';
  return `${perSec >= 10 ? Math.round(perSec) : perSec.toFixed(1)} photos/s`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 1) return 'almost done';
  if (s < 60) return `about ${s} s left`;
  const m = Math.floor(s / 60);
  if (m < 60) return `about ${m} min ${s % 60} s left`;
  return `about ${Math.floor(m / 60)} h ${m % 60} min left`;
}

/** Turns anything thrown by `window.tandem` (or by the browser) into a sentence for the error banner. */
export function readableError(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  if (typeof err === 'string' && err) return err;
  return 'Something went wrong.';
}
