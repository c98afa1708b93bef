/**
 * A BlipForImageTextRetrieval whose weights are set by hand so that colour words and photos of that colour agree:
 * "red" has a high ITC cosine and a high ITM probability with a red photo, a low one with a blue photo, and a text
 * without a colour word matches nothing (cosine ≈ 0, ITM ≈ 0). It runs the real path (file → preprocessing →
 * compiled graphs), so search tests can assert real behaviour: a colour query finds the photo of that colour
 * although no caption names it.
 *
 * How it works (every LayerNorm sees a large ±K channel pair, so it is ≈ a fixed scale and the rest is linear):
 * - vision: the patch convolution averages each normalised colour channel into channels 0–2 (negated copy 3–5,
 *   ±K in 6–7); one attention layer with zero queries and keys averages all tokens, so every token, the class
 *   token included, carries the photo's mean colour in 8–10 (negated 11–13). vision_proj maps it to
 *   [G·(colour − ½), t]: a point on the sphere, so cosines compare colours by angle around mid-grey.
 * - text: colour words have a marker (2–3) and their prototype colour − ½ (4–6, negated 7–9); position
 *   embeddings hold ±K. The class token's query matches the marker, so it attends to the colour words and takes
 *   their colour (and 0.3 × the marker, 19–20). text_proj maps that to [G·(q − ½), t·has, t₀·(1 − has)]: a text
 *   without colour words is orthogonal to every photo.
 * - ITM: the cross-attention (zero queries: the mean over image tokens) writes the photo's colour − ½ into 11–13;
 *   the feed-forward computes a soft L1 distance Σ x·erf(x/√2) between text and photo colour into 17 (GELU(x) +
 *   GELU(−x) is exactly that); itm_head scores α·(τ − distance) + γ·(has − 1).
 */
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import type { WeightFormat } from './blip-pack-files';
import { CLIP_MEAN, CLIP_STD } from './blip-pack-files';
import type { BlipRetrievalPackConfig } from './blip-retrieval-pack';
import { retrievalTensorShapes, writeBlipRetrievalPack } from './blip-retrieval-pack';
import { COLOUR_PROTOTYPES } from './colour-blip';
import type { ColourWord } from './tiny-vocab';
import { COLOUR_WORDS, tinyVocab } from './tiny-vocab';

export { COLOUR_PROTOTYPES, expectedColourWord } from './colour-blip';

export function colourRetrievalConfig(): BlipRetrievalPackConfig {
  const vocab = tinyVocab();
  return {
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
    imageTextHiddenSize: 8,
  };
}

/** the ±K pair that makes every LayerNorm ≈ a constant scale */
const K = 50;
/** colour-word marker in the text embeddings */
const M = 20;
/** colour coordinates after the text embedding LayerNorm: C0 · (q − ½) */
const C0 = 0.5;
/** query bias that makes the class token attend to colour words (score ≈ Q · marker / √hd) */
const Q = 50;
/** share of the marker copied into the class token (19–20), small so it barely moves the LayerNorms */
const MARKER_COPY = 0.3;
/** ITC: colour gain and the constant coordinate */
const G = 2;
const T = 0.3;
/** ITC: the coordinate a text without colour words has, orthogonal to every photo */
const T_NONE = 0.3;
/** ITM: soft-L1 sharpness, threshold, slope, and penalty for texts without a colour word */
const KAPPA = 5;
const TAU = 0.3;
const ALPHA = 25;
const GAMMA = 12;

const MID = 0.5;

function zeroWeights(config: BlipRetrievalPackConfig): WeightMap {
  const weights: WeightMap = new Map();
  for (const [name, shape] of retrievalTensorShapes(config)) {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/(LayerNorm|layer_norm\d|post_layernorm)\.weight$/.test(name)) values.fill(1);
    weights.set(name, { storedDType: 'float32', shape, data: values });
  }
  return weights;
}

function tensor(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`colour retrieval model: no tensor ${name}`);
  return t.data as Float32Array;
}

