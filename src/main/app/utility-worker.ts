import { utilityProcess } from 'electron';
import type { FromWorker } from '../core/inference/protocol';
import type { WorkerHandle } from '../core/inference/worker-handle';

/**
 * Starts the inference process as an Electron utilityProcess (a Node child without a window), so a model
 * crash or out-of-memory ends that process, not the app. Same protocol as child_process.fork in the CLI.
 */
export function spawnUtilityWorker(entry: string): WorkerHandle {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Tandem inference', stdio: 'inherit' });
  return {
    get pid() {
      return child.pid;
    },
    send: (m) => child.postMessage(m),
    onMessage: (l) => child.on('message', (m: unknown) => l(m as FromWorker)),
    onExit: (l) => child.on('exit', (code: number) => l(code, null)),
    kill: () => {
      child.kill();
    },
  };
}
