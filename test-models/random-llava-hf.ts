/**
 * Full-size llava-hf folders with random weights, for benchmarks only (DESIGN.md §4): the config.json of the
 * real repo, fp16 safetensors shards the size of the hub's, and the tiny tokenizer padded with filler tokens so
 * its special tokens sit at the real ids. Words are meaningless; compute, memory and file sizes are real.
 *  - '7b': llava-hf/llava-1.5-7b-hf (CLIP ViT-L/14-336 + Vicuna-7B), 14 GB in three shards;
 *  - '0.5b': llava-hf/llava-interleave-qwen-0.5b-hf (SigLIP so400m/14-384 + Qwen1.5-0.5B), 1.8 GB.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { halfShardWriter, type HalfTensorPlan } from './random-half-shards';
import { byteAlphabet } from './tiny-llava-tokenizer';
import { llavaHfTensors, writeLlavaHfRuntimeFiles, type LlavaHfTokenIds, type TinyLlavaHfShape } from './tiny-llava-hf';

export type RandomLlavaModel = '7b' | '0.5b';

export const RANDOM_LLAVA_MODELS: readonly RandomLlavaModel[] = ['0.5b', '7b'];

interface RandomLlavaSpec {
  repo: string;
  shape: TinyLlavaHfShape;
  vocab: number;
  /** where the tokenizer's first added token (after the base vocabulary) sits in the real tokenizer */
  firstAddedId: number;
  /** the hub's shard size limit: transformers' save_pretrained default of the time */
  maxShardBytes: number;
  config: Record<string, unknown>;
}

/** llava-hf/llava-1.5-7b-hf's config.json, verbatim: its Llama relies on LlamaConfig's defaults (4096 wide, 32 layers). */
export const LLAVA_15_7B_CONFIG = {
  architectures: ['LlavaForConditionalGeneration'],
  ignore_index: -100,
  image_token_index: 32000,
  model_type: 'llava',
  pad_token_id: 32001,
  projector_hidden_act: 'gelu',
  text_config: {
    _name_or_path: 'lmsys/vicuna-7b-v1.5',
    architectures: ['LlamaForCausalLM'],
    max_position_embeddings: 4096,
    model_type: 'llama',
    rms_norm_eps: 1e-5,
    torch_dtype: 'float16',
    vocab_size: 32064,
  },
  tie_word_embeddings: false,
  torch_dtype: 'float16',
  transformers_version: '4.36.0.dev0',
  vision_config: {
    hidden_size: 1024,
    image_size: 336,
    intermediate_size: 4096,
    model_type: 'clip_vision_model',
    num_attention_heads: 16,
    num_hidden_layers: 24,
    patch_size: 14,
    projection_dim: 768,
    vocab_size: 32000,
  },
  vision_feature_layer: -2,
  vision_feature_select_strategy: 'default',
  vocab_size: 32064,
};

/** llava-hf/llava-interleave-qwen-0.5b-hf's config.json. */
export const LLAVA_INTERLEAVE_05B_CONFIG = {
  architectures: ['LlavaForConditionalGeneration'],
  ignore_index: -100,
  image_token_index: 151646,
  model_type: 'llava',
  projector_hidden_act: 'gelu',
  text_config: {
    _name_or_path: 'Qwen/Qwen1.5-0.5B-Chat',
    architectures: ['Qwen2ForCausalLM'],
    bos_token_id: 151643,
    eos_token_id: 151645,
    hidden_size: 1024,
    intermediate_size: 2816,
    max_position_embeddings: 32768,
    max_window_layers: 21,
    model_type: 'qwen2',
    num_attention_heads: 16,
    num_hidden_layers: 24,
    num_key_value_heads: 16,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    sliding_window: 32768,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    use_sliding_window: false,
    vocab_size: 152000,
  },
  tie_word_embeddings: true,
  torch_dtype: 'float16',
  transformers_version: '4.41.0.dev0',
  vision_config: {
    hidden_act: 'gelu_pytorch_tanh',
    hidden_size: 1152,
    image_size: 384,
    intermediate_size: 4304,
    layer_norm_eps: 1e-6,
    model_type: 'siglip_vision_model',
    num_attention_heads: 16,
    num_hidden_layers: 26,
    patch_size: 14,
    vision_use_head: false,
  },
  vision_feature_layer: -1,
  vision_feature_select_strategy: 'full',
};

const GB = 1e9;

