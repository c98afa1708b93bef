/**
 * Tiny LLaVA checkpoints in the exact llava-hf layout (what `huggingface-cli download llava-hf/…` leaves in a
 * folder), with seeded random weights, for the LLaVA compiler's tests:
 *  - `TINY_LLAVA_15_SHAPE`: CLIP + Llama like llava-hf/llava-1.5-7b-hf (config.json as terse as the real
 *    one, fp16 weights in two shards + model.safetensors.index.json, a Llama tokenizer with `<image>` and
 *    `<pad>` added after the vocabulary, CLIPImageProcessor settings, the real chat template);
 *  - `TINY_LLAVA_INTERLEAVE_SHAPE`: SigLIP + Qwen2 like llava-hf/llava-interleave-qwen-0.5b-hf (tied
 *    embeddings, so no lm_head tensor).
 * Options write the same weights other ways (single file, transformers ≥ 4.52 tensor names, a config with
 * every default spelled out) so tests can check those compile to the same graphs.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LLAVA_INTERLEAVE_CHAT_TEMPLATE } from '../src/main/core/llava/chat-template';
import { writeSafetensors } from '../src/main/core/weights/safetensors';
import type { WeightDType, WeightMap } from '../src/main/core/weights/weight-tensor';
import { SeededRandom } from './seeded-random';
import { defaultTestModelRoot } from './test-model-cache';
import { writeTinyLlamaTokenizer } from './tiny-llama-tokenizer';
import { writeTinyQwenTokenizer } from './tiny-llava-tokenizer';
import { clipPreprocessorConfig, siglipPreprocessorConfig } from './preprocessor-configs';

export interface TinyLlavaHfShape {
  vision: {
    kind: 'clip' | 'siglip';
    hidden: number;
    intermediate: number;
    heads: number;
    layers: number;
    imageSize: number;
    patchSize: number;
    eps: number;
    act: 'quick_gelu' | 'gelu_pytorch_tanh';
  };
  text: {
    kind: 'llama' | 'qwen2';
    hidden: number;
    intermediate: number;
    heads: number;
    kvHeads: number;
    layers: number;
    ropeTheta: number;
    eps: number;
    tied: boolean;
    maxPositions: number;
  };
  featureLayer: number;
  strategy: 'default' | 'full';
}

/** llava-1.5's structure, tiny: 36 px images in 8 px patches (4 px unused), 4 query heads over 2 KV heads. */
export const TINY_LLAVA_15_SHAPE: TinyLlavaHfShape = {
  vision: { kind: 'clip', hidden: 32, intermediate: 48, heads: 4, layers: 3, imageSize: 36, patchSize: 8, eps: 1e-5, act: 'quick_gelu' },
  text: { kind: 'llama', hidden: 32, intermediate: 64, heads: 4, kvHeads: 2, layers: 2, ropeTheta: 10000, eps: 1e-5, tied: false, maxPositions: 256 },
  featureLayer: -2,
  strategy: 'default',
};

/** llava-interleave-qwen-0.5b's structure, tiny. */
export const TINY_LLAVA_INTERLEAVE_SHAPE: TinyLlavaHfShape = {
  vision: { kind: 'siglip', hidden: 32, intermediate: 48, heads: 4, layers: 2, imageSize: 32, patchSize: 8, eps: 1e-6, act: 'gelu_pytorch_tanh' },
  text: { kind: 'qwen2', hidden: 32, intermediate: 64, heads: 4, kvHeads: 2, layers: 2, ropeTheta: 1_000_000, eps: 1e-6, tied: true, maxPositions: 256 },
  featureLayer: -1,
  strategy: 'full',
};

/** LLaVA-1.5's chat template, as llava-hf/llava-1.5-7b-hf ships it in chat_template.json. */
export const LLAVA_15_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";


