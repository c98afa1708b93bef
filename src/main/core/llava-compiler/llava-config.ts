/**
 * config.json of a llava-hf checkpoint (model_type "llava") → the shapes the compiler builds. Keys that the
 * file omits take the defaults of transformers' config classes (LlavaConfig, CLIPVisionConfig,
 * SiglipVisionConfig, LlamaConfig, Qwen2Config): llava-hf/llava-1.5-7b-hf's config.json spells out almost
 * nothing of its Llama, so reading a missing key as "unknown" would be wrong, not merely strict.
 */
import { ModelFileError } from '../errors';
import { isSupportedActivation, type ActivationName } from '../onnx/blocks';

export type VisionKind = 'clip' | 'siglip';
export type TextKind = 'llama' | 'qwen2';
export type FeatureSelectStrategy = 'default' | 'full';

export interface LlavaVisionSpec {
  kind: VisionKind;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  /** layers in the checkpoint */
  numLayers: number;
  numChannels: number;
  imageSize: number;
  patchSize: number;
  layerNormEps: number;
  hiddenAct: ActivationName;
}

export interface LlavaTextSpec {
  kind: TextKind;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  numLayers: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  hiddenAct: ActivationName;
  maxPositionEmbeddings: number;
  /** bias on q/k/v (Qwen2 always; Llama when attention_bias) */
  qkvBias: boolean;
  /** bias on o_proj (Llama's attention_bias; never in Qwen2) */
  oBias: boolean;
  mlpBias: boolean;
  /** lm_head shares the embedding matrix */
  tiedEmbeddings: boolean;
}

export interface LlavaSpec {
  vision: LlavaVisionSpec;
  text: LlavaTextSpec;
  imageTokenIndex: number;
  /** as written (negative counts from the end of hidden_states) */
  visionFeatureLayer: number;
  /** encoder layers the graph runs: hidden_states[k] is the output of layer k-1, [0] the embeddings */
  visionLayersUsed: number;
  featureSelectStrategy: FeatureSelectStrategy;
  projectorAct: ActivationName;
  projectorBias: boolean;
  /** patch tokens per image after the strategy (what replaces one `<image>` token) */
  imageTokens: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads typed keys with a default, naming the file and the key path on a wrong type. */
class Reader {
  constructor(
    private readonly json: Json,
    private readonly file: string,
    private readonly path: string,
  ) {}