const SPECS: Record<RandomLlavaModel, RandomLlavaSpec> = {
  '7b': {
    repo: 'llava-hf/llava-1.5-7b-hf',
    shape: {
      vision: { kind: 'clip', hidden: 1024, intermediate: 4096, heads: 16, layers: 24, imageSize: 336, patchSize: 14, eps: 1e-5, act: 'quick_gelu' },
      text: { kind: 'llama', hidden: 4096, intermediate: 11008, heads: 32, kvHeads: 32, layers: 32, ropeTheta: 10000, eps: 1e-5, tied: false, maxPositions: 4096 },
      featureLayer: -2,
      strategy: 'default',
    },
    vocab: 32064,
    firstAddedId: 32000,
    maxShardBytes: 5 * GB,
    config: LLAVA_15_7B_CONFIG,
  },
  '0.5b': {
    repo: 'llava-hf/llava-interleave-qwen-0.5b-hf',
    shape: {
      vision: { kind: 'siglip', hidden: 1152, intermediate: 4304, heads: 16, layers: 26, imageSize: 384, patchSize: 14, eps: 1e-6, act: 'gelu_pytorch_tanh' },
      text: { kind: 'qwen2', hidden: 1024, intermediate: 2816, heads: 16, kvHeads: 16, layers: 24, ropeTheta: 1_000_000, eps: 1e-6, tied: true, maxPositions: 32768 },
      featureLayer: -1,
      strategy: 'full',
    },
    vocab: 152000,
    firstAddedId: 151643,
    maxShardBytes: 5 * GB,
    config: LLAVA_INTERLEAVE_05B_CONFIG,
  },
};

export function randomLlavaRepo(model: RandomLlavaModel): string {
  return SPECS[model].repo;
}

type Json = Record<string, unknown>;

/** Letters that are one token each once in the vocabulary: CJK ideographs, Hangul, then the supplementary private-use planes. */
function* fillerCharacters(): Generator<string> {
  const ranges: [number, number][] = [
    [0x4e00, 0x9fff],
    [0xac00, 0xd7a3],
    [0xf0000, 0xffffd],
    [0x100000, 0x10fffd],
  ];
  for (const [from, to] of ranges) for (let c = from; c <= to; c++) yield String.fromCodePoint(c);
}

/**
 * Vocabulary entries (and, for a byte-level BPE, the merges that build them) filling ids `vocab.size` up to
 * `target`. Each filler is a whole character that encodes back to its own id, so a random model's answer
 * re-tokenizes to about as many tokens as it generated, as real text does: a follow-up question then reads
 * a realistic number of new tokens. In a byte-level vocabulary the partial UTF-8 prefixes are entries too.
 */
function fillerPieces(vocab: Map<string, number>, target: number, byteLevel: boolean): string[] {
  const merges: string[] = [];
  const alphabet = byteAlphabet();
  const add = (piece: string) => {
    if (!vocab.has(piece)) vocab.set(piece, vocab.size);
  };
  for (const ch of fillerCharacters()) {
    if (vocab.size >= target) break;
    if (!byteLevel) {
      add(ch);
      continue;
    }
    const symbols = [...Buffer.from(ch, 'utf8')].map((b) => alphabet[b]!);
    let piece = symbols[0]!;
    for (const next of symbols.slice(1)) {
      if (vocab.size >= target) break;
      const merged = piece + next;
      if (!vocab.has(merged)) {
        merges.push(`${piece} ${next}`);
        add(merged);
      }
      piece = merged;
    }
  }
  if (vocab.size < target) throw new Error(`not enough filler characters for ${target} tokens`);
  return merges;
}

/**
 * Moves the tokenizer's added tokens (those past its base vocabulary) to `firstAddedId` and fills the gap with
 * filler tokens, so `<image>` and the chat markers have the real ids the config names and the embedding
 * table's rows match a real tokenizer's count. Prompts still tokenize with the tiny vocabulary.
 */
async function padTokenizer(dir: string, ids: LlavaHfTokenIds, firstAddedId: number): Promise<LlavaHfTokenIds> {
  const tokenizerFile = join(dir, 'tokenizer.json');
  const tokenizer = JSON.parse(await readFile(tokenizerFile, 'utf8')) as {
    added_tokens: Json[];
    pre_tokenizer: Json | null;
    model: { vocab: Record<string, number>; merges: string[] };
  };
  const vocab = new Map(Object.entries(tokenizer.model.vocab));
  const base = vocab.size;
  const shift = firstAddedId - base;
  if (shift < 0) throw new Error(`the tiny vocabulary (${base}) is larger than the real one's base (${firstAddedId})`);
  const move = (id: number) => (id >= base ? id + shift : id);
  const byteLevel = tokenizer.pre_tokenizer?.['type'] === 'ByteLevel';
  tokenizer.model.merges = tokenizer.model.merges.concat(fillerPieces(vocab, firstAddedId, byteLevel));
  tokenizer.model.vocab = Object.fromEntries(vocab);
  for (const t of tokenizer.added_tokens) t['id'] = move(t['id'] as number);
  await writeFile(tokenizerFile, JSON.stringify(tokenizer));

  const configFile = join(dir, 'tokenizer_config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Json;
  const decoder = config['added_tokens_decoder'] as Record<string, Json> | undefined;
  if (decoder) config['added_tokens_decoder'] = Object.fromEntries(Object.entries(decoder).map(([id, t]) => [String(move(Number(id))), t]));
  await writeFile(configFile, JSON.stringify(config, null, 2));

  const generationFile = join(dir, 'generation_config.json');
  const generation = JSON.parse(await readFile(generationFile, 'utf8')) as Json;
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id']) {
    if (typeof generation[key] === 'number') generation[key] = move(generation[key]);
  }
  await writeFile(generationFile, `${JSON.stringify(generation, null, 2)}\n`);

  return {
    image: move(ids.image),
    eos: move(ids.eos),
    size: ids.size + shift,
    ...(ids.pad !== undefined ? { pad: move(ids.pad) } : {}),
    ...(ids.bos !== undefined ? { bos: move(ids.bos) } : {}),
  };
}

