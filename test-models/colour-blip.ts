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
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
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

/** Captioner: vision 16 wide, text 32. The VQA variant needs equal widths, so both are 32 there. */
export function colourBlipConfig(architecture: BlipPackConfig['architecture'] = 'BlipForConditionalGeneration'): BlipPackConfig {
  const vocab = tinyVocab();
  const vqa = architecture === 'BlipForQuestionAnswering';
  const visionHidden = vqa ? 32 : 16;
  return {
    architecture,
    vision: { hiddenSize: visionHidden, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, imageSize: 32, patchSize: 8 },
    text: {
      vocabSize: vocab.length + 2,
      bosTokenId: vocab.length,
      sepTokenId: vocab.indexOf('[SEP]'),
      padTokenId: vocab.indexOf('[PAD]'),
      hiddenSize: 32,
      encoderHiddenSize: visionHidden,
      intermediateSize: 32,
      numHiddenLayers: 1,
      numAttentionHeads: 2,
      maxPositionEmbeddings: 64,
    },
  };
}

/** vision: the ±K channel pair that makes post_layernorm ≈ a constant scale */
const K = 50;
/** text hidden layout: dims 0–4 position slots, 5… one per colour word */
const POS_SLOTS = 5;
const POSITION_GAIN = 20;
const WORD_GAIN = 2;
const COLOUR_GAIN = 2;
const SCORE_GAIN = 1;
const TRANSFORM_SHIFT = 4;
const OTHER_TOKEN_BIAS = -10;

function zeroWeights(config: BlipPackConfig): WeightMap {
  const weights: WeightMap = new Map();
  for (const [name, shape] of blipTensorShapes(config)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    // LayerNorm scales default to one; everything else starts at zero.
    if (/(LayerNorm|layer_norm\d|post_layernorm)\.weight$/.test(name)) values.fill(1);
    weights.set(name, { storedDType: 'float32', shape, data: values });
  }
  return weights;
}

function tensor(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`colour model: no tensor ${name}`);
  return t.data as Float32Array;
}

/**
 * Vision part: image embeds carry the mean normalised colour. Returns the factor that turns the token-averaged
 * embedding channel c back into the normalised pixel value p_c.
 */
function setColourVision(weights: WeightMap, config: BlipPackConfig): number {
  const Dv = config.vision.hiddenSize;
  const P = config.vision.patchSize;
  const conv = tensor(weights, 'vision_model.embeddings.patch_embedding.weight');
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < P * P; k++) {
      conv[(c * 3 + c) * P * P + k] = 1 / (P * P);
      conv[((3 + c) * 3 + c) * P * P + k] = -1 / (P * P);
    }
  }
  const convBias = tensor(weights, 'vision_model.embeddings.patch_embedding.bias');
  convBias[6] = K;
  convBias[7] = -K;
  const cls = tensor(weights, 'vision_model.embeddings.class_embedding');
  cls[6] = K;
  cls[7] = -K;
  // post_layernorm scale with colour channels ≈ 0: 1/√(2K²/Dv); the class token adds no colour to the mean.
  const s0 = 1 / Math.sqrt((2 * K * K) / Dv + 1e-5);
  const patches = (config.vision.imageSize / P) ** 2;
  return (patches + 1) / (patches * s0);
}

/**
 * A cross-attention layer with zero queries (so it averages the image tokens) whose value projection writes
 * one nearest-prototype score per colour word: 2·c·q − |q|², with c = p·σ + μ the mean RGB colour.
 */
function setColourScores(weights: WeightMap, layerPrefix: string, inDim: number, D: number, toPixel: number): void {
  const vW = tensor(weights, `${layerPrefix}.crossattention.self.value.weight`);
  const vB = tensor(weights, `${layerPrefix}.crossattention.self.value.bias`);
  const oW = tensor(weights, `${layerPrefix}.crossattention.output.dense.weight`);
  COLOUR_WORDS.forEach((word, k) => {
    const dim = POS_SLOTS + k;
    const q = COLOUR_PROTOTYPES[word];
    let constant = 0;
    for (let c = 0; c < 3; c++) {
      vW[dim * inDim + c] = SCORE_GAIN * 2 * (q[c] as number) * (CLIP_STD[c] as number) * toPixel;
      constant += 2 * (q[c] as number) * (CLIP_MEAN[c] as number) - (q[c] as number) ** 2;
    }
    vB[dim] = SCORE_GAIN * constant;
    oW[dim * D + dim] = 1;
  });
}