/**
 * Vision: every token ends with the mean normalised colour, scaled, in 8–10. Returns the factor that turns the
 * class token's channel 8 + c back into the mean normalised pixel value.
 */
function setVision(weights: WeightMap, config: BlipRetrievalPackConfig): number {
  const Dv = config.vision.hiddenSize;
  const P = config.vision.patchSize;
  const conv = tensor(weights, 'vision_model.embeddings.patch_embedding.weight');
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < P * P; k++) {
      conv[(c * 3 + c) * P * P + k] = 1 / (P * P);
      conv[((3 + c) * 3 + c) * P * P + k] = -1 / (P * P);
    }
  }
  const bias = tensor(weights, 'vision_model.embeddings.patch_embedding.bias');
  const cls = tensor(weights, 'vision_model.embeddings.class_embedding');
  bias[6] = K;
  bias[7] = -K;
  cls[6] = K;
  cls[7] = -K;
  // qkv rows [q; k; v]: queries and keys stay zero (uniform attention), values copy ±colour into 8–13.
  const qkv = tensor(weights, 'vision_model.encoder.layers.0.self_attn.qkv.weight');
  const proj = tensor(weights, 'vision_model.encoder.layers.0.self_attn.projection.weight');
  for (let c = 0; c < 3; c++) {
    qkv[(2 * Dv + 8 + c) * Dv + c] = 1;
    qkv[(2 * Dv + 11 + c) * Dv + c] = -1;
    proj[(8 + c) * Dv + 8 + c] = 1;
    proj[(11 + c) * Dv + 11 + c] = 1;
  }
  // Both LayerNorms scale by ≈ s0 = 1/√(2K²/Dv); the average includes the colourless class token.
  const s0 = 1 / Math.sqrt((2 * K * K) / Dv);
  const patches = (config.vision.imageSize / P) ** 2;
  return 1 / (s0 * s0 * (patches / (patches + 1)));
}

/** Text embedding LayerNorm scale of a colour word whose coordinates come out exactly C0·(q − ½). */
function colourWordScale(q: readonly number[], D: number): number {
  const d2 = q.reduce((a, v) => a + (v - MID) ** 2, 0);
  return Math.sqrt((1 - (C0 * C0 * d2) / (D / 2)) / ((K * K + M * M) / (D / 2)));
}

function prototype(word: string): readonly number[] | undefined {
  if (word === 'grey') return COLOUR_PROTOTYPES.gray;
  return (COLOUR_WORDS as readonly string[]).includes(word) ? COLOUR_PROTOTYPES[word as ColourWord] : undefined;
}