/** Splits tensors into shards in checkpoint order (vision, projector, language model), as save_pretrained does. */
function planShards(tensors: readonly HalfTensorPlan[], maxBytes: number): HalfTensorPlan[][] {
  const shards: HalfTensorPlan[][] = [[]];
  let size = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    if (size > 0 && size + bytes > maxBytes) {
      shards.push([]);
      size = 0;
    }
    shards.at(-1)!.push(t);
    size += bytes;
  }
  return shards;
}

/** Matrices and embeddings at HF's initializer_range; norm weights around 1; everything else small. */
const RANDOM_STD = 0.02;

export interface RandomLlavaProgress {
  bytes: number;
  totalBytes: number;
  file: string;
}

export interface RandomLlavaHfInfo {
  dir: string;
  repo: string;
  totalBytes: number;
  files: string[];
}

export interface WriteRandomLlavaHfOptions {
  seed?: number;
  onProgress?: (p: RandomLlavaProgress) => void;
  /** config, tokenizer and processor files only, no weights: for tests of everything but the gigabytes */
  metadataOnly?: boolean;
}

function randomTensors(spec: RandomLlavaSpec): HalfTensorPlan[] {
  return llavaHfTensors(spec.shape, spec.vocab).map((t) => ({ name: t.name, shape: t.shape, mean: t.mean, std: RANDOM_STD }));
}

/** Bytes of fp16 weights the folder holds (the hub's total_size). */
export function randomLlavaWeightBytes(model: RandomLlavaModel): number {
  return randomTensors(SPECS[model]).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * 2, 0);
}

export async function writeRandomLlavaHf(dir: string, model: RandomLlavaModel, options: WriteRandomLlavaHfOptions = {}): Promise<RandomLlavaHfInfo> {
  const spec = SPECS[model];
  await mkdir(dir, { recursive: true });
  const tiny = await writeLlavaHfRuntimeFiles(dir, spec.shape);
  const ids = await padTokenizer(dir, tiny, spec.firstAddedId);
  const text = spec.config['text_config'] as Json;
  if (ids.image !== spec.config['image_token_index'] || ids.size > spec.vocab || text['vocab_size'] !== spec.vocab) {
    throw new Error(`random ${model}: tokenizer ids (image ${ids.image}, ${ids.size} tokens) do not match ${spec.repo}'s config`);
  }
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(spec.config, null, 2)}\n`);

  const tensors = randomTensors(spec);
  const totalBytes = randomLlavaWeightBytes(model);
  if (options.metadataOnly) return { dir, repo: spec.repo, totalBytes, files: [] };
  const shards = planShards(tensors, spec.maxShardBytes);
  const writer = halfShardWriter(options.seed ?? 7);
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let before = 0;
  for (const [i, shard] of shards.entries()) {
    const n = String(shards.length).padStart(5, '0');
    const file = shards.length === 1 ? 'model.safetensors' : `model-${String(i + 1).padStart(5, '0')}-of-${n}.safetensors`;
    const done = before;
    await writer.write(join(dir, file), shard, (bytes) => options.onProgress?.({ bytes: done + bytes, totalBytes, file }));
    for (const t of shard) {
      weightMap[t.name] = file;
      before += t.shape.reduce((a, b) => a * b, 1) * 2;
    }
    files.push(file);
  }
  if (shards.length > 1) {
    const sorted = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFile(join(dir, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: sorted }, null, 2)}\n`);
  }
  return { dir, repo: spec.repo, totalBytes, files };
}

/** Bump when the generator changes, so cached folders are rebuilt. */
export const RANDOM_LLAVA_HF_VERSION = 2;

/**
 * The random folder for `model` under `root`, written once and renamed into place when complete (a 7B takes
 * minutes and 14 GB; an interrupted run leaves only a `.tmp-` folder, removed by the next one).
 */
export async function ensureRandomLlavaHf(model: RandomLlavaModel, root: string, onProgress?: (p: RandomLlavaProgress) => void): Promise<{ dir: string; built: boolean }> {
  const dir = join(root, `random-llava-${model}-hf-v${RANDOM_LLAVA_HF_VERSION}`);
  const ready = () => access(join(dir, 'config.json')).then(() => true, () => false);
  if (await ready()) return { dir, built: false };
  await mkdir(root, { recursive: true });
  // Benchmarks build one folder at a time, so any leftover of this model is from an interrupted run.
  for (const name of await readdir(root)) {
    if (name.startsWith(`.tmp-random-llava-${model}-`)) await rm(join(root, name), { recursive: true, force: true });
  }
  const tmp = join(root, `.tmp-random-llava-${model}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeRandomLlavaHf(tmp, model, onProgress ? { onProgress } : {});
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!(await ready())) throw err;
  }
  return { dir, built: true };
}
