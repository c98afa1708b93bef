/**
 * Reads a Hugging Face BLIP config.json into the sizes, ids and generation defaults the compiler and
 * generator need. Missing fields take transformers' own defaults (BlipVisionConfig / BlipTextConfig), so a
 * config that loads in transformers loads here with the same meaning.
 */
import { ModelFileError } from '../errors';
import type { ActivationName } from '../onnx/blocks';
import { isSupportedActivation } from '../onnx/blocks';

/** 'retrieval' is BlipForImageTextRetrieval (ITC + ITM heads); it is compiled by compile-blip-retrieval.ts. */
export type BlipArchitecture = 'captioning' | 'vqa' | 'retrieval';

export interface BlipVisionSpec {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numChannels: number;
  imageSize: number;
  patchSize: number;
  hiddenAct: ActivationName;
  layerNormEps: number;
}

export interface BlipTextSpec {
  vocabSize: number;
  hiddenSize: number;
  encoderHiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  maxPositionEmbeddings: number;
  hiddenAct: ActivationName;
  layerNormEps: number;
  bosTokenId: number;
  /** text_config.eos_token_id; BLIP's generate() stops on sepTokenId instead. */
  eosTokenId: number;
  padTokenId: number;
  sepTokenId: number;
  tieWordEmbeddings: boolean;
}

export interface BlipGenerationDefaults {
  maxLength: number;
  minLength: number;
  numBeams: number;
  lengthPenalty: number;
  earlyStopping: boolean | 'never';
  repetitionPenalty: number;
  noRepeatNgramSize: number;
}

export interface BlipSpec {
  modelType: 'blip';
  architecture: BlipArchitecture;
  vision: BlipVisionSpec;
  text: BlipTextSpec;
  generation: BlipGenerationDefaults;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 2^24: ~500× BLIP-large's largest size (vocab 30524) and below where float32 stops counting exactly. */
const MAX_CONFIG_INT = 2 ** 24;

class FieldReader {
  constructor(
    private readonly obj: Json,
    private readonly file: string,
    private readonly where: string,
  ) {}

  /** Sizes above `MAX_CONFIG_INT` are refused: they would only make the compiler allocate for a model that cannot exist. */
  int(key: string, fallback: number, min = 1): number {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_CONFIG_INT) {
      throw new ModelFileError(this.file, `${this.file}: ${this.where}.${key} must be an integer from ${min} to ${MAX_CONFIG_INT}, got ${JSON.stringify(v)}.`);
    }
    return v;
  }

  /** token ids may legitimately be 0 */
  id(key: string, fallback: number): number {
    return this.int(key, fallback, 0);
  }

  num(key: string, fallback: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ModelFileError(this.file, `${this.file}: ${this.where}.${key} must be a number, got ${JSON.stringify(v)}.`);
    }
    return v;
  }

  act(key: string, fallback: ActivationName): ActivationName {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !isSupportedActivation(v)) {
      throw new ModelFileError(this.file, `${this.file}: ${this.where}.${key} = ${JSON.stringify(v)} is not an activation Tandem supports.`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    return typeof v === 'boolean' ? v : fallback;
  }
}

const ARCHITECTURES: Record<string, BlipArchitecture> = {
  BlipForConditionalGeneration: 'captioning',
  BlipForQuestionAnswering: 'vqa',
  BlipForImageTextRetrieval: 'retrieval',
};

/**
 * @param weightNames when the config has no `architectures`, the checkpoint's tensor names decide
 *   (a `text_encoder.*` tensor means question answering).
 */