  private fail(key: string, what: string): never {
    throw new ModelFileError(this.file, `${this.file}: ${this.path}${key} must be ${what} (got ${JSON.stringify(this.json[key])}).`);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  int(key: string, fallback: number, min = 1): number {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(key, `an integer ≥ ${min}`);
    return v;
  }

  /** An integer that may be negative (layer indices, token ids). */
  anyInt(key: string, fallback: number): number {
    return this.int(key, fallback, Number.MIN_SAFE_INTEGER);
  }

  positive(key: string, fallback: number): number {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) this.fail(key, 'a positive number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  string(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const v = this.json[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  activation(key: string, fallback: ActivationName): ActivationName {
    const v = this.string(key, fallback);
    if (!isSupportedActivation(v)) this.fail(key, 'an activation Tandem implements');
    return v;
  }

  raw(key: string): unknown {
    return this.json[key];
  }
}

function divisible(file: string, what: string, a: number, b: number): void {
  if (a % b !== 0) throw new ModelFileError(file, `${file}: ${what} (${a}) is not divisible by ${b}.`);
}

/** LlavaConfig builds this CLIPVisionConfig when vision_config is absent (the llava-1.5 tower). */
const LLAVA_DEFAULT_VISION: Json = {
  model_type: 'clip_vision_model',
  intermediate_size: 4096,
  hidden_size: 1024,
  patch_size: 14,
  image_size: 336,
  num_hidden_layers: 24,
  num_attention_heads: 16,
};

function parseVision(json: unknown, file: string): LlavaVisionSpec {
  const v = json === undefined || json === null ? LLAVA_DEFAULT_VISION : json;
  if (!isObject(v)) throw new ModelFileError(file, `${file}: vision_config must be an object.`);
  const r = new Reader(v, file, 'vision_config.');
  // CONFIG_MAPPING defaults a vision_config dict without model_type to CLIP.
  const modelType = r.string('model_type', 'clip_vision_model');
  let spec: LlavaVisionSpec;
  if (modelType === 'clip_vision_model') {
    spec = {
      kind: 'clip',
      hiddenSize: r.int('hidden_size', 768),
      intermediateSize: r.int('intermediate_size', 3072),
      numHeads: r.int('num_attention_heads', 12),
      numLayers: r.int('num_hidden_layers', 12),
      numChannels: r.int('num_channels', 3),
      imageSize: r.int('image_size', 224),
      patchSize: r.int('patch_size', 32),
      layerNormEps: r.positive('layer_norm_eps', 1e-5),
      hiddenAct: r.activation('hidden_act', 'quick_gelu'),
    };
  } else if (modelType === 'siglip_vision_model') {
    spec = {
      kind: 'siglip',
      hiddenSize: r.int('hidden_size', 768),
      intermediateSize: r.int('intermediate_size', 3072),
      numHeads: r.int('num_attention_heads', 12),
      numLayers: r.int('num_hidden_layers', 12),
      numChannels: r.int('num_channels', 3),
      imageSize: r.int('image_size', 224),
      patchSize: r.int('patch_size', 16),
      layerNormEps: r.positive('layer_norm_eps', 1e-6),
      hiddenAct: r.activation('hidden_act', 'gelu_pytorch_tanh'),
    };
  } else {
    throw new ModelFileError(file, `${file}: vision_config.model_type "${modelType}" is not supported (Tandem compiles clip_vision_model and siglip_vision_model).`);
  }
  divisible(file, 'vision_config.hidden_size', spec.hiddenSize, spec.numHeads);
  if (spec.patchSize > spec.imageSize) throw new ModelFileError(file, `${file}: vision_config.patch_size is larger than image_size.`);
  return spec;
}

/** Refuses RoPE variants whose position math Tandem does not implement, rather than compiling wrong logits. */
function ropeTheta(r: Reader, file: string, fallback: number): number {
  const params = r.raw('rope_parameters');
  const scaling = r.raw('rope_scaling');
  let theta = r.positive('rope_theta', fallback);
  for (const [key, value] of [['rope_parameters', params], ['rope_scaling', scaling]] as const) {
    if (value === undefined || value === null) continue;
    if (!isObject(value)) throw new ModelFileError(file, `${file}: text_config.${key} must be an object.`);
    const type = value['rope_type'] ?? value['type'] ?? 'default';
    if (type !== 'default') {
      throw new ModelFileError(file, `${file}: text_config.${key} asks for "${String(type)}" RoPE scaling, which Tandem does not implement (only the default rotary embedding).`);
    }
    if (key === 'rope_parameters' && typeof value['rope_theta'] === 'number') theta = value['rope_theta'];
  }
  return theta;
}

function parseText(json: unknown, file: string, top: Reader): LlavaTextSpec {
  const t = json === undefined || json === null ? {} : json;
  if (!isObject(t)) throw new ModelFileError(file, `${file}: text_config must be an object.`);
  const r = new Reader(t, file, 'text_config.');
  // LlavaConfig defaults a text_config dict without model_type to llama.
  const modelType = r.string('model_type', 'llama');
  if (modelType !== 'llama' && modelType !== 'qwen2') {
    throw new ModelFileError(file, `${file}: text_config.model_type "${modelType}" is not supported (Tandem compiles llama and qwen2).`);
  }
  const llama = modelType === 'llama';
  const hiddenSize = r.int('hidden_size', 4096);
  const numHeads = r.int('num_attention_heads', 32);
  const headDim = r.int('head_dim', Math.floor(hiddenSize / numHeads));
  const numKvHeads = r.int('num_key_value_heads', numHeads);
  divisible(file, 'text_config.num_attention_heads', numHeads, numKvHeads);
  if (!r.has('head_dim')) divisible(file, 'text_config.hidden_size', hiddenSize, numHeads);
  if (headDim % 2 !== 0) throw new ModelFileError(file, `${file}: text_config head_dim (${headDim}) must be even for rotary embeddings.`);
  if (!llama && r.bool('use_sliding_window', false)) {
    throw new ModelFileError(file, `${file}: text_config.use_sliding_window is true; Tandem's decoder attends over the whole context and does not implement sliding-window attention.`);
  }
  const attentionBias = llama ? r.bool('attention_bias', false) : false;
  // transformers reads tie_word_embeddings from the text config; older files only set it at the top.
  const tiedFallback = top.bool('tie_word_embeddings', false);
  return {
    kind: modelType,
    hiddenSize,
    intermediateSize: r.int('intermediate_size', llama ? 11008 : 22016),
    numHeads,
    numKvHeads,
    headDim,
    numLayers: r.int('num_hidden_layers', 32),
    vocabSize: r.int('vocab_size', llama ? 32000 : 151936),
    rmsNormEps: r.positive('rms_norm_eps', 1e-6),
    ropeTheta: ropeTheta(r, file, 10000),
    hiddenAct: r.activation('hidden_act', 'silu'),
    maxPositionEmbeddings: r.int('max_position_embeddings', llama ? 2048 : 32768),
    qkvBias: llama ? attentionBias : true,
    oBias: attentionBias,
    mlpBias: llama ? r.bool('mlp_bias', false) : false,
    tiedEmbeddings: r.bool('tie_word_embeddings', tiedFallback),
  };
}

export function parseLlavaConfig(json: unknown, file: string): LlavaSpec {
  if (!isObject(json)) throw new ModelFileError(file, `${file} is not a JSON object.`);
  const top = new Reader(json, file, '');
  const modelType = top.string('model_type', '');
  if (modelType !== 'llava') {
    throw new ModelFileError(file, `${file}: model_type is "${modelType}", not "llava"; Tandem's LLaVA compiler reads llava-hf checkpoints (LlavaForConditionalGeneration).`);
  }
  const vision = parseVision(json['vision_config'], file);
  const text = parseText(json['text_config'], file, top);

  const layerRaw = top.raw('vision_feature_layer');
  let layer = -2;
  if (Array.isArray(layerRaw)) {
    // Newer configs may list several layers to concatenate; one layer is the same as a number.
    if (layerRaw.length !== 1 || typeof layerRaw[0] !== 'number') {
      throw new ModelFileError(file, `${file}: vision_feature_layer ${JSON.stringify(layerRaw)} concatenates several layers, which Tandem does not implement.`);
    }
    layer = layerRaw[0];
  } else {
    layer = top.anyInt('vision_feature_layer', -2);
  }
  const states = vision.numLayers + 1;
  const index = layer < 0 ? states + layer : layer;
  if (!Number.isInteger(index) || index < 0 || index >= states) {
    throw new ModelFileError(file, `${file}: vision_feature_layer ${layer} is outside the tower's ${states} hidden states.`);
  }
  const strategy = top.string('vision_feature_select_strategy', 'default');
  if (strategy !== 'default' && strategy !== 'full') {
    throw new ModelFileError(file, `${file}: vision_feature_select_strategy "${strategy}" is not supported ("default" or "full").`);
  }
  const grid = Math.floor(vision.imageSize / vision.patchSize) ** 2;
  const tokens = grid + (vision.kind === 'clip' ? 1 : 0);
  const imageTokenIndex = top.has('image_token_index') ? top.int('image_token_index', 32000, 0) : top.int('image_token_id', 32000, 0);
  return {
    vision,
    text,
    imageTokenIndex,
    visionFeatureLayer: layer,
    visionLayersUsed: index,
    featureSelectStrategy: strategy,
    projectorAct: top.activation('projector_hidden_act', 'gelu'),
    projectorBias: top.bool('multimodal_projector_bias', true),
    imageTokens: strategy === 'default' ? tokens - 1 : tokens,
  };
}
