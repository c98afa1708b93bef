/**
 * Runs a LLaVA compile for the model store: in a fresh inference process (the app and the CLI), or in this
 * process (unit tests that need no second process). The process is started per compile and shut down after
 * it, so the gigabytes it touched go back to the system at once.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TandemError } from '../errors';
import { WorkerCrashedError } from '../inference/inference-client';
import type { FromWorker, ToWorker } from '../inference/protocol';
import { shutdownWorker, type SpawnWorker } from '../inference/worker-handle';
import type { LlavaCompileOptions, LlavaCompileProgress } from '../llava-compiler/compile-llava';
import type { LlavaCompileOutcome } from './llava-compile-protocol';

export interface LlavaCompileJob {
  modelDir: string;
  cacheDir: string;
  options: LlavaCompileOptions;
  signal?: AbortSignal;
  onProgress?: (p: LlavaCompileProgress) => void;
}

export type LlavaCompileRunner = (job: LlavaCompileJob) => Promise<LlavaCompileOutcome>;

/** In this process: for tests and tools that are already off the UI's thread. */
export const inProcessCompileRunner: LlavaCompileRunner = async (job) => {
  const { compileLlava } = await import('../llava-compiler/compile-llava');
  const out = await compileLlava(job.modelDir, job.cacheDir, {
    ...job.options,
    ...(job.signal ? { signal: job.signal } : {}),
    ...(job.onProgress ? { onProgress: job.onProgress } : {}),
  });
  const m = out.manifest;
  return { dir: out.dir, sourceKey: m.sourceKey, options: m.options, graphs: m.graphs, built: out.built };
};

/** How long a cancelled compile may take to clean up after itself before its process is killed. */
const CANCEL_GRACE_MS = 10_000;

/** Build folders compileLlava names `.tmp-llava-<key>-<pid>-<random>`: those of a killed process are removed here. */
async function removeBuildsOf(cacheDir: string, pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const mark = `-${pid}-`;
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (name.startsWith('.tmp-llava-') && name.includes(mark)) await rm(join(cacheDir, name), { recursive: true, force: true });
  }
}

export function workerCompileRunner(spawn: SpawnWorker): LlavaCompileRunner {
  return async (job) => {
    job.signal?.throwIfAborted();
    const worker = spawn();
    const id = 1;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      worker.send({ type: 'compile-llava-cancel', id } satisfies ToWorker);
      // A compile stops between tensors; one that does not answer in time is killed and its folder removed below.
      killTimer = setTimeout(() => worker.kill('SIGKILL'), CANCEL_GRACE_MS);
    };
    try {
      const outcome = await new Promise<LlavaCompileOutcome>((resolve, reject) => {
        worker.onMessage((m: FromWorker) => {
          if (m.type === 'ready') {
            worker.send({ type: 'compile-llava', id, modelDir: job.modelDir, cacheDir: job.cacheDir, options: job.options });
            if (job.signal?.aborted) onAbort();
            else job.signal?.addEventListener('abort', onAbort, { once: true });
            return;
          }
          if (!('id' in m) || m.id !== id) return;
          if (m.type === 'compile-llava-progress') job.onProgress?.(m.progress);
          else if (m.type === 'compile-llava-done') {
            const { type: _type, id: _id, ...rest } = m;
            resolve(rest);
          } else if (m.type === 'error') reject(m.code === 'cancelled' ? new TandemError('cancelled', 'Compile cancelled.') : new TandemError(m.code, m.message));
        });
        worker.onExit((code, signal) => {
          exited = true;
          if (job.signal?.aborted) reject(new TandemError('cancelled', 'Compile cancelled.'));
          else reject(new WorkerCrashedError(signal ? `killed by ${signal} while compiling` : `exit code ${code} while compiling`));
        });
      });
      return outcome;
    } finally {
      clearTimeout(killTimer);
      job.signal?.removeEventListener('abort', onAbort);
      if (!exited) await shutdownWorker(worker);
      await removeBuildsOf(job.cacheDir, worker.pid);
    }
  };
}
