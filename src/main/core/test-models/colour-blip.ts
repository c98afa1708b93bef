/**
 * A BLIP captioner whose weights are set by hand so that its greedy caption names the photo's dominant colour:
 * "a photo of red" for a red photo. It runs the real path (file → preprocessing → compiled graphs →
 * generation → text), so end-to-end tests can assert real behaviour.
 *
 * How it works:
 * - vision: the patch convolution averages each colour channel of the normalised pixels into channels 0–2
 *   (negated copies in 3–5, a ±K pair in 6–7). Encoder layers add nothing (zero output projections), and
 *   because the ±pairs keep the mean at 0 and K dominates the variance, post_layernorm is ≈ a fixed scale:
 *   image embeds carry the mean colour linearly.
 * - text decoder: position embeddings write a large one-hot per position (0–4); the cross-attention has zero
 *   queries, so it averages the image tokens, and its value projection turns the mean colour into one score
 *   per colour word (2·c·q − |q|², i.e. nearest prototype colour). The LM head reads position 0 → "a",
 *   1 → "photo", 2 → "of", 3 → the best-scoring colour, 4 and later → [SEP].
 */
import type { WeightMap } from '../weights/weight-tensor';
import type { BlipPackConfig } from './blip-pack-files';
import { blipTensorShapes, CLIP_MEAN, CLIP_STD, writeBlipPack } from './blip-pack-files';
import type { ColourWord } from './tiny-vocab';
import { COLOUR_WORDS, tinyVocab } from './tiny-vocab';

/** Prototype colours (RGB in 0–1); a photo is captioned with the nearest one. */
export const COLOUR_PROTOTYPES: Record<ColourWord, [number, number, number]> = {
  red: [0.9, 0, 0],
  green: [0, 0.75, 0],
  blue: [0, 0, 0.8],
  yellow: [1, 1, 0],
  orange: [1, 0.55, 0],
  purple: [0.5, 0, 0.5],
  pink: [1, 0.7, 0.8],
  brown: [0.55, 0.3, 0.1],
  white: [1, 1, 1],
  black: [0, 0, 0],
  gray: [0.5, 0.5, 0.5],
  cyan: [0, 1, 1],
};

/** The colour word the model is built to produce for a mean RGB colour (0–255). */
export function expectedColourWord(rgb: readonly [number, number, number]): ColourWord {
  let best: ColourWord = 'black';
  let bestDist = Infinity;
  for (const word of COLOUR_WORDS) {
    const q = COLOUR_PROTOTYPES[word];
    const d = q.reduce((acc, qc, i) => acc + ((rgb[i] as number) / 255 - qc) ** 2, 0);
    if (d < bestDist) {
      bestDist = d;
      best = word;
    }
  }
  return best;
}

export function colourBlipConfig(): BlipPackConfig {
  const vocab = tinyVocab();
  return {
    architecture: 'BlipForConditionalGeneration',
    vision: { hiddenSize: 16, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, imageSize: 32, patchSize: 8 },
    text: {
      vocabSize: vocab.length + 2,
      bosTokenId: vocab.length,
      sepTokenId: vocab.indexOf('[SEP]'),
      padTokenId: vocab.indexOf('[PAD]'),
      hiddenSize: 32,
      encoderHiddenSize: 16,
      intermediateSize: 32,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      maxPositionEmbeddings: 64,
    },
  };
}

/** vision channel layout */
const K = 50;
/** text hidden layout: dims 0–4 position slots, 5… one per colour word */
const POS_SLOTS = 5;
const POSITION_GAIN = 20;
const WORD_GAIN = 2;
const COLOUR_GAIN = 2;
const SCORE_GAIN = 1;
const TRANSFORM_SHIFT = 4;
const OTHER_TOKEN_BIAS = -10;

