/**
 * The LLaVA packs the chat and compile benchmarks measure: random llava-hf folders at the real shapes
 * (random-llava-hf.ts), or the tiny test folders for a smoke run, compiled by compileLlava exactly as the
 * model store compiles a download. Everything lives under .cache/bench (git-ignored) and is reused.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveLlavaCompileOptions, type LlavaCompileOptions } from '../../src/main/core/llava-compiler/compile-llava';
import type { LlavaDTypes } from '../../src/main/core/models/known-packs';
import { isQ4BlockSize } from '../../src/main/core/llava-compiler/q4-quantize';
import { ensureRandomLlavaHf, type RandomLlavaModel } from '../../test-models/random-llava-hf';
import { ensureTinyLlavaHf } from '../../test-models/tiny-llava-hf';
import { runChild } from './child-process-run';
import { dirSize } from './dir-size';
import { fmtBytes, fmtDuration, StatusLine } from './format';
import type { CompileChildProgress, CompileChildResult } from './llava-compile-child';

export const BENCH_ROOT = join(process.cwd(), '.cache', 'bench');

/** Compile variants by name: `q4-acc4` is what the app compiles by default. */
export const LLAVA_VARIANTS: Record<string, LlavaCompileOptions> = {
  'q4-acc4': { decoderPrecision: 'q4', accuracyLevel: 4 },
  'q4-acc0': { decoderPrecision: 'q4', accuracyLevel: 0 },
  int8: { decoderPrecision: 'int8' },
  fp32: { decoderPrecision: 'fp32' },
};

export function variantOptions(name: string): LlavaCompileOptions {
  const v = LLAVA_VARIANTS[name];
  if (v) return v;
  // Free-form `<precision>[-acc<level>][-b<block size>][-vi8]` for the benches' flags; -vi8 = int8 vision + embeddings.
  const m = /^(q4|int8|fp32)(?:-acc([0-4]))?(?:-b(\d+))?(-vi8)?$/.exec(name);
  const block = m?.[3] ? Number(m[3]) : undefined;
  if (!m || (block !== undefined && !isQ4BlockSize(block))) {
    throw new Error(`unknown variant ${name}; use ${Object.keys(LLAVA_VARIANTS).join(', ')} or <q4|int8|fp32>[-acc<0-4>][-b<16|32|64|128|256>][-vi8]`);
  }
  return {
    decoderPrecision: m[1] as 'q4' | 'int8' | 'fp32',
    ...(m[2] ? { accuracyLevel: Number(m[2]) as 0 | 1 | 2 | 3 | 4 } : {}),
    ...(block !== undefined && isQ4BlockSize(block) ? { q4BlockSize: block } : {}),
    ...(m[4] ? { visionPrecision: 'int8' as const, embeddingPrecision: 'int8' as const } : {}),
  };
}

/** The dtypes the engine loads for a compiled entry, as the model store records them (compiled-pack.ts). */
export function compiledDtypes(options: LlavaCompileOptions): LlavaDTypes {
  const r = resolveLlavaCompileOptions(options);
  return { vision_encoder: r.visionPrecision, embed_tokens: r.embeddingPrecision, decoder_model_merged: r.decoderPrecision };
}

/** The llava-hf source folder: the random full-size one, or a tiny test one (`tiny`). */
export async function sourceFolder(model: RandomLlavaModel, tiny: boolean): Promise<string> {
  if (tiny) return ensureTinyLlavaHf(model === '7b' ? 'llava-1.5' : 'llava-interleave', join(BENCH_ROOT, 'tiny'));
  const status = new StatusLine();
  const t0 = performance.now();
  const out = await ensureRandomLlavaHf(model, BENCH_ROOT, (p) =>
    status.update(`writing a random ${model} llava-hf folder (once): ${fmtBytes(p.bytes)} of ${fmtBytes(p.totalBytes)}, ${p.file}`),
  );
  if (out.built) status.done(`wrote ${out.dir} in ${fmtDuration((performance.now() - t0) / 1000)}`);
  return out.dir;
}

export function packCacheDir(model: RandomLlavaModel, tiny: boolean): string {
  return join(BENCH_ROOT, 'llava-packs', tiny ? `tiny-${model}` : model);
}

export interface CompileReport extends CompileChildResult {
  sampledPeakRssBytes: number;
  outBytes: number;
}

const CHILD = fileURLToPath(new URL('./llava-compile-child.ts', import.meta.url));

/**
 * compileLlava in its own process (its peak RSS is the compile's). `fresh` rebuilds even when cached: the
 * cached entry (found by asking compileLlava, so the bench never guesses its cache key) and the hash memo are
 * removed, and the compile runs again from scratch.
 */
export async function compilePack(modelDir: string, cacheDir: string, options: LlavaCompileOptions, fresh: boolean): Promise<CompileReport> {
  const first = await compileOnce(modelDir, cacheDir, options);
  if (!fresh || first.built) return first;
  await rm(first.dir, { recursive: true, force: true });
  await rm(join(cacheDir, 'source-hashes.json'), { force: true });
  return compileOnce(modelDir, cacheDir, options);
}

async function compileOnce(modelDir: string, cacheDir: string, options: LlavaCompileOptions): Promise<CompileReport> {
  const status = new StatusLine();
  const t0 = performance.now();
  const run = await runChild<CompileChildResult, CompileChildProgress>(CHILD, [modelDir, cacheDir, JSON.stringify(options)], (m) => {
    if (m.type === 'progress') status.update(`compiling: ${m.progress.label} (${m.progress.done}/${m.progress.total}), ${fmtDuration((performance.now() - t0) / 1000)}`);
  });
  status.done();
  return { ...run.result, sampledPeakRssBytes: run.sampledPeakRssBytes, outBytes: (await dirSize(run.result.dir)).bytes };
}
