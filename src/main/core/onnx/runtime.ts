/**
 * The one module that imports onnxruntime-node. Everything else asks it for sessions and passes plain
 * `NdArray`s, so swapping the runtime (or its version) touches only this file.
 */
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { ModelFileError } from '../errors';
import type { NdArray } from './nd-array';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';
export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';

export interface RuntimeOptions {
  /** execution provider; 'auto' tries the platform's accelerator first and falls back to CPU. Default 'auto'. */
  executionProvider?: ExecutionProviderChoice;
  /** threads inside one operator (matrix multiplies). Default: all cores, at most 8. */
  intraOpThreads?: number;
  /** threads running independent operators in parallel. Default 1 (graphs here are sequential). */
  interOpThreads?: number;
  graphOptimization?: GraphOptimization;
  /**
   * Let idle intra-op threads spin briefly before sleeping (onnxruntime's default). Faster for back-to-back
   * small runs such as decoding steps; turn off when sharing the CPU with other busy processes.
   */
  spinWait?: boolean;
  /**
   * Write onnxruntime's per-operator profile (Chrome trace JSON) to `<prefix>_<date>.json`; the file is
   * complete once the runner is disposed. For benchmarks, not for the app.
   */
  profileFilePrefix?: string;
  /** Save the graph as onnxruntime optimised it (which fusions applied), weights inline. For inspection only. */
  optimizedModelPath?: string;
  /**
   * onnxruntime's CPU memory arena (default on). The arena keeps the largest activations it ever held and
   * splits them for later runs; off, activations go back to the system after each run, which keeps a batch
   * encoder's peak memory near its weights.
   */
  cpuMemArena?: boolean;
}

export interface InferenceRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** the provider the session was created with ('cpu' after a fallback). */
  readonly executionProvider: string;
  run(feeds: Record<string, NdArray>, outputs?: readonly string[]): Promise<Record<string, NdArray>>;
  /**
   * Runs with the outputs written straight into the caller's arrays (`outputs`: name → array of exactly that
   * output's shape; views into a larger array are fine). Only those outputs are computed. onnxruntime then
   * allocates no result of its own and nothing is copied into a new JS buffer, so a large output is in memory
   * once instead of twice at the end of the run.
   */
  runInto?(feeds: Record<string, NdArray>, outputs: Record<string, NdArray>): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Whether onnxruntime's CUDA provider library is installed next to the native binding. The npm package
 * ships without it; asking for CUDA anyway costs a failed load and an error line on stderr.
 */
function cudaProviderInstalled(platform: NodeJS.Platform, arch: string): boolean {
  try {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = join(pkgDir, 'bin', 'napi-v6', platform, arch);
    const lib = platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(join(binDir, lib));
  } catch {
    return false;
  }
}

/** Providers to try, best first, for a platform. CPU is always last. */
export function providerCandidates(
  choice: ExecutionProviderChoice,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
  hasCuda: (platform: NodeJS.Platform, arch: string) => boolean = cudaProviderInstalled,
): string[] {
  if (choice === 'cpu') return ['cpu'];
  if (choice !== 'auto') return [choice, 'cpu'];
  const out: string[] = [];
  if ((platform === 'linux' || platform === 'win32') && arch === 'x64' && hasCuda(platform, arch)) out.push('cuda');
  if (platform === 'win32') out.push('dml');
  if (platform === 'darwin') out.push('coreml');
  out.push('cpu');
  return out;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

function toOrt(t: NdArray): ort.Tensor {
  return new ort.Tensor(t.type, t.data, t.dims);
}

function fromOrt(name: string, t: ort.Tensor): NdArray {
  const dims = [...t.dims];
  switch (t.type) {
    case 'float32':
      return { type: 'float32', data: t.data as Float32Array, dims };
    case 'int64':
      return { type: 'int64', data: t.data as BigInt64Array, dims };
    case 'int32':
      return { type: 'int32', data: t.data as Int32Array, dims };
    case 'int8':
      return { type: 'int8', data: t.data as Int8Array, dims };
    case 'uint8':
      return { type: 'uint8', data: t.data as Uint8Array, dims };
    case 'bool':
      return { type: 'bool', data: t.data as Uint8Array, dims };
    case 'float16':
      return { type: 'float16', data: t.data as Uint16Array, dims };
    default:
      throw new Error(`output ${name}: unsupported tensor type ${t.type}`);
  }
}

/**
 * Opens a model file (external data is found next to it). A file onnxruntime cannot load becomes a
 * ModelFileError naming the file.
 */
export async function createInferenceSession(modelPath: string, options: RuntimeOptions = {}): Promise<InferenceRunner> {
  const candidates = providerCandidates(options.executionProvider ?? 'auto');
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? defaultThreads(),
    interOpNumThreads: options.interOpThreads ?? 1,
    graphOptimizationLevel: options.graphOptimization ?? 'all',
    executionMode: 'sequential',
    logSeverityLevel: 3,
    ...(options.spinWait === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
    ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
    ...(options.optimizedModelPath ? { optimizedModelFilePath: options.optimizedModelPath } : {}),
    ...(options.cpuMemArena === false ? { enableCpuMemArena: false } : {}),
  };
  let lastError: unknown;
  // Try the accelerator with CPU as ORT's own per-node fallback; if the provider cannot load at all,
  // retry on CPU alone.
  for (let i = 0; i < candidates.length; i++) {
    const providers = candidates.slice(i);
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: providers });
      return wrap(session, providers[0] as string, options.profileFilePrefix !== undefined);
    } catch (err) {
      lastError = err;
      if (providers.length === 1) break;
    }
  }
  throw new ModelFileError(modelPath, `Could not load the compiled model ${modelPath}: ${errorText(lastError)}`, { cause: lastError });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function wrap(session: ort.InferenceSession, provider: string, profiling = false): InferenceRunner {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    executionProvider: provider,
    async run(feeds, outputs) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
      const result = outputs ? await session.run(ortFeeds, [...outputs]) : await session.run(ortFeeds);
      const out: Record<string, NdArray> = {};
      for (const [k, v] of Object.entries(result)) out[k] = fromOrt(k, v as ort.Tensor);
      return out;
    },
    async runInto(feeds, outputs) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
      const fetches: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(outputs)) fetches[k] = toOrt(v);
      await session.run(ortFeeds, fetches);
    },
    async dispose() {
      // A profiling session writes its trace file here.
      if (profiling) session.endProfiling();
      await session.release();
    },
  };
}

/** Runs an in-memory model once; for small graphs built in tests. */
export async function runModelBytes(model: Uint8Array, feeds: Record<string, NdArray>, options: RuntimeOptions = {}): Promise<Record<string, NdArray>> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.intraOpThreads ?? 1,
    graphOptimizationLevel: options.graphOptimization ?? 'all',
    logSeverityLevel: 3,
  });
  try {
    return await wrap(session, 'cpu').run(feeds);
  } finally {
    await session.release();
  }
}