export function colourBlipWeights(): WeightMap {
  const config = colourBlipConfig();
  const vocab = tinyVocab();
  const shapes = blipTensorShapes(config);
  const weights: WeightMap = new Map();
  const data = (name: string): Float32Array => {
    const t = weights.get(name);
    if (!t) throw new Error(`colour model: no tensor ${name}`);
    return t.data as Float32Array;
  };
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    // LayerNorm scales default to one; everything else starts at zero.
    if (/(LayerNorm|layer_norm\d|post_layernorm)\.weight$/.test(name)) values.fill(1);
    weights.set(name, { storedDType: 'float32', shape, data: values });
  }

  // Vision: patch conv = per-channel mean (and its negation), bias ±K.
  const Dv = config.vision.hiddenSize;
  const P = config.vision.patchSize;
  const conv = data('vision_model.embeddings.patch_embedding.weight');
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < P * P; k++) {
      conv[(c * 3 + c) * P * P + k] = 1 / (P * P);
      conv[((3 + c) * 3 + c) * P * P + k] = -1 / (P * P);
    }
  }
  const convBias = data('vision_model.embeddings.patch_embedding.bias');
  convBias[6] = K;
  convBias[7] = -K;
  const cls = data('vision_model.embeddings.class_embedding');
  cls[6] = K;
  cls[7] = -K;

  // post_layernorm scale with colour channels ≈ 0: 1/√(2K²/Dv).
  const s0 = 1 / Math.sqrt((2 * K * K) / Dv + 1e-5);
  const patches = (config.vision.imageSize / P) ** 2;
  // Mean over all tokens (class token carries no colour) → normalised pixel p_c:
  const toPixel = (patches + 1) / (patches * s0);

  const D = config.text.hiddenSize;
  const pre = 'text_decoder.bert';
  const pos = data(`${pre}.embeddings.position_embeddings.weight`);
  for (let p = 0; p < config.text.maxPositionEmbeddings; p++) pos[p * D + Math.min(p, POS_SLOTS - 1)] = POSITION_GAIN;

  const E = data(`${pre}.embeddings.word_embeddings.weight`);
  const bias = data('text_decoder.cls.predictions.bias');
  bias.fill(OTHER_TOKEN_BIAS);
  const setWord = (word: string, entries: Array<[number, number]>): void => {
    const id = vocab.indexOf(word);
    if (id < 0) throw new Error(`colour model: ${word} is not in the vocabulary`);
    for (const [dim, v] of entries) E[id * D + dim] = v;
    bias[id] = 0;
  };
  setWord('a', [[0, WORD_GAIN]]);
  setWord('photo', [[1, WORD_GAIN]]);
  setWord('of', [[2, WORD_GAIN]]);
  setWord('[SEP]', [[4, WORD_GAIN]]);

  // Cross-attention value: colour score per word from the averaged image channels.
  const lp = `${pre}.encoder.layer.0.crossattention`;
  const vW = data(`${lp}.self.value.weight`);
  const vB = data(`${lp}.self.value.bias`);
  const oW = data(`${lp}.output.dense.weight`);
  COLOUR_WORDS.forEach((word, k) => {
    const dim = POS_SLOTS + k;
    const q = COLOUR_PROTOTYPES[word];
    let constant = 0;
    for (let c = 0; c < 3; c++) {
      // c_rgb = p_c·σ_c + μ_c with p_c = toPixel · channel_c
      vW[dim * Dv + c] = SCORE_GAIN * 2 * (q[c] as number) * (CLIP_STD[c] as number) * toPixel;
      constant += 2 * (q[c] as number) * (CLIP_MEAN[c] as number) - (q[c] as number) ** 2;
    }
    vB[dim] = SCORE_GAIN * constant;
    oW[dim * D + dim] = 1;
    setWord(word, [
      [3, WORD_GAIN],
      [dim, COLOUR_GAIN],
    ]);
  });

  // LM head transform: identity plus a shift that keeps GELU in its increasing range.
  const tW = data('text_decoder.cls.predictions.transform.dense.weight');
  const tB = data('text_decoder.cls.predictions.transform.dense.bias');
  for (let d = 0; d < D; d++) {
    tW[d * D + d] = 1;
    tB[d] = TRANSFORM_SHIFT;
  }
  return weights;
}

export async function writeColourBlip(dir: string, options: { format?: 'safetensors' | 'bin' } = {}): Promise<void> {
  await writeBlipPack(dir, colourBlipConfig(), tinyVocab(), colourBlipWeights(), options.format);
}
