import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../errors';
import { LLAVA_COMPONENTS, ONNX_DTYPE_SUFFIX, type LlavaComponent, type OnnxDType } from './known-packs';
import type { ModelKind } from './model-pack';
import { MAX_CONFIG_JSON_BYTES, MAX_INDEX_JSON_BYTES, readModelText } from '../weights/model-json';

/**
 * Checks a folder the user copied by hand (a `git clone`, a huggingface-cli download, a USB stick)
 * before it is imported, and says exactly which file is missing or wrong.
 */

export interface FolderInspection {
  kind: ModelKind;
  /** '/'-separated paths, relative to the folder, that make up the pack. */
  files: string[];
  /** LLaVA only: 'llava-hf' sources (safetensors) that Tandem compiles, or an 'onnx' export to run as it is. */
  layout?: 'llava-hf' | 'onnx';
}

const BLIP_OPTIONAL = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];
const LLAVA_OPTIONAL = [
  'generation_config.json', 'processor_config.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'added_tokens.json', 'chat_template.json', 'chat_template.jinja',
];

const LFS_POINTER_PREFIX = 'version https://git-lfs.github.com/spec/';

async function fileSizeOrNull(path: string): Promise<number | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A clone without git-lfs leaves ~130-byte text pointers where the weights should be: the commonest broken copy. */
async function assertRealWeights(dir: string, rel: string): Promise<void> {
  const full = join(dir, rel);
  const size = (await fileSizeOrNull(full)) ?? 0;
  const head = await readHead(full, 64);
  if (size < 1024 && head.toString('utf8').startsWith(LFS_POINTER_PREFIX)) {
    throw new ModelFileError(
      rel,
      `${rel} in ${dir} is a Git LFS pointer (${size} bytes), not the real file. Run 'git lfs pull' in that folder, or download ${rel} from the model's page, then import again.`,
    );
  }
  if (size === 0) throw new ModelFileError(rel, `${rel} in ${dir} is empty. Copy it again from the model repo, then import again.`);
  if (rel.endsWith('.safetensors')) {
    // safetensors: u64 little-endian header length, then a JSON header.
    const headerLength = head.length >= 8 ? Number(head.readBigUInt64LE(0)) : -1;
    if (headerLength <= 0 || headerLength > size - 8 || head[8] !== 0x7b) {
      throw new ModelFileError(rel, `${rel} in ${dir} is not a readable safetensors file (truncated or damaged?). Copy it again, then import again.`);
    }
  } else if (rel.endsWith('.bin')) {
    const zip = head[0] === 0x50 && head[1] === 0x4b; // torch >= 1.6 saves a zip archive
    const legacyPickle = head[0] === 0x80; // older torch: a bare pickle
    if (!zip && !legacyPickle) {
      throw new ModelFileError(rel, `${rel} in ${dir} is not a PyTorch checkpoint (truncated or damaged?). Copy it again, then import again.`);
    }
  }
}

async function firstPresent(dir: string, names: readonly string[]): Promise<string | null> {
  for (const name of names) if ((await fileSizeOrNull(join(dir, name))) !== null) return name;
  return null;
}

async function requireOneOf(dir: string, names: readonly string[], why: string): Promise<string> {
  const found = await firstPresent(dir, names);
  if (found) return found;
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  throw new ModelFileError(names[0]!, `${dir} is missing ${list} (${why}). Copy it from the model repo into that folder, then import again.`);
}

interface ModelConfig {
  model_type?: unknown;
  architectures?: unknown;
}

export function kindFromConfig(config: ModelConfig): ModelKind | null {
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  if (modelType === 'blip' || architectures.some((a) => a.startsWith('Blip'))) {
    if (architectures.includes('BlipForImageTextRetrieval')) return 'blip-retrieval';
    return architectures.includes('BlipForQuestionAnswering') ? 'blip-vqa' : 'blip-caption';
  }
  if (modelType === 'llava' || architectures.includes('LlavaForConditionalGeneration')) return 'llava';
  return null;
}

async function readConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, 'config.json');
  if ((await fileSizeOrNull(path)) === null) {
    throw new ModelFileError(
      'config.json',
      `${dir} is missing config.json. Copy the whole model folder (config.json, preprocessor_config.json, tokenizer files and weights), then import again.`,
    );
  }
  try {
    // Size-capped: a multi-GB "config.json" must not be read into one string.
    const parsed: unknown = JSON.parse((await readModelText(path, MAX_CONFIG_JSON_BYTES)) ?? '');
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    return parsed as ModelConfig;
  } catch (cause) {
    if (cause instanceof ModelFileError) throw cause;
    throw new ModelFileError('config.json', `config.json in ${dir} is not valid JSON. Copy it again from the model repo, then import again.`, { cause });
  }
}

/** ONNX files in a LLaVA pack's onnx/ folder, by component and dtype. */
export function onnxVariants(files: readonly string[]): Record<LlavaComponent, OnnxDType[]> {
  const out = { vision_encoder: [], embed_tokens: [], decoder_model_merged: [] } as Record<LlavaComponent, OnnxDType[]>;
  for (const component of LLAVA_COMPONENTS) {
    for (const [dtype, suffix] of Object.entries(ONNX_DTYPE_SUFFIX) as Array<[OnnxDType, string]>) {
      if (files.includes(`onnx/${component}${suffix}.onnx`)) out[component].push(dtype);
    }
  }
  return out;
}

