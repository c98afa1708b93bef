/** Number formatting and plain-text tables for benchmark output. */

export function fmtBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function fmtMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(3)} ms`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  if (ms < 10_000) return `${ms.toFixed(0)} ms`;
  return fmtDuration(ms / 1000);
}

export function fmtDuration(sec: number): string {
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const m = Math.floor(sec / 60);
  const s = sec - m * 60;
  return `${m}m${s.toFixed(0).padStart(2, '0')}s`;
}

export function fmtRate(n: number, sec: number): string {
  return sec > 0 ? (n / sec).toFixed(2) : '–';
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(0)}%` : '–';
}

/** A table with a header row; numbers (anything starting with a digit or sign) are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.every((r) => /^[-+]?[\d.]/.test(String(r[c] ?? '')) || String(r[c] ?? '') === '–'));
  const line = (r: string[]): string =>
    r.map((cell, c) => (numeric[c] && c > 0 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Rewrites one progress line on a terminal; prints occasional lines when stderr is a file or pipe. */
export class StatusLine {
  private lastPrint = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(text: string, force = false): void {
    const now = performance.now();
    if (this.stream.isTTY) {
      if (!force && now - this.lastPrint < 100) return;
      this.stream.write(`\r\x1b[K${text}`);
    } else {
      if (!force && now - this.lastPrint < 5000) return;
      this.stream.write(`${text}\n`);
    }
    this.lastPrint = now;
  }

  done(text?: string): void {
    if (text !== undefined) this.update(text, true);
    if (this.stream.isTTY) this.stream.write('\n');
  }
}
