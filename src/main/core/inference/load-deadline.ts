/**
 * A time limit on model loading in the inference process, so a damaged or hostile model file can never leave it
 * wedged (issue 13). Two layers, because a stuck load comes in two kinds:
 * - slow but still yielding (awaits between reads): a timer rejects the load with a ModelFileError naming the file,
 *   and whatever the load produces later is handed to `onLate` to be disposed of;
 * - a synchronous loop that never yields: no timer can fire on a blocked event loop, so a watchdog thread sees the
 *   loop's heartbeat stop and kills the process, after writing why to stderr. The parent treats that as a crash.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { ModelFileError } from '../errors';

/** Compiling BLIP-large on a slow laptop takes minutes; nothing legitimate takes this long. */
export const DEFAULT_MODEL_LOAD_TIMEOUT_MS = 15 * 60_000;

/** `TANDEM_MODEL_LOAD_TIMEOUT_MS` overrides the limit (tests use a short one). */
export function modelLoadTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['TANDEM_MODEL_LOAD_TIMEOUT_MS']);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_MODEL_LOAD_TIMEOUT_MS;
}

export interface LoadDeadline<T> {
  /** milliseconds the load may take */
  ms: number;
  /** the model file (or folder) the error names */
  file: string;
  /** receives what the load produces after its deadline passed, to release it */
  onLate?: (value: T) => void;
  /** for tests: the watchdog's heartbeat period */
  heartbeatMs?: number;
}

export function loadTimeoutError(file: string, ms: number): ModelFileError {
  return new ModelFileError(
    file,
    `Loading the model from ${file} did not finish within ${Math.round(ms / 1000)} s; the file is damaged or not a real checkpoint. Download the model again.`,
  );
}

/** Runs `load` under the deadline; see the module comment for what happens when it passes. */
export async function withLoadDeadline<T>(load: () => Promise<T>, opts: LoadDeadline<T>): Promise<T> {
  const watchdog = startWatchdog(opts.ms, opts.heartbeatMs ?? 1000, `${loadTimeoutError(opts.file, opts.ms).message}\n`);
  const work = load();
  void work.then(
    () => watchdog.stop(),
    () => watchdog.stop(),
  );
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(loadTimeoutError(opts.file, opts.ms));
    }, opts.ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (late) {
      work.then(
        (value) => opts.onLate?.(value),
        () => {},
      );
    }
  }
}

interface Watchdog {
  stop(): void;
}

/**
 * The watchdog thread's code, run with `eval` so it needs no loader or bundler entry. It waits on the shared
 * heartbeat slot; if the main thread stops beating for `limit` ms while the load runs, the event loop is stuck in
 * synchronous code that nothing else can interrupt.
 */
const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new Int32Array(workerData.shared);
const period = workerData.period;
let last = Atomics.load(beat, 0);
let quietSince = Date.now();
for (;;) {
  Atomics.wait(beat, 1, 0, period);
  if (Atomics.load(beat, 1) !== 0) break;
  const now = Atomics.load(beat, 0);
  if (now !== last) { last = now; quietSince = Date.now(); continue; }
  if (Date.now() - quietSince >= workerData.limit) {
    try { writeSync(2, workerData.message); } catch {}
    process.kill(workerData.pid, 'SIGKILL');
    break;
  }
}
`;

function startWatchdog(limitMs: number, periodMs: number, message: string): Watchdog {
  // [0]: heartbeat counter, [1]: 1 once the load settled.
  const shared = new SharedArrayBuffer(8);
  const beat = new Int32Array(shared);
  const interval = setInterval(() => Atomics.add(beat, 0, 1), periodMs);
  interval.unref();
  let worker: Worker | undefined;
  try {
    worker = new Worker(WATCHDOG_SOURCE, {
      eval: true,
      workerData: { shared, period: periodMs, limit: limitMs, message, pid: process.pid },
    });
    worker.unref();
    worker.on('error', (err) => writeSync(2, `load watchdog failed: ${String(err)}\n`));
  } catch (err) {
    // Without threads (an unusual embedder) the timer layer still stands.
    writeSync(2, `load watchdog unavailable: ${String(err)}\n`);
  }
  return {
    stop() {
      clearInterval(interval);
      Atomics.store(beat, 1, 1);
      Atomics.notify(beat, 1);
    },
  };
}
