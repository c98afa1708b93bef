/**
 * Writes the files of a Hugging Face BLIP repository (config.json, preprocessor_config.json, tokenizer files,
 * weights) with transformers' field and tensor names, so generated test models go through exactly the code
 * path of downloaded ones.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../src/main/core/weights/safetensors';
import { writeTorchBin } from '../src/main/core/weights/torch-bin';
import type { WeightMap } from '../src/main/core/weights/weight-tensor';

export interface BlipPackVision {
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  imageSize: number;
  patchSize: number;
  hiddenAct?: string;
  layerNormEps?: number;
}

export interface BlipPackText {
  vocabSize: number;
  hiddenSize: number;
  encoderHiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  maxPositionEmbeddings: number;
  hiddenAct?: string;
  layerNormEps?: number;
  bosTokenId: number;
  sepTokenId: number;
  padTokenId: number;
  eosTokenId?: number;
}

export interface BlipPackConfig {
  architecture: 'BlipForConditionalGeneration' | 'BlipForQuestionAnswering';
  vision: BlipPackVision;
  text: BlipPackText;
  /** extra generation fields for text_config (max_length, num_beams, …) */
  textGeneration?: Record<string, unknown>;
}

/** config.json as transformers' BlipConfig.to_dict() writes it (the fields that matter, real names). */
export function blipConfigJson(c: BlipPackConfig): Record<string, unknown> {
  return {
    architectures: [c.architecture],
    initializer_factor: 1.0,
    initializer_range: 0.02,
    logit_scale_init_value: 2.6592,
    model_type: 'blip',
    projection_dim: 512,
    text_config: {
      model_type: 'blip_text_model',
      vocab_size: c.text.vocabSize,
      hidden_size: c.text.hiddenSize,
      encoder_hidden_size: c.text.encoderHiddenSize,
      intermediate_size: c.text.intermediateSize,
      num_hidden_layers: c.text.numHiddenLayers,
      num_attention_heads: c.text.numAttentionHeads,
      max_position_embeddings: c.text.maxPositionEmbeddings,
      hidden_act: c.text.hiddenAct ?? 'gelu',
      layer_norm_eps: c.text.layerNormEps ?? 1e-12,
      hidden_dropout_prob: 0.0,
      attention_probs_dropout_prob: 0.0,
      initializer_range: 0.02,
      bos_token_id: c.text.bosTokenId,
      eos_token_id: c.text.eosTokenId ?? 2,
      pad_token_id: c.text.padTokenId,
      sep_token_id: c.text.sepTokenId,
      is_decoder: true,
      use_cache: true,
      projection_dim: 768,
      label_smoothing: 0.0,
      ...(c.textGeneration ?? {}),
    },
    vision_config: {
      model_type: 'blip_vision_model',
      hidden_size: c.vision.hiddenSize,
      intermediate_size: c.vision.intermediateSize,
      num_hidden_layers: c.vision.numHiddenLayers,
      num_attention_heads: c.vision.numAttentionHeads,
      num_channels: 3,
      image_size: c.vision.imageSize,
      patch_size: c.vision.patchSize,
      hidden_act: c.vision.hiddenAct ?? 'gelu',
      layer_norm_eps: c.vision.layerNormEps ?? 1e-5,
      attention_dropout: 0.0,
      dropout: 0.0,
      initializer_range: 1e-10,
      projection_dim: 512,
    },
    torch_dtype: 'float32',
    transformers_version: '4.46.0',
  };
}

/** CLIP's normalisation constants, which BLIP's preprocessor_config.json uses. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export function preprocessorConfigJson(imageSize: number): Record<string, unknown> {
  return {
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [...CLIP_MEAN],
    image_processor_type: 'BlipImageProcessor',
    image_std: [...CLIP_STD],
    processor_class: 'BlipProcessor',
    resample: 3,
    rescale_factor: 0.00392156862745098,
    size: { height: imageSize, width: imageSize },
  };
}

/**
 * vocab.txt plus the tokenizer configs transformers saves after BLIP's `add_special_tokens({'bos_token':
 * '[DEC]'})` and `additional_special_tokens: ['[ENC]']`: the two tokens get the ids right after the vocab.
 */
export async function writeBlipTokenizerFiles(dir: string, vocab: readonly string[]): Promise<{ decId: number; encId: number }> {
  const decId = vocab.length;
  const encId = vocab.length + 1;
  await writeFile(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  const addedToken = (content: string) => ({ content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true });
  const specials = { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' };
  const decoderEntries: Record<string, unknown> = {};
  for (const t of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) {
    const id = vocab.indexOf(t);
    if (id >= 0) decoderEntries[String(id)] = addedToken(t);
  }
  decoderEntries[String(decId)] = addedToken('[DEC]');
  decoderEntries[String(encId)] = addedToken('[ENC]');
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        added_tokens_decoder: decoderEntries,
        additional_special_tokens: ['[ENC]'],
        bos_token: '[DEC]',
        clean_up_tokenization_spaces: true,
        do_basic_tokenize: true,
        do_lower_case: true,
        model_max_length: 512,
        never_split: null,
        processor_class: 'BlipProcessor',
        strip_accents: null,
        tokenize_chinese_chars: true,
        tokenizer_class: 'BertTokenizer',
        ...specials,
      },
      null,
      2,
    ),
  );
  await writeFile(
    join(dir, 'special_tokens_map.json'),
    JSON.stringify({ additional_special_tokens: ['[ENC]'], bos_token: '[DEC]', ...specials }, null, 2),
  );
  return { decId, encId };
}