export function colourRetrievalWeights(): WeightMap {
  const config = colourRetrievalConfig();
  const weights = zeroWeights(config);
  const toPixel = setVision(weights, config);
  const D = config.text.hiddenSize;
  const Dv = config.vision.hiddenSize;
  const E = config.imageTextHiddenSize;
  const hd = D / config.text.numAttentionHeads;
  const p = 'text_encoder';
  const lp = `${p}.encoder.layer.0`;

  // Embeddings: ±K for every position; colour words get the marker and their colour.
  const pos = tensor(weights, `${p}.embeddings.position_embeddings.weight`);
  for (let t = 0; t < config.text.maxPositionEmbeddings; t++) {
    pos[t * D] = K;
    pos[t * D + 1] = -K;
  }
  const words = tensor(weights, `${p}.embeddings.word_embeddings.weight`);
  const vocab = tinyVocab();
  let markerAfterNorm = 0;
  vocab.forEach((word, id) => {
    const q = prototype(word);
    if (!q) return;
    const s = colourWordScale(q, D);
    markerAfterNorm = Math.max(markerAfterNorm, M * s);
    words[id * D + 2] = M;
    words[id * D + 3] = -M;
    for (let c = 0; c < 3; c++) {
      words[id * D + 4 + c] = (C0 * ((q[c] as number) - MID)) / s;
      words[id * D + 7 + c] = (-C0 * ((q[c] as number) - MID)) / s;
    }
  });

  // Self-attention: every query (bias) looks for the marker key in both heads; values carry colour and marker.
  const qBias = tensor(weights, `${lp}.attention.self.query.bias`);
  const kW = tensor(weights, `${lp}.attention.self.key.weight`);
  const vW = tensor(weights, `${lp}.attention.self.value.weight`);
  const oW = tensor(weights, `${lp}.attention.output.dense.weight`);
  for (const head of [0, hd]) {
    qBias[head] = Q;
    kW[head * D + 2] = 1;
  }
  for (let d = 4; d <= 9; d++) {
    vW[d * D + d] = 1;
    oW[d * D + d] = 1;
  }
  vW[19 * D + 2] = MARKER_COPY;
  vW[20 * D + 3] = MARKER_COPY;
  oW[19 * D + 19] = 1;
  oW[20 * D + 20] = 1;
  const markerCopy = MARKER_COPY * markerAfterNorm;

  // Cross-attention (ITM only): zero queries average the image tokens; values write C0·(colour − ½) into 11–13.
  const cvW = tensor(weights, `${lp}.crossattention.self.value.weight`);
  const cvB = tensor(weights, `${lp}.crossattention.self.value.bias`);
  const coW = tensor(weights, `${lp}.crossattention.output.dense.weight`);
  for (let c = 0; c < 3; c++) {
    const w = C0 * (CLIP_STD[c] as number) * toPixel;
    const b = C0 * ((CLIP_MEAN[c] as number) - MID);
    cvW[(11 + c) * Dv + 8 + c] = w;
    cvB[11 + c] = b;
    cvW[(14 + c) * Dv + 8 + c] = -w;
    cvB[14 + c] = -b;
  }
  for (let d = 11; d <= 16; d++) coW[d * D + d] = 1;

  // Feed-forward: GELU(x) + GELU(−x) per colour channel of (text − photo) → C0 · soft-L1 distance in 17 (−18).
  const iW = tensor(weights, `${lp}.intermediate.dense.weight`);
  const fW = tensor(weights, `${lp}.output.dense.weight`);
  const gain = KAPPA / C0;
  for (let c = 0; c < 3; c++) {
    iW[c * D + 4 + c] = gain;
    iW[c * D + 11 + c] = -gain;
    iW[(3 + c) * D + 4 + c] = -gain;
    iW[(3 + c) * D + 11 + c] = gain;
  }
  const I = config.text.intermediateSize;
  for (let u = 0; u < 6; u++) {
    fW[17 * I + u] = C0 / KAPPA;
    fW[18 * I + u] = -C0 / KAPPA;
  }

  // Heads.
  const itmW = tensor(weights, 'itm_head.weight');
  const itmB = tensor(weights, 'itm_head.bias');
  itmW[D + 17] = -ALPHA / C0;
  itmW[D + 19] = GAMMA / markerCopy;
  itmB[1] = ALPHA * TAU - GAMMA;
  const tW = tensor(weights, 'text_proj.weight');
  const tB = tensor(weights, 'text_proj.bias');
  for (let c = 0; c < 3; c++) tW[c * D + 4 + c] = G / C0;
  tW[3 * D + 19] = T / markerCopy;
  tW[4 * D + 19] = -T_NONE / markerCopy;
  tB[4] = T_NONE;
  const vpW = tensor(weights, 'vision_proj.weight');
  const vpB = tensor(weights, 'vision_proj.bias');
  for (let c = 0; c < 3; c++) {
    vpW[c * Dv + 8 + c] = G * (CLIP_STD[c] as number) * toPixel;
    vpB[c] = G * ((CLIP_MEAN[c] as number) - MID);
  }
  vpB[3] = T;
  if (E < 5) throw new Error('colour retrieval model: the ITC space needs 5 dimensions');
  return weights;
}

export async function writeColourBlipRetrieval(dir: string, options: { format?: WeightFormat } = {}): Promise<void> {
  await writeBlipRetrievalPack(dir, colourRetrievalConfig(), tinyVocab(), colourRetrievalWeights(), options.format);
}
