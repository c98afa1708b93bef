/**
 * Generated LLaVA packs in the transformers.js ONNX layout (onnx/vision_encoder*.onnx, onnx/embed_tokens*.onnx,
 * onnx/decoder_model_merged*.onnx, config.json, generation_config.json, preprocessor_config.json,
 * processor_config.json, tokenizer.json, tokenizer_config.json, chat_template.json), with seeded random weights:
 * `writeTinyLlava` writes a few kilobytes, for wiring, streaming, KV cache and stop tests. (Benchmarks measure
 * packs the LLaVA compiler builds from llava-hf folders instead: tiny-llava-hf.ts, random-llava-hf.ts.)
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LLAVA_INTERLEAVE_CHAT_TEMPLATE } from '../src/main/core/llava/chat-template';
import { llavaOnnxPath, type LlavaDTypes } from '../src/main/core/models/known-packs';
import type { GraphBuilder } from '../src/main/core/onnx/graph-builder';
import { encodeOnnxModel } from '../src/main/core/onnx/onnx-model-writer';
import { SeededRandom } from './seeded-random';
import { decoderGraph, embedTokensGraph, visionEncoderGraph, type LlavaShape, type WeightSource } from './tiny-llava-graphs';
import { writeTinyQwenTokenizer, type TinyTokenizerIds } from './tiny-llava-tokenizer';
import { siglipPreprocessorConfig } from './preprocessor-configs';

export const TINY_LLAVA_SHAPE: LlavaShape = {
  vision: { hidden: 32, intermediate: 64, heads: 4, layers: 2, imageSize: 32, patchSize: 8, eps: 1e-6 },
  // 4 query heads over 2 KV heads, so grouped-query attention is exercised too.
  text: { hidden: 32, intermediate: 64, heads: 4, kvHeads: 2, layers: 2, vocab: 0, ropeTheta: 1_000_000, eps: 1e-6 },
};

/** Tiny context, so trimming is exercised with a few turns. */
export const TINY_LLAVA_CONTEXT = 384;

export interface WriteLlavaOptions {
  seed?: number;
  /** Which ONNX variants to write (one file per component per dtype). Default: all fp32. */
  variants?: Partial<Record<keyof LlavaDTypes, ('fp32' | 'int8' | 'q4')[]>>;
  maxPositionEmbeddings?: number;
  /** Where the chat template lives: chat_template.json as llava-hf ships it, or inside tokenizer_config.json. */
  templateIn?: 'tokenizer_config' | 'chat_template.json';
  /** Standard deviation of weight matrices: 0.02 as transformers initialises; the tiny model uses more so its text varies. */
  std?: number;
}

/**
 * Seeded weights with a realistic scale: matrices ~N(0, 0.02) as in transformers' init, norms at 1, biases
 * small. The tiny model's "rare" tokens (specials, punctuation bytes) get small embeddings so greedy text
 * stays readable words rather than U+FFFD, and the end-of-turn token is never likely: answers run to
 * max_new_tokens, which the stop tests rely on.
 */
function weightSource(seed: number, std: number): WeightSource {
  const rng = new SeededRandom(seed);
  return (_name, dims, kind) => {
    const n = dims.reduce((a, b) => a * b, 1);
    if (kind === 'norm') return new Float32Array(n).fill(1);
    if (kind === 'bias') return rng.normals(n, std / 2);
    return rng.normals(n, std);
  };
}

async function writeModelFile(graph: GraphBuilder, path: string): Promise<void> {
  // transformers.js names external data `<file>.onnx_data`; onnxruntime resolves it next to the .onnx.
  const dataName = `${basename(path)}_data`;
  const { model, chunks } = encodeOnnxModel(graph, { externalFile: dataName, externalThresholdBytes: 1 << 20 });
  await writeFile(path, model);
  if (chunks.length === 0) return;
  const file = await open(join(path, '..', dataName), 'w');
  try {
    for (const c of chunks) {
      const step = 1 << 28;
      for (let i = 0; i < c.bytes.byteLength; i += step) {
        const part = c.bytes.subarray(i, Math.min(i + step, c.bytes.byteLength));
        await file.write(part, 0, part.byteLength, c.offset + i);
      }
    }
  } finally {
    await file.close();
  }
}

