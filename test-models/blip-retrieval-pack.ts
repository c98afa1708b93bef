/**
 * The files of a Hugging Face BlipForImageTextRetrieval repository (Salesforce/blip-itm-base-coco's layout):
 * config.json with `image_text_hidden_size`, the BLIP preprocessor and tokenizer files, and weights under
 * transformers' names (vision_model.*, text_encoder.* with cross-attention, vision_proj, text_proj, itm_head).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../src/main/core/weights/safetensors';
import { writeTorchBin } from '../src/main/core/weights/torch-bin';
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import type { BlipPackText, BlipPackVision, WeightFormat } from './blip-pack-files';
import { blipConfigJson, blipTensorShapes, preprocessorConfigJson, writeBlipTokenizerFiles } from './blip-pack-files';
import { randomBlipFamilyWeights } from './tiny-blip';

export interface BlipRetrievalPackConfig {
  vision: BlipPackVision;
  text: BlipPackText;
  /** width of the ITC space (config.image_text_hidden_size) */
  imageTextHiddenSize: number;
}

/**
 * tokenizer.json as BertTokenizerFast.save_pretrained writes it for Salesforce's BLIP repos: BERT's normalizer
 * and pre-tokenizer, WordPiece over vocab.txt, `[CLS] … [SEP]`, and BLIP's `[DEC]` / `[ENC]` appended after the
 * vocabulary as added special tokens.
 */
export async function writeBertTokenizerJson(dir: string, vocab: readonly string[]): Promise<void> {
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => ids.has(t)).map((t) => special(t, ids.get(t)!));
  const cls = ids.get('[CLS]')!;
  const sep = ids.get('[SEP]')!;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...specials, special('[DEC]', vocab.length), special('[ENC]', vocab.length + 1)],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(ids) },
  };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
}

/** config.json as BlipConfig.to_dict() writes it for BlipForImageTextRetrieval. */
export function retrievalConfigJson(c: BlipRetrievalPackConfig): Record<string, unknown> {
  const base = blipConfigJson({ architecture: 'BlipForQuestionAnswering', vision: c.vision, text: c.text });
  return { ...base, architectures: ['BlipForImageTextRetrieval'], image_text_hidden_size: c.imageTextHiddenSize };
}

/** Every tensor transformers' BlipForImageTextRetrieval saves, with its shape. */
export function retrievalTensorShapes(c: BlipRetrievalPackConfig): Map<string, number[]> {
  // The VQA layout has vision_model.* and a cross-attending text_encoder.*: exactly the retrieval backbone.
  const all = blipTensorShapes({ architecture: 'BlipForQuestionAnswering', vision: c.vision, text: c.text });
  const s = new Map([...all].filter(([name]) => !name.startsWith('text_decoder.')));
  s.set('vision_proj.weight', [c.imageTextHiddenSize, c.vision.hiddenSize]);
  s.set('vision_proj.bias', [c.imageTextHiddenSize]);
  s.set('text_proj.weight', [c.imageTextHiddenSize, c.text.hiddenSize]);
  s.set('text_proj.bias', [c.imageTextHiddenSize]);
  s.set('itm_head.weight', [2, c.text.hiddenSize]);
  s.set('itm_head.bias', [2]);
  return s;
}

/** Seeded random weights, scaled as tiny-blip.ts scales the captioner's. */
export function randomRetrievalWeights(c: BlipRetrievalPackConfig, seed: number): WeightMap {
  return randomBlipFamilyWeights(retrievalTensorShapes(c), seed);
}

export async function writeBlipRetrievalPack(
  dir: string,
  config: BlipRetrievalPackConfig,
  vocab: readonly string[],
  weights: WeightMap,
  format: WeightFormat = 'safetensors',
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(retrievalConfigJson(config), null, 2));
  await writeFile(join(dir, 'preprocessor_config.json'), JSON.stringify(preprocessorConfigJson(config.vision.imageSize), null, 2));
  await writeBlipTokenizerFiles(dir, vocab);
  await writeBertTokenizerJson(dir, vocab);
  if (format === 'safetensors') await writeSafetensors(join(dir, 'model.safetensors'), weights);
  else await writeTorchBin(join(dir, 'pytorch_model.bin'), weights);
}