async function inspectBlip(dir: string): Promise<string[]> {
  const files = ['config.json'];
  files.push(await requireOneOf(dir, ['preprocessor_config.json'], 'image size and normalisation'));
  const tokenizers = ['tokenizer.json', 'vocab.txt'];
  await requireOneOf(dir, tokenizers, 'the tokenizer');
  for (const name of tokenizers) if ((await fileSizeOrNull(join(dir, name))) !== null) files.push(name);
  const weights = await requireOneOf(dir, ['model.safetensors', 'pytorch_model.bin'], 'the weights');
  await assertRealWeights(dir, weights);
  files.push(weights);
  for (const name of BLIP_OPTIONAL) if ((await fileSizeOrNull(join(dir, name))) !== null) files.push(name);
  return files;
}

/** A llava-hf folder as the hub has it: the compiler's sources (one model.safetensors, or an index and its shards). */
async function inspectLlavaSources(dir: string, weights: string): Promise<string[]> {
  const files = ['config.json'];
  files.push(await requireOneOf(dir, ['preprocessor_config.json'], 'image size and normalisation'));
  files.push(await requireOneOf(dir, ['tokenizer.json'], 'the tokenizer'));
  files.push(await requireOneOf(dir, ['tokenizer_config.json'], 'the tokenizer settings'));
  files.push(weights);
  if (weights.endsWith('.index.json')) {
    let shards: string[];
    try {
      const index = JSON.parse((await readModelText(join(dir, weights), MAX_INDEX_JSON_BYTES)) ?? '') as { weight_map?: Record<string, unknown> };
      shards = [...new Set(Object.values(index.weight_map ?? {}).map(String))].sort();
    } catch (cause) {
      throw new ModelFileError(weights, `${weights} in ${dir} is not a readable safetensors index. Copy it again, then import again.`, { cause });
    }
    if (shards.length === 0) throw new ModelFileError(weights, `${weights} in ${dir} lists no shards. Copy it again, then import again.`);
    for (const shard of shards) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*\.safetensors$/.test(shard)) {
        throw new ModelFileError(weights, `${weights} in ${dir} names ${JSON.stringify(shard.slice(0, 80))}, which is not a shard file name.`);
      }
      if ((await fileSizeOrNull(join(dir, shard))) === null) {
        throw new ModelFileError(shard, `${dir} is missing ${shard}, which ${weights} lists. Copy every shard into that folder, then import again.`);
      }
      await assertRealWeights(dir, shard);
      files.push(shard);
    }
  } else {
    await assertRealWeights(dir, weights);
  }
  for (const name of [...LLAVA_OPTIONAL, 'tokenizer.model']) if ((await fileSizeOrNull(join(dir, name))) !== null && !files.includes(name)) files.push(name);
  return files;
}

async function inspectLlava(dir: string): Promise<string[]> {
  const files = ['config.json'];
  files.push(await requireOneOf(dir, ['preprocessor_config.json'], 'image size and normalisation'));
  files.push(await requireOneOf(dir, ['tokenizer.json'], 'the tokenizer'));
  let onnxNames: string[] = [];
  try {
    onnxNames = (await readdir(join(dir, 'onnx'))).sort();
  } catch {
    // reported below, per component
  }
  const present = onnxNames.map((n) => `onnx/${n}`);
  const variants = onnxVariants(present);
  for (const component of LLAVA_COMPONENTS) {
    if (variants[component].length === 0) {
      throw new ModelFileError(
        `onnx/${component}.onnx`,
        `${dir} is missing onnx/${component}.onnx (or a variant such as onnx/${component}_q4.onnx). Import the transformers.js ONNX layout of the model, then import again.`,
      );
    }
    for (const dtype of variants[component]) {
      const rel = `onnx/${component}${ONNX_DTYPE_SUFFIX[dtype]}.onnx`;
      await assertRealWeights(dir, rel);
      files.push(rel);
      // Large graphs keep weights in sidecars next to the .onnx (…onnx_data, …onnx_data_1, …).
      files.push(...present.filter((p) => p.startsWith(`${rel}_data`)));
    }
  }
  for (const name of LLAVA_OPTIONAL) if ((await fileSizeOrNull(join(dir, name))) !== null && !files.includes(name)) files.push(name);
  return files;
}

export async function inspectPackFolder(dir: string, expectedKind?: ModelKind): Promise<FolderInspection> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new ModelFileError(dir, `Folder ${dir} does not exist. Give the folder that holds config.json and the weights.`);
  }
  if (!info.isDirectory()) throw new ModelFileError(dir, `${dir} is a file; give the folder that holds config.json and the weights.`);
  const config = await readConfig(dir);
  const kind = kindFromConfig(config);
  if (!kind) {
    throw new ModelFileError(
      'config.json',
      `config.json in ${dir} describes model_type '${String(config.model_type ?? '?')}', which Tandem cannot run: it imports BLIP (model_type 'blip') and LLaVA (model_type 'llava') packs.`,
    );
  }
  if (expectedKind && expectedKind !== kind) {
    throw new ModelFileError('config.json', `config.json in ${dir} describes a ${kind} model, but a ${expectedKind} model was expected here.`);
  }
  if (kind === 'llava') {
    // Sources win over an onnx/ folder next to them: every LLaVA pack Tandem compiles runs on one engine.
    const weights = await firstPresent(dir, ['model.safetensors.index.json', 'model.safetensors']);
    if (weights) return { kind, files: await inspectLlavaSources(dir, weights), layout: 'llava-hf' };
    return { kind, files: await inspectLlava(dir), layout: 'onnx' };
  }
  return { kind, files: await inspectBlip(dir) };
}