export interface WriteTinyLlavaHfOptions {
  seed?: number;
  /** 'hub': `language_model.model.…` as the llava-hf repos; 'current': `model.language_model.…` as transformers ≥ 4.52 saves */
  naming?: 'hub' | 'current';
  /** 2 (default): model-0000N-of-00002.safetensors + index; 1: model.safetensors */
  shards?: 1 | 2;
  /** 'hub' (default): as terse as the real config.json; 'explicit': every default the compiler relies on spelled out */
  configStyle?: 'hub' | 'explicit';
  /** stored dtype of the weights; default float16 as llava-hf ships */
  dtype?: Extract<WeightDType, 'float16' | 'bfloat16' | 'float32'>;
  /** hub-style tensor names to leave out (tests of missing tensors) */
  omitTensors?: readonly string[];
  /**
   * rows of the embedding table (config.json's vocab_size), padded past the tokenizer's last id as llava-1.5's
   * 32064 are; default: the tokenizer's size rounded up to 64. Benchmarks use it for a realistic lm_head.
   */
  vocab?: number;
  /**
   * Factors to scale rows of the drawn embedding table by (token id → factor), given the tokenizer's ids: with
   * tied embeddings a small row also makes its token unlikely in greedy text (test-models/tiny-llava.ts).
   */
  embeddingRowScales?: (tokens: LlavaHfTokenIds, vocab: number) => Iterable<readonly [number, number]>;
  /** Qwen2 tokenizer only: role names as single tokens (TinyQwenTokenizerOptions.wholeRoleNames). */
  wholeRoleNames?: boolean;
}

export interface TinyLlavaHfInfo {
  dir: string;
  shape: TinyLlavaHfShape;
  vocab: number;
  imageToken: number;
  bos: number | undefined;
  eos: number;
  /** tokens one image becomes after the feature-select strategy */
  imageTokens: number;
  /** total tokens the tokenizer knows (ids below this are real pieces) */
  tokenizerSize: number;
}

/** Hub names → transformers ≥ 4.52 names, written independently of the compiler's own mapping. */
function currentName(hub: string): string {
  if (hub === 'language_model.lm_head.weight') return 'lm_head.weight';
  if (hub.startsWith('language_model.model.')) return `model.language_model.${hub.slice(21)}`;
  return `model.${hub}`;
}

/**
 * One tensor of a llava-hf checkpoint: its hub name, shape, and the mean and spread the tiny models draw it
 * with (matrices N(0, gain²/fan_in), norms near 1, small biases). The random full-size writer takes the names,
 * shapes and means from here too, so both kinds of folder hold the same tensors.
 */
export interface LlavaHfTensor {
  name: string;
  shape: number[];
  std: number;
  mean: number;
}

/** Every tensor of a llava-hf checkpoint in hub naming, in the order the tiny models draw them. */
export function llavaHfTensors(shape: TinyLlavaHfShape, vocab: number): LlavaHfTensor[] {
  const out: LlavaHfTensor[] = [];
  const matrix = (name: string, rows: number, cols: number, gain = 1) => out.push({ name, shape: [rows, cols], std: gain / Math.sqrt(cols), mean: 0 });
  const vector = (name: string, size: number, std: number, mean = 0) => out.push({ name, shape: [size], std, mean });
  const v = shape.vision;
  const t = shape.text;
  const vp = 'vision_tower.vision_model';
  const grid = Math.floor(v.imageSize / v.patchSize);
  const positions = grid * grid + (v.kind === 'clip' ? 1 : 0);
  out.push({ name: `${vp}.embeddings.patch_embedding.weight`, shape: [v.hidden, 3, v.patchSize, v.patchSize], std: 1 / Math.sqrt(3 * v.patchSize * v.patchSize), mean: 0 });
  if (v.kind === 'clip') {
    vector(`${vp}.embeddings.class_embedding`, v.hidden, 0.5);
    vector(`${vp}.pre_layrnorm.weight`, v.hidden, 0.1, 1);
    vector(`${vp}.pre_layrnorm.bias`, v.hidden, 0.1);
  } else {
    vector(`${vp}.embeddings.patch_embedding.bias`, v.hidden, 0.1);
  }
  out.push({ name: `${vp}.embeddings.position_embedding.weight`, shape: [positions, v.hidden], std: 0.5, mean: 0 });
  for (let l = 0; l < v.layers; l++) {
    const p = `${vp}.encoder.layers.${l}`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      matrix(`${p}.self_attn.${proj}.weight`, v.hidden, v.hidden, proj === 'q_proj' || proj === 'k_proj' ? 2 : 1);
      vector(`${p}.self_attn.${proj}.bias`, v.hidden, 0.1);
    }
    for (const ln of ['layer_norm1', 'layer_norm2']) {
      vector(`${p}.${ln}.weight`, v.hidden, 0.1, 1);
      vector(`${p}.${ln}.bias`, v.hidden, 0.1);
    }
    matrix(`${p}.mlp.fc1.weight`, v.intermediate, v.hidden);
    vector(`${p}.mlp.fc1.bias`, v.intermediate, 0.1);
    matrix(`${p}.mlp.fc2.weight`, v.hidden, v.intermediate);
    vector(`${p}.mlp.fc2.bias`, v.hidden, 0.1);
  }
  vector(`${vp}.post_layernorm.weight`, v.hidden, 0.1, 1);
  vector(`${vp}.post_layernorm.bias`, v.hidden, 0.1);
  matrix('multi_modal_projector.linear_1.weight', t.hidden, v.hidden);
  vector('multi_modal_projector.linear_1.bias', t.hidden, 0.1);
  matrix('multi_modal_projector.linear_2.weight', t.hidden, t.hidden);
  vector('multi_modal_projector.linear_2.bias', t.hidden, 0.1);

  const hd = t.hidden / t.heads;
  const tp = 'language_model.model';
  out.push({ name: `${tp}.embed_tokens.weight`, shape: [vocab, t.hidden], std: 1, mean: 0 });
  for (let l = 0; l < t.layers; l++) {
    const p = `${tp}.layers.${l}`;
    matrix(`${p}.self_attn.q_proj.weight`, t.heads * hd, t.hidden, 2);
    matrix(`${p}.self_attn.k_proj.weight`, t.kvHeads * hd, t.hidden, 2);
    matrix(`${p}.self_attn.v_proj.weight`, t.kvHeads * hd, t.hidden);
    if (t.kind === 'qwen2') {
      vector(`${p}.self_attn.q_proj.bias`, t.heads * hd, 0.1);
      vector(`${p}.self_attn.k_proj.bias`, t.kvHeads * hd, 0.1);
      vector(`${p}.self_attn.v_proj.bias`, t.kvHeads * hd, 0.1);
    }
    matrix(`${p}.self_attn.o_proj.weight`, t.hidden, t.heads * hd);
    matrix(`${p}.mlp.gate_proj.weight`, t.intermediate, t.hidden);
    matrix(`${p}.mlp.up_proj.weight`, t.intermediate, t.hidden);
    matrix(`${p}.mlp.down_proj.weight`, t.hidden, t.intermediate);
    vector(`${p}.input_layernorm.weight`, t.hidden, 0.1, 1);
    vector(`${p}.post_attention_layernorm.weight`, t.hidden, 0.1, 1);
  }
  vector(`${tp}.norm.weight`, t.hidden, 0.1, 1);
  if (!t.tied) matrix('language_model.lm_head.weight', vocab, t.hidden, 3);
  return out;
}

