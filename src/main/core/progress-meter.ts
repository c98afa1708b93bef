/**
 * Rate and ETA for long work: the overall average blended with the rate over a recent time window.
 * Items finish in bursts (several workers, batches), so the recent rate is counted over a window of
 * time, never from the gaps between single items (a burst would read as thousands per second).
 */
export class ProgressMeter {
  private startedAt = 0;
  private count = 0;
  /** Running totals, oldest first; the first one is at or just before the window's start. */
  private samples: { t: number; count: number }[] = [];

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly windowMs = 10_000,
  ) {}

  start(_total?: number): void {
    this.startedAt = this.now();
    this.count = 0;
    this.samples = [{ t: this.startedAt, count: 0 }];
  }

  tick(n = 1): void {
    if (this.startedAt === 0) this.start();
    const t = this.now();
    this.count += n;
    this.samples.push({ t, count: this.count });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  /** Items per second. Measured up to now, so a stall lowers it instead of freezing the last value. */
  rate(): number {
    if (this.count === 0) return 0;
    const t = this.now();
    const overall = this.count / (Math.max(t - this.startedAt, 1) / 1000);
    const first = this.samples[0]!;
    const span = (t - first.t) / 1000;
    if (this.count < 5 || span < 1) return overall;
    const recent = (this.count - first.count) / span;
    return (overall + recent) / 2;
  }

  eta(remaining: number): number | null {
    const r = this.rate();
    if (r <= 0) return remaining === 0 ? 0 : null;
    return remaining / r;
  }

  get elapsedSec(): number {
    return (this.now() - this.startedAt) / 1000;
  }
}
