import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker } from './protocol';

/** A running inference process, whatever started it: child_process.fork here, utilityProcess in the app. */
export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export type SpawnWorker = () => WorkerHandle;

/** The inference process entry, run through tsx so the CLI and tests need no build step. */
export const INFERENCE_ENTRY = fileURLToPath(new URL('./inference-process.ts', import.meta.url));

export function forkWorker(entry: string = INFERENCE_ENTRY, env: NodeJS.ProcessEnv = process.env): WorkerHandle {
  const child = fork(entry, [], {
    execArgv: entry.endsWith('.ts') ? ['--import', 'tsx'] : [],
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (l) => child.on('message', (m) => l(m as FromWorker)),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

/** Asks the process to shut down after the work in hand, and kills it if it has not gone within `graceMs`. */
export async function shutdownWorker(w: WorkerHandle, graceMs = 5000): Promise<void> {
  const exited = new Promise<void>((resolve) => w.onExit(() => resolve()));
  w.send({ type: 'shutdown' });
  const timer = setTimeout(() => w.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