/** Seeded weights sized so activations stay O(1), drawn in llavaHfTensors' order. */
function tinyWeights(shape: TinyLlavaHfShape, vocab: number, seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new SeededRandom(seed);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of llavaHfTensors(shape, vocab)) {
    out.set(t.name, { shape: t.shape, data: rng.normals(t.shape.reduce((a, b) => a * b, 1), t.std, t.mean) });
  }
  return out;
}

function configJson(shape: TinyLlavaHfShape, vocab: number, ids: { image: number; pad?: number; bos?: number; eos: number }, style: 'hub' | 'explicit'): Record<string, unknown> {
  const v = shape.vision;
  const t = shape.text;
  const explicit = style === 'explicit';
  const patchTokens = Math.floor(v.imageSize / v.patchSize) ** 2;
  if (t.kind === 'llama') {
    // llava-hf/llava-1.5-7b-hf's config.json, keys and all, at tiny sizes.
    return {
      architectures: ['LlavaForConditionalGeneration'],
      ignore_index: -100,
      image_token_index: ids.image,
      model_type: 'llava',
      pad_token_id: ids.pad,
      projector_hidden_act: 'gelu',
      ...(explicit ? { multimodal_projector_bias: true, image_seq_length: patchTokens } : {}),
      text_config: {
        _name_or_path: 'tandem/tiny-vicuna',
        architectures: ['LlamaForCausalLM'],
        hidden_size: t.hidden,
        intermediate_size: t.intermediate,
        max_position_embeddings: t.maxPositions,
        model_type: 'llama',
        num_attention_heads: t.heads,
        num_hidden_layers: t.layers,
        num_key_value_heads: t.kvHeads,
        rms_norm_eps: t.eps,
        torch_dtype: 'float16',
        vocab_size: vocab,
        ...(explicit ? { hidden_act: 'silu', rope_theta: t.ropeTheta, rope_scaling: null, attention_bias: false, mlp_bias: false, head_dim: t.hidden / t.heads, tie_word_embeddings: false } : {}),
      },
      tie_word_embeddings: false,
      torch_dtype: 'float16',
      transformers_version: '4.36.0.dev0',
      vision_config: {
        hidden_size: v.hidden,
        image_size: v.imageSize,
        intermediate_size: v.intermediate,
        model_type: 'clip_vision_model',
        num_attention_heads: v.heads,
        num_hidden_layers: v.layers,
        patch_size: v.patchSize,
        projection_dim: 16,
        vocab_size: 32000,
        ...(explicit ? { hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, num_channels: 3 } : {}),
      },
      vision_feature_layer: shape.featureLayer,
      vision_feature_select_strategy: shape.strategy,
      vocab_size: vocab,
    };
  }
  return {
    architectures: ['LlavaForConditionalGeneration'],
    ignore_index: -100,
    image_token_index: ids.image,
    model_type: 'llava',
    projector_hidden_act: 'gelu',
    ...(explicit ? { multimodal_projector_bias: true } : {}),
    text_config: {
      _name_or_path: 'tandem/tiny-qwen',
      architectures: ['Qwen2ForCausalLM'],
      bos_token_id: ids.bos,
      eos_token_id: ids.eos,
      hidden_size: t.hidden,
      intermediate_size: t.intermediate,
      max_position_embeddings: t.maxPositions,
      max_window_layers: t.layers,
      model_type: 'qwen2',
      num_attention_heads: t.heads,
      num_hidden_layers: t.layers,
      num_key_value_heads: t.kvHeads,
      rms_norm_eps: t.eps,
      rope_theta: t.ropeTheta,
      sliding_window: t.maxPositions,
      tie_word_embeddings: true,
      torch_dtype: 'bfloat16',
      use_sliding_window: false,
      vocab_size: vocab,
      ...(explicit ? { hidden_act: 'silu' } : {}),
    },
    tie_word_embeddings: true,
    torch_dtype: 'float16',
    transformers_version: '4.41.0.dev0',
    vision_config: {
      hidden_act: 'gelu_pytorch_tanh',
      hidden_size: v.hidden,
      image_size: v.imageSize,
      intermediate_size: v.intermediate,
      layer_norm_eps: v.eps,
      model_type: 'siglip_vision_model',
      num_attention_heads: v.heads,
      num_hidden_layers: v.layers,
      patch_size: v.patchSize,
      vision_use_head: false,
      ...(explicit ? { num_channels: 3 } : {}),
    },
    vision_feature_layer: shape.featureLayer,
    vision_feature_select_strategy: shape.strategy,
  };
}

