/**
 * Messages that run a LLaVA compile in an instance of the inference process (protocol.ts unions them in).
 * The compile reads gigabytes of weights and spends minutes on the CPU: in the process that runs models,
 * it never stalls the UI, and an out-of-memory ends that process, not the app.
 */
import type { LlavaCompileOptions, LlavaCompileProgress, ResolvedLlavaCompileOptions } from '../llava-compiler/compile-llava';
import type { LlavaComponent } from './known-packs';

export interface LlavaCompileRequest {
  type: 'compile-llava';
  id: number;
  modelDir: string;
  cacheDir: string;
  options: LlavaCompileOptions;
}

export type LlavaCompileToWorker = LlavaCompileRequest | { type: 'compile-llava-cancel'; id: number };

/** What a finished compile hands to the store: where the graphs are and what they were built with. */
export interface LlavaCompileOutcome {
  dir: string;
  sourceKey: string;
  options: ResolvedLlavaCompileOptions;
  graphs: Record<LlavaComponent, string>;
  /** False when an identical entry was already in the cache. */
  built: boolean;
}

export type LlavaCompileFromWorker =
  | { type: 'compile-llava-progress'; id: number; progress: LlavaCompileProgress }
  | ({ type: 'compile-llava-done'; id: number } & LlavaCompileOutcome);