export function parseBlipConfig(json: unknown, file: string, weightNames?: ReadonlySet<string>): BlipSpec {
  if (!isObject(json)) throw new ModelFileError(file, `${file} is not a JSON object.`);
  if (json.model_type !== 'blip') {
    throw new ModelFileError(file, `${file}: model_type ${JSON.stringify(json.model_type)} is not a BLIP model (expected "blip").`);
  }
  let architecture: BlipArchitecture | undefined;
  const archs = json.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    // Own properties only: architectures ["constructor"] must not find Object's constructor.
    const name = String(archs[0]);
    architecture = Object.hasOwn(ARCHITECTURES, name) ? ARCHITECTURES[name] : undefined;
    if (!architecture) {
      throw new ModelFileError(
        file,
        `${file}: architecture ${JSON.stringify(archs[0])} is not supported; Tandem runs BlipForConditionalGeneration (captions), BlipForQuestionAnswering (answers) and BlipForImageTextRetrieval (search by meaning).`,
      );
    }
  } else if (weightNames) {
    // itm_head exists only in BlipForImageTextRetrieval; a text_encoder without it is VQA's question encoder.
    const names = [...weightNames];
    architecture = names.includes('itm_head.weight') ? 'retrieval' : names.some((n) => n.startsWith('text_encoder.')) ? 'vqa' : 'captioning';
  } else {
    architecture = 'captioning';
  }
  const vc = json.vision_config ?? {};
  const tc = json.text_config ?? {};
  if (!isObject(vc)) throw new ModelFileError(file, `${file}: vision_config must be an object.`);
  if (!isObject(tc)) throw new ModelFileError(file, `${file}: text_config must be an object.`);
  const v = new FieldReader(vc, file, 'vision_config');
  const t = new FieldReader(tc, file, 'text_config');

  const vision: BlipVisionSpec = {
    hiddenSize: v.int('hidden_size', 768),
    intermediateSize: v.int('intermediate_size', 3072),
    numHiddenLayers: v.int('num_hidden_layers', 12, 0),
    numAttentionHeads: v.int('num_attention_heads', 12),
    numChannels: v.int('num_channels', 3),
    imageSize: v.int('image_size', 384),
    patchSize: v.int('patch_size', 16),
    hiddenAct: v.act('hidden_act', 'gelu'),
    layerNormEps: v.num('layer_norm_eps', 1e-5),
  };
  const tieTop = typeof json.tie_word_embeddings === 'boolean' ? json.tie_word_embeddings : true;
  const text: BlipTextSpec = {
    vocabSize: t.int('vocab_size', 30524),
    hiddenSize: t.int('hidden_size', 768),
    encoderHiddenSize: t.int('encoder_hidden_size', 768),
    intermediateSize: t.int('intermediate_size', 3072),
    numHiddenLayers: t.int('num_hidden_layers', 12, 0),
    numAttentionHeads: t.int('num_attention_heads', 8),
    maxPositionEmbeddings: t.int('max_position_embeddings', 512),
    hiddenAct: t.act('hidden_act', 'gelu'),
    layerNormEps: t.num('layer_norm_eps', 1e-12),
    bosTokenId: t.id('bos_token_id', 30522),
    eosTokenId: t.id('eos_token_id', 2),
    padTokenId: t.id('pad_token_id', 0),
    sepTokenId: t.id('sep_token_id', 102),
    tieWordEmbeddings: t.bool('tie_word_embeddings', tieTop),
  };
  for (const [name, hidden, heads] of [
    ['vision_config', vision.hiddenSize, vision.numAttentionHeads],
    ['text_config', text.hiddenSize, text.numAttentionHeads],
  ] as const) {
    if (hidden % heads !== 0) {
      throw new ModelFileError(file, `${file}: ${name}.hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}.`);
    }
  }
  if (vision.patchSize > vision.imageSize) {
    throw new ModelFileError(file, `${file}: vision_config.patch_size ${vision.patchSize} is larger than image_size ${vision.imageSize}.`);
  }
  // Generation starts from bos, so it must be a real token. sep/pad outside the vocabulary are legal (as in
  // transformers): such an eos can never be produced and generation runs to max_length.
  if (text.bosTokenId >= text.vocabSize) {
    throw new ModelFileError(file, `${file}: text_config.bos_token_id ${text.bosTokenId} is outside the vocabulary (${text.vocabSize}).`);
  }
  if (tc.is_decoder === false) {
    throw new ModelFileError(file, `${file}: text_config.is_decoder is false, so the text model has no cross-attention to the image; Tandem cannot run it.`);
  }
  const earlyRaw = tc.early_stopping;
  const generation: BlipGenerationDefaults = {
    maxLength: t.int('max_length', 20),
    minLength: t.int('min_length', 0, 0),
    numBeams: t.int('num_beams', 1),
    lengthPenalty: t.num('length_penalty', 1.0),
    earlyStopping: earlyRaw === 'never' ? 'never' : earlyRaw === true,
    repetitionPenalty: t.num('repetition_penalty', 1.0),
    noRepeatNgramSize: t.int('no_repeat_ngram_size', 0, 0),
  };
  return { modelType: 'blip', architecture, vision, text, generation };
}
