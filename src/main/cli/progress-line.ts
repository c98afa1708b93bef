import type { Writable } from 'node:stream';
import { terminalText } from './terminal-text';

export function formatDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '--:--';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

/**
 * One live line on a terminal (redrawn in place, at most ~10 times a second);
 * on a pipe or in CI, a plain line every few seconds so logs stay readable.
 */
export class ProgressLine {
  private lastDraw = 0;
  private lastWidth = 0;

  constructor(
    private readonly out: Writable & { isTTY?: boolean; columns?: number },
    private readonly plainEveryMs = 5000,
  ) {}

  update(raw: string, force = false): void {
    const now = Date.now();
    const tty = Boolean(this.out.isTTY);
    if (!force && now - this.lastDraw < (tty ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    // The line shows file names: none of their characters may move the cursor or end the line early.
    const text = terminalText(raw, { oneLine: true });
    if (tty) {
      const cols = this.out.columns ?? 100;
      const line = text.length > cols - 1 ? `${text.slice(0, cols - 2)}…` : text;
      this.out.write(`\r${line}${' '.repeat(Math.max(0, this.lastWidth - line.length))}`);
      this.lastWidth = line.length;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  /** Ends the live line so the next output starts on a fresh line. */
  done(text?: string): void {
    if (text !== undefined) this.update(text, true);
    if (this.out.isTTY && this.lastWidth > 0) this.out.write('\n');
    this.lastWidth = 0;
  }
}

export function bar(done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 0;
  const full = Math.round(frac * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}
