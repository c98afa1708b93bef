/**
 * The inference process's side of a LLaVA compile (llava-compile-protocol.ts). The compiler is imported on
 * the first request, so a process that only captions never loads it.
 */
import { errorMessage, TandemError } from '../errors';
import type { LlavaCompileOptions } from '../llava-compiler/compile-llava';
import type { LlavaCompileFromWorker, LlavaCompileToWorker } from './llava-compile-protocol';

type Reply = LlavaCompileFromWorker | { type: 'error'; id: number; code: string; message: string };

export function isLlavaCompileMessage(m: { type: string }): m is LlavaCompileToWorker {
  return m.type === 'compile-llava' || m.type === 'compile-llava-cancel';
}

export class LlavaCompileHost {
  private readonly running = new Map<number, AbortController>();

  constructor(private readonly send: (m: Reply) => void) {}

  handle(m: LlavaCompileToWorker): void {
    if (m.type === 'compile-llava-cancel') {
      this.running.get(m.id)?.abort(new TandemError('cancelled', 'Compile cancelled.'));
      return;
    }
    const controller = new AbortController();
    this.running.set(m.id, controller);
    void this.compile(m.id, m.modelDir, m.cacheDir, m.options, controller.signal).finally(() => this.running.delete(m.id));
  }

  private async compile(id: number, modelDir: string, cacheDir: string, options: LlavaCompileOptions, signal: AbortSignal): Promise<void> {
    try {
      const { compileLlava } = await import('../llava-compiler/compile-llava');
      const out = await compileLlava(modelDir, cacheDir, {
        ...options,
        signal,
        onProgress: (progress) => this.send({ type: 'compile-llava-progress', id, progress }),
      });
      const m = out.manifest;
      this.send({ type: 'compile-llava-done', id, dir: out.dir, sourceKey: m.sourceKey, options: m.options, graphs: m.graphs, built: out.built });
    } catch (err) {
      const code = signal.aborted ? 'cancelled' : err instanceof TandemError ? err.code : 'compile';
      this.send({ type: 'error', id, code, message: errorMessage(err) });
    }
  }
}