async function writeJson(dir: string, name: string, value: unknown): Promise<void> {
  await writeFile(join(dir, name), `${JSON.stringify(value, null, 2)}\n`);
}

/** Token ids a llava-hf folder's config.json refers to, and how many ids its tokenizer knows. */
export interface LlavaHfTokenIds {
  image: number;
  pad?: number;
  bos?: number;
  eos: number;
  size: number;
  /** Qwen2 tokenizer only: byte tokens that are neither letters nor the space (punctuation, control bytes) */
  rareByteIds?: number[];
  /** Qwen2 tokenizer only: the special tokens added after the vocabulary (<|endoftext|>, <|im_start|>, <|im_end|>, <image>) */
  specialIds?: number[];
}

/**
 * Everything of a llava-hf folder but config.json and the weights: the tiny tokenizer (Llama's for llava-1.5,
 * Qwen2's for interleave), chat template, generation, preprocessor and processor configs.
 */
export async function writeLlavaHfRuntimeFiles(dir: string, shape: TinyLlavaHfShape, options: Pick<WriteTinyLlavaHfOptions, 'wholeRoleNames'> = {}): Promise<LlavaHfTokenIds> {
  await mkdir(dir, { recursive: true });
  const v = shape.vision;
  let ids: LlavaHfTokenIds;
  if (shape.text.kind === 'llama') {
    const tk = await writeTinyLlamaTokenizer(dir);
    ids = { image: tk.image, pad: tk.pad, bos: tk.bos, eos: tk.eos, size: tk.size };
    await writeJson(dir, 'chat_template.json', { chat_template: LLAVA_15_CHAT_TEMPLATE });
    await writeJson(dir, 'generation_config.json', { _from_model_config: true, bos_token_id: tk.bos, eos_token_id: tk.eos, pad_token_id: tk.pad, transformers_version: '4.36.0.dev0' });
    await writeJson(dir, 'preprocessor_config.json', clipPreprocessorConfig(v.imageSize));
  } else {
    const tk = await writeTinyQwenTokenizer(dir, { chatTemplate: LLAVA_INTERLEAVE_CHAT_TEMPLATE, templateIn: 'chat_template.json', wholeRoleNames: options.wholeRoleNames ?? false });
    ids = { image: tk.image, bos: tk.endOfText, eos: tk.imEnd, size: tk.size, rareByteIds: tk.rareByteIds, specialIds: [tk.endOfText, tk.imStart, tk.imEnd, tk.image] };
    await writeJson(dir, 'generation_config.json', { bos_token_id: tk.endOfText, eos_token_id: tk.imEnd });
    await writeJson(dir, 'preprocessor_config.json', siglipPreprocessorConfig(v.imageSize));
  }
  await writeJson(dir, 'processor_config.json', {
    image_token: '<image>',
    num_additional_image_tokens: v.kind === 'clip' ? 1 : 0,
    patch_size: v.patchSize,
    processor_class: 'LlavaProcessor',
    vision_feature_select_strategy: shape.strategy,
  });
  return ids;
}