async function writeLlavaPack(dir: string, shape: LlavaShape, options: WriteLlavaOptions = {}): Promise<TinyTokenizerIds> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const ids = await writeTinyQwenTokenizer(dir, { chatTemplate: LLAVA_INTERLEAVE_CHAT_TEMPLATE, templateIn: options.templateIn ?? 'chat_template.json' });
  const vocab = shape.text.vocab || Math.ceil(ids.size / 64) * 64;
  const s: LlavaShape = { ...shape, text: { ...shape.text, vocab } };
  const seed = options.seed ?? 11;
  const std = options.std ?? 0.02;
  const maxPos = options.maxPositionEmbeddings ?? TINY_LLAVA_CONTEXT;
  const config = {
    architectures: ['LlavaForConditionalGeneration'],
    ignore_index: -100,
    image_token_index: ids.image,
    model_type: 'llava',
    projector_hidden_act: 'gelu',
    text_config: {
      architectures: ['Qwen2ForCausalLM'],
      bos_token_id: ids.endOfText,
      eos_token_id: ids.imEnd,
      hidden_size: s.text.hidden,
      intermediate_size: s.text.intermediate,
      max_position_embeddings: maxPos,
      model_type: 'qwen2',
      num_attention_heads: s.text.heads,
      num_hidden_layers: s.text.layers,
      num_key_value_heads: s.text.kvHeads,
      rms_norm_eps: s.text.eps,
      rope_theta: s.text.ropeTheta,
      tie_word_embeddings: true,
      use_sliding_window: false,
      vocab_size: vocab,
    },
    tie_word_embeddings: true,
    vision_config: {
      hidden_act: 'gelu_pytorch_tanh',
      hidden_size: s.vision.hidden,
      image_size: s.vision.imageSize,
      intermediate_size: s.vision.intermediate,
      layer_norm_eps: s.vision.eps,
      model_type: 'siglip_vision_model',
      num_attention_heads: s.vision.heads,
      num_hidden_layers: s.vision.layers,
      patch_size: s.vision.patchSize,
      vision_use_head: false,
    },
    vision_feature_layer: -1,
    vision_feature_select_strategy: 'full',
  };
  const json = (name: string, value: unknown) => writeFile(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
  await json('config.json', config);
  await json('generation_config.json', { bos_token_id: ids.endOfText, eos_token_id: ids.imEnd });
  await json('preprocessor_config.json', siglipPreprocessorConfig(s.vision.imageSize));
  await json('processor_config.json', { image_token: '<image>', num_additional_image_tokens: 0, patch_size: s.vision.patchSize, processor_class: 'LlavaProcessor', vision_feature_select_strategy: 'full' });

  const source = weightSource(seed, std);
  const table = source('embed_tokens', [vocab, s.text.hidden], 'embedding');
  const damp = (id: number, by: number) => table.subarray(id * s.text.hidden, (id + 1) * s.text.hidden).forEach((v, i, row) => (row[i] = v * by));
  for (const id of ids.rareByteIds) damp(id, 0.1);
  for (const id of [ids.endOfText, ids.imStart, ids.imEnd, ids.image]) damp(id, 0.01);
  for (let id = ids.size; id < vocab; id++) damp(id, 0.01);

  const variants = { vision_encoder: ['fp32'], embed_tokens: ['fp32'], decoder_model_merged: ['fp32'], ...options.variants } as Record<keyof LlavaDTypes, ('fp32' | 'int8' | 'q4')[]>;
  for (const dtype of variants.vision_encoder) {
    // Vision weights are drawn once per variant from the same seed, so every variant has the same tower.
    await writeModelFile(visionEncoderGraph(s, weightSource(seed + 1, std)), join(dir, llavaOnnxPath('vision_encoder', dtype)));
  }
  for (const dtype of variants.embed_tokens) {
    await writeModelFile(embedTokensGraph(s, table, dtype === 'int8' ? 'int8' : 'fp32'), join(dir, llavaOnnxPath('embed_tokens', dtype)));
  }
  for (const dtype of variants.decoder_model_merged) {
    await writeModelFile(decoderGraph(s, weightSource(seed + 2, std), table, dtype === 'q4' ? 'q4' : 'fp32'), join(dir, llavaOnnxPath('decoder_model_merged', dtype)));
  }
  return ids;
}

export async function writeTinyLlava(dir: string, options: WriteLlavaOptions = {}): Promise<TinyTokenizerIds> {
  return writeLlavaPack(dir, TINY_LLAVA_SHAPE, { std: 0.3, ...options });
}

/** Bump when the generator changes, so cached copies are rebuilt. */
export const TINY_LLAVA_VERSION = 1;

/** A ready tiny LLaVA folder under `.cache/test-models` (or $TANDEM_TEST_MODELS), generated once. */
export async function ensureTinyLlava(root = process.env['TANDEM_TEST_MODELS'] ?? join(process.cwd(), '.cache', 'test-models')): Promise<string> {
  const dir = join(root, `tiny-llava-v${TINY_LLAVA_VERSION}`);
  try {
    await access(join(dir, 'config.json'));
    return dir;
  } catch {
    // not there yet
  }
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-tiny-llava-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeTinyLlava(tmp);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    try {
      await access(join(dir, 'config.json'));
    } catch {
      throw err;
    }
  }
  return dir;
}
