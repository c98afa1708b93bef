import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's full collection, to free buffers let go of now rather than after the next allocation has been made beside
 * them. Node exposes it only behind --expose-gc; the flag can be set at run time and the function taken from a
 * fresh context (what the flag does at start), so it works however the process was started.
 */
let gcFunction: (() => void) | undefined;
export function collectGarbage(): void {
  gcFunction ??= (() => {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (typeof existing === 'function') return existing;
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      if (typeof gc === 'function') return gc as () => void;
    } catch {
      // Without it, V8 collects on its own schedule: more memory at a peak, nothing wrong.
    }
    return () => {};
  })();
  gcFunction();
}
