/**
 * Runs one benchmark step in a child process (tsx, IPC) so its peak memory is its own, and watches the child's
 * RSS from outside: the kernel's high-water mark, which the child reports when done, is the number to trust;
 * the sampled one also shows when a child dies of memory before it can report.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildRun<R> {
  result: R;
  /** highest RSS seen by sampling /proc/<pid>/status every 200 ms (0 where /proc is missing) */
  sampledPeakRssBytes: number;
  wallMs: number;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The message a child sends last; any other message goes to `onMessage`. */
export interface ChildDone<R> {
  type: 'done';
  result: R;
}

export function runChild<R, M = unknown>(script: string, args: string[], onMessage?: (m: M) => void): Promise<ChildRun<R>> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const p = fork(script, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let peak = 0;
    let done: R | undefined;
    const timer = setInterval(() => {
      if (p.pid !== undefined) peak = Math.max(peak, rssOf(p.pid));
    }, 200);
    p.on('message', (m) => {
      const msg = m as ChildDone<R> | M;
      if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'done') done = (msg as ChildDone<R>).result;
      else onMessage?.(msg as M);
    });
    p.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    p.on('exit', (code, signal) => {
      clearInterval(timer);
      if (done !== undefined && code === 0) resolve({ result: done, sampledPeakRssBytes: peak, wallMs: performance.now() - t0 });
      else reject(new Error(`benchmark child ${script} exited with ${signal ?? code} (sampled peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB)`));
    });
  });
}

/** In the child: send the result and exit once it is flushed. */
export function finishChild<R>(result: R): void {
  const msg: ChildDone<R> = { type: 'done', result };
  process.send!(msg, () => process.exit(0));
}
