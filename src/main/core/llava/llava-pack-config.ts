/**
 * What the engine needs to know about a LLaVA pack, read from its Hugging Face JSON files (config.json,
 * generation_config.json, processor_config.json). Both pack kinds go through here: transformers.js-layout
 * folders (SigLIP + Qwen2, config complete) and folders compiled from llava-hf safetensors (CLIP + Llama,
 * whose config.json leaves most text sizes at LlamaConfig's defaults).
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFileError } from '../errors';

type Json = Record<string, unknown>;

export interface LlavaPackConfig {
  /** `llama`, `qwen2`, … (text_config.model_type): picks the fallback chat template. */
  textModelType: string;
  /** `clip_vision_model` or `siglip_vision_model`. */
  visionModelType: string;
  imageTokenId: number;
  /** The placeholder text in prompts, `<image>` for every llava-hf model. */
  imageToken: string;
  /** Image feature positions the vision encoder gives per image (what `<image>` expands to). */
  imageTokens: number;
  /** End-of-answer ids: generation_config's eos_token_id (a number or a list), else text_config's. */
  eosIds: number[];
  maxPositionEmbeddings: number;
  kvHeads: number;
  headDim: number;
}

export function isJsonObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function readJsonFile(path: string): Promise<Json | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ModelFileError(basename(path), `${path} cannot be read.`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(basename(path), `${path} is not valid JSON.`, { cause: err });
  }
  if (!isJsonObject(value)) throw new ModelFileError(basename(path), `${path} is not a JSON object.`);
  return value;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function idList(v: unknown): number[] {
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number');
  return typeof v === 'number' ? [v] : [];
}

/** transformers' defaults for fields llava-hf configs leave out (LlamaConfig, Qwen2Config, CLIP/SigLIP vision). */
const TEXT_DEFAULTS: Record<string, { hidden: number; heads: number; maxPositions: number }> = {
  llama: { hidden: 4096, heads: 32, maxPositions: 2048 },
  qwen2: { hidden: 4096, heads: 32, maxPositions: 32768 },
  mistral: { hidden: 4096, heads: 32, maxPositions: 131072 },
};
const VISION_DEFAULTS: Record<string, { imageSize: number; patchSize: number; clsToken: boolean }> = {
  clip_vision_model: { imageSize: 224, patchSize: 32, clsToken: true },
  siglip_vision_model: { imageSize: 224, patchSize: 16, clsToken: false },
};

/**
 * The number of feature positions per image, as transformers' LlavaProcessor counts them:
 * (H / patch) · (W / patch) + num_additional_image_tokens (the CLS token of CLIP), minus one for the
 * "default" feature strategy, which drops CLS.
 */
export function imageTokenCount(o: { height: number; width: number; patchSize: number; additionalTokens: number; strategy: string }): number {
  const n = Math.floor(o.height / o.patchSize) * Math.floor(o.width / o.patchSize) + o.additionalTokens;
  return o.strategy === 'default' ? n - 1 : n;
}

/** `image` is the processed image's size (after resize/crop), from llava-preprocess.ts. */
export async function readLlavaPackConfig(modelDir: string, image: { height: number; width: number }): Promise<LlavaPackConfig> {
  const configPath = join(modelDir, 'config.json');
  const config = await readJsonFile(configPath);
  if (!config) throw new ModelFileError('config.json', `${modelDir} has no config.json. Reinstall or re-import the model.`);
  const text = isJsonObject(config.text_config) ? config.text_config : {};
  const vision = isJsonObject(config.vision_config) ? config.vision_config : {};
  const processor = (await readJsonFile(join(modelDir, 'processor_config.json'))) ?? {};
  const generation = (await readJsonFile(join(modelDir, 'generation_config.json'))) ?? {};

  const textModelType = str(text.model_type) ?? 'llama';
  const visionModelType = str(vision.model_type) ?? 'clip_vision_model';
  const td = TEXT_DEFAULTS[textModelType] ?? TEXT_DEFAULTS['llama']!;
  const vd = VISION_DEFAULTS[visionModelType] ?? VISION_DEFAULTS['clip_vision_model']!;
  const hidden = num(text.hidden_size) ?? td.hidden;
  const heads = num(text.num_attention_heads) ?? td.heads;
  const imageTokenId = num(config.image_token_index) ?? num(config.image_token_id);
  if (imageTokenId === undefined) throw new ModelFileError('config.json', `${configPath} gives no image_token_index.`);
  const strategy = str(processor.vision_feature_select_strategy) ?? str(config.vision_feature_select_strategy) ?? 'default';
  const patchSize = num(processor.patch_size) ?? num(vision.patch_size) ?? vd.patchSize;
  const additionalTokens = num(processor.num_additional_image_tokens) ?? (vd.clsToken ? 1 : 0);
  const eos = idList(generation.eos_token_id);
  return {
    textModelType,
    visionModelType,
    imageTokenId,
    imageToken: str(processor.image_token) ?? '<image>',
    imageTokens: imageTokenCount({ ...image, patchSize, additionalTokens, strategy }),
    eosIds: eos.length > 0 ? eos : idList(text.eos_token_id ?? config.eos_token_id),
    maxPositionEmbeddings: num(text.max_position_embeddings) ?? td.maxPositions,
    kvHeads: num(text.num_key_value_heads) ?? heads,
    headDim: num(text.head_dim) ?? hidden / heads,
  };
}
