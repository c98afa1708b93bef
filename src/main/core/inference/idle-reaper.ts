/**
 * Stops something expensive (a model in an inference process) after it has sat unused for a while,
 * so a chat or a question asked an hour ago does not hold gigabytes of memory. Work is counted while it
 * runs; the timer starts when the last piece ends and never keeps Node alive by itself.
 */
export class IdleReaper {
  private busy = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    this.cancel();
    try {
      return await work();
    } finally {
      this.busy--;
      if (this.busy === 0) this.arm();
    }
  }

  /** Forgets a pending stop (on close, or when work starts). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.busy === 0) this.onIdle();
    }, this.idleMs);
    this.timer.unref();
  }
}
