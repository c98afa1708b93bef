/**
 * Tiny LLaVA packs in the transformers.js ONNX layout (onnx/vision_encoder*.onnx, onnx/embed_tokens*.onnx,
 * onnx/decoder_model_merged*.onnx, config.json, generation_config.json, preprocessor_config.json,
 * processor_config.json, tokenizer.json, tokenizer_config.json, chat_template.json), built the way real packs
 * are: a tiny llava-interleave (SigLIP + Qwen2) checkpoint in the llava-hf layout (tiny-llava-hf.ts) compiled
 * by Tandem's LLaVA compiler (`compileLlavaToFolder`, the transformers.js decoder interface). `writeTinyLlava`
 * writes a few kilobytes, for wiring, streaming, KV cache and stop tests.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileLlavaToFolder, LLAVA_COMPILER_VERSION, LLAVA_MANIFEST_FILE } from '../src/main/core/llava-compiler/compile-llava';
import type { EmbeddingPrecision } from '../src/main/core/llava-compiler/llama-decoder-graph';
import type { LinearPrecision } from '../src/main/core/llava-compiler/linear-weights';
import { defaultTestModelRoot } from './test-model-cache';
import { TINY_LLAVA_HF_VERSION, TINY_LLAVA_INTERLEAVE_SHAPE, writeTinyLlavaHf, type LlavaHfTokenIds, type TinyLlavaHfInfo, type TinyLlavaHfShape } from './tiny-llava-hf';

/** Tiny context, so trimming is exercised with a few turns. */
export const TINY_LLAVA_CONTEXT = 384;

/**
 * llava-interleave's structure, tiny: 32 px images in 8 px patches (16 image tokens), 4 query heads over 2 KV
 * heads so grouped-query attention is exercised too, and a TINY_LLAVA_CONTEXT-token context.
 */
export const TINY_LLAVA_SHAPE: TinyLlavaHfShape = {
  ...TINY_LLAVA_INTERLEAVE_SHAPE,
  text: { ...TINY_LLAVA_INTERLEAVE_SHAPE.text, maxPositions: TINY_LLAVA_CONTEXT },
};

/** The variants the compiler writes per component (transformers.js' file suffixes: '', '_int8', '_q4'). */
export interface LlavaVariants {
  vision_encoder: LinearPrecision[];
  embed_tokens: EmbeddingPrecision[];
  decoder_model_merged: LinearPrecision[];
}

export interface WriteLlavaOptions {
  /** seed of the llava-hf checkpoint's weights */
  seed?: number;
  /** Which ONNX variants to write (one file per component per dtype). Default: all fp32. */
  variants?: Partial<LlavaVariants>;
  /** text_config.max_position_embeddings; default TINY_LLAVA_CONTEXT */
  maxPositionEmbeddings?: number;
}

/**
 * The checkpoint's token embeddings are drawn ~N(0, 1); at that size a token's own row dominates the residual
 * stream and, through the tied lm_head, greedy decoding repeats the last token forever. Scaled down, the layers
 * and the image decide: greedy answers vary from step to step and from photo to photo, so comparing two
 * decodes (KV cache against a full re-read) tells them apart.
 */
const EMBEDDING_SCALE = 0.15;

/** Seed of the checkpoint's weights; with EMBEDDING_SCALE, one whose greedy answers are varied words. */
const DEFAULT_SEED = 11;

/**
 * Every embedding row is scaled by EMBEDDING_SCALE, and the tiny model's "rare" tokens (punctuation and control
 * bytes, specials, the rows padding the table past the tokenizer) get smaller ones still: with tied embeddings
 * that makes them unlikely too, so greedy text stays readable words rather than U+FFFD, and the end-of-turn
 * token is never likely: answers run to max_new_tokens, which the stop tests rely on.
 */
function* dampRareTokens(ids: LlavaHfTokenIds, vocab: number): Iterable<readonly [number, number]> {
  const scale = new Map<number, number>();
  for (let id = 0; id < vocab; id++) scale.set(id, EMBEDDING_SCALE);
  for (const id of ids.rareByteIds ?? []) scale.set(id, EMBEDDING_SCALE * 0.1);
  for (const id of ids.specialIds ?? [ids.image, ids.eos]) scale.set(id, EMBEDDING_SCALE * 0.01);
  for (let id = ids.size; id < vocab; id++) scale.set(id, EMBEDDING_SCALE * 0.01);
  yield* scale;
}

/**
 * Writes a compiled tiny LLaVA pack into `dir`: the llava-hf checkpoint is written to a temporary folder and
 * compiled once per variant combination into `dir` (each compile writes all three graphs; a dtype listed for
 * several compiles is the same graph written again).
 */
export async function writeTinyLlava(dir: string, options: WriteLlavaOptions = {}): Promise<TinyLlavaHfInfo> {
  const shape: TinyLlavaHfShape = { ...TINY_LLAVA_SHAPE, text: { ...TINY_LLAVA_SHAPE.text, maxPositions: options.maxPositionEmbeddings ?? TINY_LLAVA_CONTEXT } };
  const variants: LlavaVariants = { vision_encoder: ['fp32'], embed_tokens: ['fp32'], decoder_model_merged: ['fp32'], ...options.variants };
  const compiles = Math.max(variants.vision_encoder.length, variants.embed_tokens.length, variants.decoder_model_merged.length);
  if (Math.min(variants.vision_encoder.length, variants.embed_tokens.length, variants.decoder_model_merged.length) === 0) throw new Error('every component needs at least one variant');
  const pick = <T>(list: T[], i: number): T => list[Math.min(i, list.length - 1)]!;
  const source = await mkdtemp(join(tmpdir(), 'tandem-tiny-llava-hf-'));
  try {
    const info = await writeTinyLlavaHf(source, shape, {
      shards: 1,
      seed: options.seed ?? DEFAULT_SEED,
      embeddingRowScales: dampRareTokens,
      // A ChatML turn then costs what the engine's context trimming budgets for it, as with Qwen2's real
      // vocabulary; with 'assistant' in five tokens a trimmed prompt could overrun the tiny context.
      wholeRoleNames: true,
    });
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < compiles; i++) {
      await compileLlavaToFolder(source, dir, {
        visionPrecision: pick(variants.vision_encoder, i),
        embeddingPrecision: pick(variants.embed_tokens, i),
        decoderPrecision: pick(variants.decoder_model_merged, i),
        decoderIo: 'transformers.js',
      });
    }
    // The manifest describes one compile; a folder holding several compiles' graphs is a plain export.
    if (compiles > 1) await rm(join(dir, LLAVA_MANIFEST_FILE), { force: true });
    return { ...info, dir };
  } finally {
    await rm(source, { recursive: true, force: true });
  }
}

/** Bump when this generator changes, so cached copies are rebuilt (the compiler's and the checkpoint writer's versions are in the key too). */
export const TINY_LLAVA_VERSION = 2;

/** A ready tiny LLaVA folder under `.cache/test-models` (or $TANDEM_TEST_MODELS), generated once. */
export async function ensureTinyLlava(root = defaultTestModelRoot()): Promise<string> {
  const dir = join(root, `tiny-llava-v${TINY_LLAVA_VERSION}-hf${TINY_LLAVA_HF_VERSION}-c${LLAVA_COMPILER_VERSION}`);
  const ready = () => access(join(dir, 'config.json')).then(() => true, () => false);
  if (await ready()) return dir;
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-tiny-llava-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeTinyLlava(tmp);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // Another worker may have finished the same model first.
    if (!(await ready())) throw err;
  }
  return dir;
}
