import type { LlavaCompileProgress } from '../llava-compiler/compile-llava';
import { ProgressMeter } from '../progress-meter';
import type { DownloadProgress } from './transfer-progress';

/**
 * Turns the compiler's progress (units of work: layers and graph writes) into the pack's progress events,
 * with an ETA from the rate of units so far. Decoder layers dominate a 7B's compile, so the ETA firms up
 * once the first few are through.
 */
export function compileProgressReporter(
  pack: string,
  emit: (p: DownloadProgress) => void,
  downloaded: { packBytes: number; fileCount: number },
  now: () => number = () => performance.now(),
): (p: LlavaCompileProgress) => void {
  const meter = new ProgressMeter(now);
  let started = false;
  let last = 0;
  return (p) => {
    // Hashing the sources is reported as 0 of 1 unit: the meter starts with the first real unit of work.
    if (p.stage !== 'hashing' && !started) {
      meter.start();
      started = true;
      last = p.done;
    }
    if (started && p.done > last) {
      meter.tick(p.done - last);
      last = p.done;
    }
    const eta = started && p.done > 0 ? meter.eta(p.total - p.done) : null;
    emit({
      pack,
      phase: 'compiling',
      file: '',
      fileIndex: downloaded.fileCount,
      fileCount: downloaded.fileCount,
      fileBytes: 0,
      fileTotal: null,
      packBytes: downloaded.packBytes,
      packTotal: downloaded.packBytes,
      bytesPerSecond: 0,
      etaSeconds: eta === null ? null : Math.round(eta),
      compile: { stage: p.stage, label: p.label, done: p.done, total: p.total },
    });
  };
}
