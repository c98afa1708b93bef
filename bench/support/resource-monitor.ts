import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Busy and total CPU time of the whole machine, from /proc/stat (Linux); null elsewhere. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export interface ResourceReport {
  wallMs: number;
  /** Highest RSS seen by the 100 ms sampler during this window. */
  peakRssSampled: number;
  /** Kernel high-water mark for the whole process so far (not reset per window). */
  maxRssProcess: number;
  /** This process's CPU time (all threads: libvips, libuv pool, main). */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Share of all cores used by this process over the window. */
  processCpuShare: number;
  /** Share of all cores busy on the machine (this process plus everyone else). */
  machineCpuShare: number | null;
  /** Fraction of the window the main thread was busy (sync hashing, EXIF parsing, SQLite). */
  mainThreadUtilization: number;
  loadAvgStart: number;
  loadAvgEnd: number;
}

/**
 * Watches one measured window. RSS is sampled every 100 ms; the event loop can be blocked by sync work, so
 * the kernel's maxRSS is reported too and is the one to trust for the true peak.
 */
export class ResourceMonitor {
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  private readonly elu0: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly machine0 = machineTicks();
  private readonly load0 = loadavg()[0]!;
  private peak = process.memoryUsage.rss();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > this.peak) this.peak = rss;
    }, 100);
    this.timer.unref();
  }

  stop(): ResourceReport {
    clearInterval(this.timer);
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    const wallMs = performance.now() - this.t0;
    const cpu = process.cpuUsage(this.cpu0);
    const elu = performance.eventLoopUtilization(this.elu0);
    const m1 = machineTicks();
    const cores = cpus().length;
    return {
      wallMs,
      peakRssSampled: this.peak,
      maxRssProcess: process.resourceUsage().maxRSS * 1024,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      processCpuShare: (cpu.user + cpu.system) / 1000 / (wallMs * cores),
      machineCpuShare: this.machine0 && m1 ? (m1.busy - this.machine0.busy) / Math.max(1, m1.total - this.machine0.total) : null,
      mainThreadUtilization: elu.utilization,
      loadAvgStart: this.load0,
      loadAvgEnd: loadavg()[0]!,
    };
  }
}

/** One line about how busy the machine is, since other people share these cores. */
export function machineLine(): string {
  const [l1, l5, l15] = loadavg();
  return `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${l1!.toFixed(2)} / ${l5!.toFixed(2)} / ${l15!.toFixed(2)}`;
}