/** Word embeddings (tied to the output projection) and logit biases: only the listed words can be produced. */
function setVocabulary(weights: WeightMap, D: number, words: Array<[string, Array<[number, number]>]>): void {
  const vocab = tinyVocab();
  const E = tensor(weights, 'text_decoder.bert.embeddings.word_embeddings.weight');
  const bias = tensor(weights, 'text_decoder.cls.predictions.bias');
  bias.fill(OTHER_TOKEN_BIAS);
  for (const [word, entries] of words) {
    const id = vocab.indexOf(word);
    if (id < 0) throw new Error(`colour model: ${word} is not in the vocabulary`);
    for (const [dim, v] of entries) E[id * D + dim] = v;
    bias[id] = 0;
  }
}

/** Position p writes POSITION_GAIN into slot min(p, last). */
function setPositions(weights: WeightMap, prefix: string, D: number, maxPositions: number, lastSlot: number): void {
  const pos = tensor(weights, `${prefix}.embeddings.position_embeddings.weight`);
  for (let p = 0; p < maxPositions; p++) pos[p * D + Math.min(p, lastSlot)] = POSITION_GAIN;
}

/** LM head transform: identity plus a shift that keeps GELU in its increasing range. */
function setHeadTransform(weights: WeightMap, D: number): void {
  const tW = tensor(weights, 'text_decoder.cls.predictions.transform.dense.weight');
  const tB = tensor(weights, 'text_decoder.cls.predictions.transform.dense.bias');
  for (let d = 0; d < D; d++) {
    tW[d * D + d] = 1;
    tB[d] = TRANSFORM_SHIFT;
  }
}

export function colourBlipWeights(): WeightMap {
  const config = colourBlipConfig();
  const weights = zeroWeights(config);
  const toPixel = setColourVision(weights, config);
  const D = config.text.hiddenSize;
  setPositions(weights, 'text_decoder.bert', D, config.text.maxPositionEmbeddings, POS_SLOTS - 1);
  setColourScores(weights, 'text_decoder.bert.encoder.layer.0', config.vision.hiddenSize, D, toPixel);
  setVocabulary(weights, D, [
    ['a', [[0, WORD_GAIN]]],
    ['photo', [[1, WORD_GAIN]]],
    ['of', [[2, WORD_GAIN]]],
    ['[SEP]', [[4, WORD_GAIN]]],
    ...COLOUR_WORDS.map((w, k): [string, Array<[number, number]>] => [w, [[3, WORD_GAIN], [POS_SLOTS + k, COLOUR_GAIN]]]),
  ]);
  setHeadTransform(weights, D);
  return weights;
}

/**
 * Question answering: whatever the question, the answer is the photo's colour word ("red"). The question
 * encoder has zero embeddings and cross-attends to the image with the colour-score projection, so every
 * question state holds the colour scores; the answer decoder copies them (identity value projection,
 * averaging over the question) and reads position 0 → colour word, later positions → [SEP].
 */
export function colourBlipVqaWeights(): WeightMap {
  const config = colourBlipConfig('BlipForQuestionAnswering');
  const weights = zeroWeights(config);
  const toPixel = setColourVision(weights, config);
  const D = config.text.hiddenSize;
  setColourScores(weights, 'text_encoder.encoder.layer.0', config.vision.hiddenSize, D, toPixel);
  setPositions(weights, 'text_decoder.bert', D, config.text.maxPositionEmbeddings, 1);
  const lp = 'text_decoder.bert.encoder.layer.0.crossattention';
  const vW = tensor(weights, `${lp}.self.value.weight`);
  const oW = tensor(weights, `${lp}.output.dense.weight`);
  COLOUR_WORDS.forEach((_, k) => {
    const dim = POS_SLOTS + k;
    vW[dim * D + dim] = SCORE_GAIN;
    oW[dim * D + dim] = 1;
  });
  setVocabulary(weights, D, [
    ['[SEP]', [[1, WORD_GAIN]]],
    ...COLOUR_WORDS.map((w, k): [string, Array<[number, number]>] => [w, [[0, WORD_GAIN], [POS_SLOTS + k, COLOUR_GAIN]]]),
  ]);
  setHeadTransform(weights, D);
  return weights;
}

export async function writeColourBlip(dir: string, options: { format?: 'safetensors' | 'bin' } = {}): Promise<void> {
  await writeBlipPack(dir, colourBlipConfig(), tinyVocab(), colourBlipWeights(), options.format);
}

export async function writeColourBlipVqa(dir: string, options: { format?: 'safetensors' | 'bin' } = {}): Promise<void> {
  await writeBlipPack(dir, colourBlipConfig('BlipForQuestionAnswering'), tinyVocab(), colourBlipVqaWeights(), options.format);
}
