/** What makes a LLaVA pack "compiled": which of its files are sources, and what the runtime loads. */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LLAVA_MANIFEST_FILE } from '../llava-compiler/compile-llava';
import { isQ4BlockSize, type Q4BlockSize } from '../llava-compiler/q4-quantize';
import type { LlavaDTypes } from './known-packs';
import type { LlavaCompileOutcome } from './llava-compile-protocol';
import type { CompiledArtefact, InstalledModel } from './model-repository';
import type { CompilePrecision, GraphPrecision, InstalledFile } from './model-pack';

/** Weights the compiler reads: deleted by "delete sources", and what marks a folder as llava-hf sources. */
export function isSourceWeight(path: string): boolean {
  return path.endsWith('.safetensors') || path === 'model.safetensors.index.json';
}

/** A LLaVA pack whose files are llava-hf sources (or were, before they were deleted) runs only once compiled. */
export function needsCompiler(model: Pick<InstalledModel, 'kind' | 'files' | 'compiled'>): boolean {
  return model.kind === 'llava' && (model.compiled !== null || model.files.some((f) => isSourceWeight(f.path)));
}

export function compiledArtefact(out: LlavaCompileOutcome, sourcesDeleted = false): CompiledArtefact {
  const dtypes: LlavaDTypes = {
    vision_encoder: out.options.visionPrecision,
    embed_tokens: out.options.embeddingPrecision,
    decoder_model_merged: out.options.decoderPrecision,
  };
  return {
    key: out.sourceKey,
    dir: out.dir,
    precision: out.options.decoderPrecision,
    dtypes,
    ...(out.options.decoderPrecision === 'q4' ? { q4BlockSize: out.options.q4BlockSize } : {}),
    ...(sourcesDeleted ? { sourcesDeleted } : {}),
  };
}

/** Why a compiled folder cannot be used, or null when its manifest and graphs are all there. */
export async function compiledProblem(compiled: CompiledArtefact): Promise<string | null> {
  let graphs: string[];
  try {
    const manifest = JSON.parse(await readFile(join(compiled.dir, LLAVA_MANIFEST_FILE), 'utf8')) as { graphs?: Record<string, string> };
    graphs = Object.values(manifest.graphs ?? {});
  } catch {
    return `its compiled folder ${compiled.dir} is missing or incomplete`;
  }
  for (const g of graphs) {
    const ok = await stat(join(compiled.dir, g)).then((s) => s.isFile(), () => false);
    if (!ok) return `${g} is missing from its compiled folder ${compiled.dir}`;
  }
  return null;
}

/** Deletes a pack's weights, keeping config and tokenizer files; returns the files left and the bytes freed. */
export async function deleteSourceWeights(dir: string, files: readonly InstalledFile[]): Promise<{ kept: InstalledFile[]; freedBytes: number }> {
  let freedBytes = 0;
  const kept: InstalledFile[] = [];
  for (const f of files) {
    if (!isSourceWeight(f.path)) {
      kept.push(f);
      continue;
    }
    await rm(join(dir, f.path), { force: true });
    freedBytes += f.size;
  }
  return { kept, freedBytes };
}

/** The vision tower's or embed_tokens' precision a compiled pack was built with ('fp32' when unknown: the default). */
export function compiledGraphPrecision(compiled: Pick<CompiledArtefact, 'dtypes'> | null | undefined, component: 'vision_encoder' | 'embed_tokens'): GraphPrecision {
  return compiled?.dtypes?.[component] === 'int8' ? 'int8' : 'fp32';
}

/** The q4 block size a compiled pack was built with: records from before the choice existed were built at 32. */
export function compiledQ4BlockSize(compiled: Pick<CompiledArtefact, 'precision' | 'q4BlockSize'> | null | undefined): Q4BlockSize | undefined {
  if (!compiled || compiled.precision !== 'q4') return undefined;
  const n = compiled.q4BlockSize ?? 32;
  return isQ4BlockSize(n) ? n : undefined;
}

export function defaultPrecision(requested: CompilePrecision | undefined, packDefault: CompilePrecision | undefined): CompilePrecision {
  return requested ?? packDefault ?? 'q4';
}

/**
 * Tells the compiler's hash memo (llava-compiler/source-hashes.ts: `{ [absolute path]: { size, mtimeMs, sha256 } }`
 * in `<cacheDir>/source-hashes.json`) the hashes the download or import already verified, so a 14 GB
 * checkpoint is not read again just to key the cache. An entry whose size or mtime does not match is ignored
 * there and the file is hashed as usual, so a stale or foreign memo can only cost time.
 */
export async function seedSourceHashes(cacheDir: string, dir: string, files: readonly InstalledFile[]): Promise<void> {
  const memoPath = join(cacheDir, 'source-hashes.json');
  let memo: Record<string, { size: number; mtimeMs: number; sha256: string }> = {};
  try {
    const parsed: unknown = JSON.parse(await readFile(memoPath, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null) memo = parsed as typeof memo;
  } catch {
    // absent or unreadable: start afresh
  }
  for (const f of files) {
    const abs = resolve(dir, f.path);
    const st = await stat(abs).catch(() => null);
    if (st && st.size === f.size) memo[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256: f.sha256 };
  }
  const tmp = `${memoPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(memo, null, 1));
  await rename(tmp, memoPath);
}

/** Rough size of a compiled folder from its fp16 sources (LLaVA-1.5-7B: 14 GB → ≈ 4 GB at q4). */
export function estimateCompiledBytes(sourceBytes: number, precision: CompilePrecision): number {
  const ratio = { q4: 0.3, int8: 0.55, fp32: 2.05 }[precision];
  return Math.round(sourceBytes * ratio);
}
