/** Formatting helpers for counts, sizes, rates, durations and dates shown in the UI. */

const numberFormat = new Intl.NumberFormat(undefined);

export function formatCount(n: number, singular: string, plural = `${singular}s`): string {
  return `${numberFormat.format(n)} ${n === 1 ? singular : plural}`;
}

export function formatNumber(n: number): string {
  return numberFormat.format(n);
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

/** Bytes in decimal units, as disks and the Hugging Face hub count them: "990 MB", "1.9 GB". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[u]}`;
}

export function formatBytesPerSec(bps: number): string {
  return bps > 0 ? `${formatBytes(bps)}/s` : '';
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Capture dates are local times as the camera wrote them ("2021-03-02T08:15:00"), shown without time-zone shifts. */
export function formatTakenAt(iso: string | null): string {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(iso);
  if (!m) return iso;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', ...(m[4] ? { timeStyle: 'short' } : {}) }).format(d);
}

/** Timestamps the core writes (UTC ISO), in the user's time zone. */
export function formatTimestamp(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

/** A month group key ('2021-03') as a header: "March 2021"; null → "No date". */
export function formatMonth(key: string | null): string {
  if (!key) return 'No date';
  const [y, m] = key.split('-').map(Number);
  if (!y || !m) return key;
  return new Intl.DateTimeFormat(undefined, { month: 'long', year: 'numeric' }).format(new Date(y, m - 1, 1));
}

/** 48.8584, 2.2945 → "48.85840° N, 2.29450° E". */
export function formatGps(lat: number | null, lon: number | null): string {
  if (lat === null || lon === null) return '';
  const ns = lat >= 0 ? 'N' : 'S';
  const ew = lon >= 0 ? 'E' : 'W';
  return `${Math.abs(lat).toFixed(5)}° ${ns}, ${Math.abs(lon).toFixed(5)}° ${ew}`;
}

/** Turns anything thrown by `window.tandem` (or by the browser) into a sentence for the error banner, never a stack. */
export function readableError(err: unknown): string {
  let message = '';
  if (err instanceof Error) message = err.message;
  else if (typeof err === 'string') message = err;
  else if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') message = (err as { message: string }).message;
  // Electron prefixes errors that cross IPC; the words after it are what the core wrote for people.
  message = message.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '');
  // A stack trace is for the log, not for the banner: keep the first line.
  const firstLine = message.split('\n')[0]?.trim() ?? '';
  if (!firstLine || /^\s*at\s/.test(firstLine)) return 'Something went wrong.';
  return firstLine;
}
