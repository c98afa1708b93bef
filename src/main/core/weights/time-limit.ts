/**
 * Hard time limit for synchronous parsing. A `setTimeout` cannot fire while a parser loops on the main thread;
 * node:vm's timeout runs on a watchdog thread and terminates the JavaScript that is executing, wherever it is.
 */
import { Script } from 'node:vm';

const RUN = new Script('run()');

export class TimeLimitError extends Error {
  constructor(readonly ms: number) {
    super(`did not finish within ${ms} ms`);
    this.name = 'TimeLimitError';
  }
}

export function runWithTimeLimit<T>(fn: () => T, ms: number): T {
  let value: T | undefined;
  try {
    RUN.runInNewContext(
      {
        run: () => {
          value = fn();
        },
      },
      { timeout: ms },
    );
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new TimeLimitError(ms);
    throw err;
  }
  return value as T;
}
