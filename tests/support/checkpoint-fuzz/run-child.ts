/**
 * Starts the fuzz runner in a child process under a 512 MB heap cap and collects its results. A case that stops
 * producing output (a hang) gets the child killed, and the report names that case.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FuzzResult } from './fuzz-case';

export const HEAP_CAP_MB = 512;
const RUNNER = fileURLToPath(new URL('./runner.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ChildReport {
  results: FuzzResult[];
  /** peak RSS of the child before the first case */
  baselineRssMb: number;
  /** the case that was running when the child died or stalled, if any */
  unfinished?: string;
  stalled: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  wallMs: number;
}

export async function runFuzzChild(
  suite: 'hostile' | 'fuzz',
  seed: number,
  workDir: string,
  opts: { stallMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<ChildReport> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', RUNNER, suite, String(seed), workDir], {
    cwd: PROJECT_ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const results: FuzzResult[] = [];
  let baselineRssMb = 0;
  let running: string | undefined;
  let stalled = false;
  let stderr = '';
  let buffered = '';
  const stallMs = opts.stallMs ?? 10_000;
  let watchdog = setTimeout(() => {}, 0);
  const arm = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      stalled = true;
      child.kill('SIGKILL');
    }, stallMs);
  };
  arm();
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const m = JSON.parse(line) as { start?: string; ready?: boolean; peakRssMb?: number; done?: boolean } & Partial<FuzzResult>;
      arm();
      if (m.ready) baselineRssMb = m.peakRssMb ?? 0;
      else if (m.start) running = m.start;
      else if (m.outcome) {
        results.push(m as FuzzResult);
        running = undefined;
      }
    }
  });
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (code, sig) => resolve([code, sig])),
  );
  clearTimeout(watchdog);
  return { results, baselineRssMb, unfinished: running, stalled, exitCode, signal, stderr: stderr.slice(-4000), wallMs: Math.round(performance.now() - t0) };
}

/** Counts for the test log. */
export function summarize(report: ChildReport): string {
  const by = (o: FuzzResult['outcome']): number => report.results.filter((r) => r.outcome === o).length;
  const slowest = report.results.reduce((a, r) => (r.ms > a.ms ? r : a), { id: '-', ms: 0 } as Pick<FuzzResult, 'id' | 'ms'>);
  const peak = report.results.reduce((a, r) => Math.max(a, r.peakRssMb), report.baselineRssMb);
  return (
    `${report.results.length} cases: ${by('loaded')} loaded, ${by('refused')} refused (ModelFileError), ${by('wrong-error')} other errors; ` +
    `slowest ${slowest.id} ${slowest.ms} ms; peak RSS ${peak} MB (baseline ${report.baselineRssMb} MB, heap cap ${HEAP_CAP_MB} MB); ` +
    `child wall time ${report.wallMs} ms`
  );
}