export type WeightFormat = 'safetensors' | 'bin';

/** Writes a whole pack. `weights` uses transformers' tensor names. */
export async function writeBlipPack(
  dir: string,
  config: BlipPackConfig,
  vocab: readonly string[],
  weights: WeightMap,
  format: WeightFormat = 'safetensors',
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(blipConfigJson(config), null, 2));
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessorConfigJson(config.vision.imageSize), null, 2));
  await writeBlipTokenizerFiles(dir, vocab);
  if (format === 'safetensors') await writeSafetensors(join(dir, 'model.safetensors'), weights);
  else await writeTorchBin(join(dir, 'pytorch_model.bin'), weights);
}

/** Every tensor transformers' BlipForConditionalGeneration / BlipForQuestionAnswering saves, with its shape. */
export function blipTensorShapes(c: BlipPackConfig): Map<string, number[]> {
  const s = new Map<string, number[]>();
  const v = c.vision;
  const t = c.text;
  const tokens = Math.floor(v.imageSize / v.patchSize) ** 2 + 1;
  const vp = 'vision_model';
  s.set(`${vp}.embeddings.class_embedding`, [1, 1, v.hiddenSize]);
  s.set(`${vp}.embeddings.patch_embedding.weight`, [v.hiddenSize, 3, v.patchSize, v.patchSize]);
  s.set(`${vp}.embeddings.patch_embedding.bias`, [v.hiddenSize]);
  s.set(`${vp}.embeddings.position_embedding`, [1, tokens, v.hiddenSize]);
  const lin = (name: string, out: number, inp: number): void => {
    s.set(`${name}.weight`, [out, inp]);
    s.set(`${name}.bias`, [out]);
  };
  const ln = (name: string, n: number): void => {
    s.set(`${name}.weight`, [n]);
    s.set(`${name}.bias`, [n]);
  };
  for (let i = 0; i < v.numHiddenLayers; i++) {
    const lp = `${vp}.encoder.layers.${i}`;
    lin(`${lp}.self_attn.qkv`, 3 * v.hiddenSize, v.hiddenSize);
    lin(`${lp}.self_attn.projection`, v.hiddenSize, v.hiddenSize);
    ln(`${lp}.layer_norm1`, v.hiddenSize);
    lin(`${lp}.mlp.fc1`, v.intermediateSize, v.hiddenSize);
    lin(`${lp}.mlp.fc2`, v.hiddenSize, v.intermediateSize);
    ln(`${lp}.layer_norm2`, v.hiddenSize);
  }
  ln(`${vp}.post_layernorm`, v.hiddenSize);

  const textModel = (p: string): void => {
    s.set(`${p}.embeddings.word_embeddings.weight`, [t.vocabSize, t.hiddenSize]);
    s.set(`${p}.embeddings.position_embeddings.weight`, [t.maxPositionEmbeddings, t.hiddenSize]);
    ln(`${p}.embeddings.LayerNorm`, t.hiddenSize);
    for (let i = 0; i < t.numHiddenLayers; i++) {
      const lp = `${p}.encoder.layer.${i}`;
      for (const part of ['query', 'key', 'value']) lin(`${lp}.attention.self.${part}`, t.hiddenSize, t.hiddenSize);
      lin(`${lp}.attention.output.dense`, t.hiddenSize, t.hiddenSize);
      ln(`${lp}.attention.output.LayerNorm`, t.hiddenSize);
      lin(`${lp}.crossattention.self.query`, t.hiddenSize, t.hiddenSize);
      lin(`${lp}.crossattention.self.key`, t.hiddenSize, t.encoderHiddenSize);
      lin(`${lp}.crossattention.self.value`, t.hiddenSize, t.encoderHiddenSize);
      lin(`${lp}.crossattention.output.dense`, t.hiddenSize, t.hiddenSize);
      ln(`${lp}.crossattention.output.LayerNorm`, t.hiddenSize);
      lin(`${lp}.intermediate.dense`, t.intermediateSize, t.hiddenSize);
      lin(`${lp}.output.dense`, t.hiddenSize, t.intermediateSize);
      ln(`${lp}.output.LayerNorm`, t.hiddenSize);
    }
  };
  if (c.architecture === 'BlipForQuestionAnswering') textModel('text_encoder');
  textModel('text_decoder.bert');
  lin('text_decoder.cls.predictions.transform.dense', t.hiddenSize, t.hiddenSize);
  ln('text_decoder.cls.predictions.transform.LayerNorm', t.hiddenSize);
  s.set('text_decoder.cls.predictions.bias', [t.vocabSize]);
  return s;
}
