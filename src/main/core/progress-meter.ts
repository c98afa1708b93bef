/**
 * Rate and ETA for long work. The rate is an exponentially weighted average over recent items,
 * so a slow first file or a burst of cached ones does not skew the ETA for long.
 */
export class ProgressMeter {
  private startedAt = 0;
  private lastAt = 0;
  private count = 0;
  private ewmaPerSec = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  start(_total?: number): void {
    this.startedAt = this.now();
    this.lastAt = this.startedAt;
    this.count = 0;
    this.ewmaPerSec = 0;
  }

  tick(n = 1): void {
    const t = this.now();
    if (this.startedAt === 0) this.start();
    this.count += n;
    const dt = Math.max(t - this.lastAt, 1e-3) / 1000;
    const instant = n / dt;
    this.ewmaPerSec = this.ewmaPerSec === 0 ? instant : this.ewmaPerSec * 0.8 + instant * 0.2;
    this.lastAt = t;
  }

  /** Items per second: overall average blended with the recent average. */
  rate(): number {
    if (this.count === 0) return 0;
    const elapsed = Math.max(this.now() - this.startedAt, 1) / 1000;
    const overall = this.count / elapsed;
    return this.count < 5 ? overall : (overall + this.ewmaPerSec) / 2;
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