export async function writeTinyLlavaHf(dir: string, shape: TinyLlavaHfShape = TINY_LLAVA_15_SHAPE, options: WriteTinyLlavaHfOptions = {}): Promise<TinyLlavaHfInfo> {
  const ids = await writeLlavaHfRuntimeFiles(dir, shape, { wholeRoleNames: options.wholeRoleNames ?? false });
  const v = shape.vision;
  const patchTokens = Math.floor(v.imageSize / v.patchSize) ** 2;
  const imageTokens = patchTokens + (v.kind === 'clip' ? 1 : 0) - (shape.strategy === 'default' ? 1 : 0);
  // Like llava-1.5's 32064: the embedding table is padded past the tokenizer's last id.
  const vocab = options.vocab ?? Math.ceil(ids.size / 64) * 64;
  if (vocab < ids.size) throw new Error(`vocab ${vocab} is smaller than the tokenizer's ${ids.size} tokens`);
  await writeJson(dir, 'config.json', configJson(shape, vocab, ids, options.configStyle ?? 'hub'));

  const dtype = options.dtype ?? 'float16';
  const naming = options.naming ?? 'hub';
  const omit = new Set(options.omitTensors ?? []);
  const drawn = tinyWeights(shape, vocab, options.seed ?? 7);
  if (options.embeddingRowScales) {
    const table = drawn.get('language_model.model.embed_tokens.weight')!.data;
    const h = shape.text.hidden;
    for (const [id, by] of options.embeddingRowScales(ids, vocab)) table.subarray(id * h, (id + 1) * h).forEach((x, i, row) => (row[i] = x * by));
  }
  const all: WeightMap = new Map();
  for (const [name, w] of drawn) {
    if (omit.has(name)) continue;
    all.set(naming === 'hub' ? name : currentName(name), { storedDType: dtype, shape: w.shape, data: w.data });
  }
  const names = [...all.keys()].sort();
  if ((options.shards ?? 2) === 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), all);
  } else {
    const half = Math.ceil(names.length / 2);
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    for (const [i, part] of [names.slice(0, half), names.slice(half)].entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      const shard: WeightMap = new Map();
      for (const name of part) {
        const w = all.get(name)!;
        shard.set(name, w);
        weightMap[name] = file;
        totalSize += w.data.length * (dtype === 'float32' ? 4 : 2);
      }
      await writeSafetensors(join(dir, file), shard);
    }
    await writeJson(dir, 'model.safetensors.index.json', { metadata: { total_size: totalSize }, weight_map: weightMap });
  }
  return { dir, shape, vocab, imageToken: ids.image, bos: ids.bos, eos: ids.eos, imageTokens, tokenizerSize: ids.size };
}

/** Bump when the generator changes, so cached copies are rebuilt. */
export const TINY_LLAVA_HF_VERSION = 1;

export type TinyLlavaHfKind = 'llava-1.5' | 'llava-interleave';

/**
 * A ready tiny llava-hf source folder under `.cache/test-models` (or $TANDEM_TEST_MODELS), generated once
 * and renamed into place so concurrent test workers never see half a folder. Compile it with compileLlava.
 */
export async function ensureTinyLlavaHf(kind: TinyLlavaHfKind = 'llava-1.5', root = defaultTestModelRoot()): Promise<string> {
  const dir = join(root, `tiny-${kind}-hf-v${TINY_LLAVA_HF_VERSION}`);
  const ready = () => access(join(dir, 'config.json')).then(() => true, () => false);
  if (await ready()) return dir;
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-tiny-${kind}-hf-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeTinyLlavaHf(tmp, kind === 'llava-1.5' ? TINY_LLAVA_15_SHAPE : TINY_LLAVA_INTERLEAVE_SHAPE);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (!(await ready())) throw err;
  }
  return dir;
}
