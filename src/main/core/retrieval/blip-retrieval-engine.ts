/**
 * BLIP image–text retrieval (issue 11): `loadRetrievalEngine` compiles a BlipForImageTextRetrieval folder into
 * the model cache (once), opens its two graphs and returns the `RetrievalEngine` the library side uses.
 *
 *   const itm = await loadRetrievalEngine({ modelDir, cacheDir, model: 'blip-itm-base-coco' });
 *   const [photo] = await itm.embedImages(['dog.jpg']);           // ITC, L2-normalised, 256 floats
 *   const [query] = await itm.embedTexts(['a dog at the beach']);
 *   const [p] = await itm.matchProbabilities('dog.jpg', ['a dog at the beach']);   // ITM, 0…1
 *
 * Preprocessing and tokenization are the captioner's (BlipImageProcessor, BERT WordPiece `[CLS] … [SEP]`).
 */
import { join } from 'node:path';
import type { BlipImageInput } from '../blip/blip-engine';
import type { CompiledBlipRetrieval } from '../blip/compile-blip-retrieval';
import { compileBlipRetrieval } from '../blip/compile-blip-retrieval';
import type { Quantization } from '../blip/graph-params';
import type { BlipImageConfig } from '../blip/preprocess';
import { preprocessBlipBatch, readBlipImageConfig } from '../blip/preprocess';
import type { BlipRetrievalSpec } from '../blip/retrieval-config';
import {
  RETRIEVAL_ATTENTION_MASK,
  RETRIEVAL_IMAGE_EMBEDS,
  RETRIEVAL_IMAGE_FEAT,
  RETRIEVAL_INPUT_IDS,
  RETRIEVAL_ITM_IMAGE,
  RETRIEVAL_ITM_LOGITS,
  RETRIEVAL_ITM_PROBABILITY,
  RETRIEVAL_PIXELS,
  RETRIEVAL_TEXT_FEAT,
  RETRIEVAL_USE_IMAGE,
} from '../blip/retrieval-graphs';
import type { BlipTokenizer } from '../blip/tokenizer';
import { loadBlipTokenizer } from '../blip/tokenizer';
import { ModelFileError } from '../errors';
import type { NdFloat32 } from '../onnx/nd-array';
import { float32, int64 } from '../onnx/nd-array';
import type { ExecutionProviderChoice, GraphOptimization, InferenceRunner, RuntimeOptions } from '../onnx/runtime';
import { createInferenceSession } from '../onnx/runtime';
import { MAX_CONFIG_JSON_BYTES, readModelJson } from '../weights/model-json';
import type { RetrievalEngine } from './retrieval-engine';
import { equalLengthBatches } from './text-batches';

export interface LoadRetrievalEngineOptions {
  /** a Hugging Face BlipForImageTextRetrieval folder: config.json, preprocessor_config.json, tokenizer files, weights */
  modelDir: string;
  /** where compiled graphs are kept (shared with the captioner), keyed by a hash of config and weights */
  cacheDir: string;
  /** pack name reported as `model`, e.g. 'blip-itm-base-coco' */
  model: string;
  /** intra-op threads for onnxruntime; default: all cores up to 8 */
  threads?: number;
  /** 'int8' runs the encoders with int8 weights: faster on CPU, embeddings close to but not equal to float32 */
  quantization?: Quantization;
  executionProvider?: ExecutionProviderChoice;
  graphOptimization?: GraphOptimization;
  spinWait?: boolean;
  /** images per vision run; default 8 */
  imageBatchSize?: number;
  /** compile stages for a progress line */
  onProgress?: (stage: string) => void;
}

/** The engine with what tests, the inference process and `tandem match` need beyond the library's interface. */
export interface BlipRetrievalEngine extends RetrievalEngine {
  readonly spec: BlipRetrievalSpec;
  readonly imageConfig: BlipImageConfig;
  readonly tokenizer: BlipTokenizer;
  readonly compiledDir: string;
  /** true when this load compiled the graphs (false: taken from the cache) */
  readonly compiled: boolean;
  /** the ids a text runs as: `[CLS] … [SEP]`, cut to the model's positions */
  tokenize(text: string): number[];
  /** The vision encoder's image embeds [n, tokens, Dv] (what ITM cross-attends to) and the ITC embeddings. */
  encodeImages(images: readonly BlipImageInput[]): Promise<{ embeds: NdFloat32; features: Float32Array[] }>;
  /** itm_head's two logits per text (not matching, matching), before the softmax. */
  matchLogits(image: BlipImageInput, texts: readonly string[]): Promise<Float32Array[]>;
  /**
   * ITM against image embeds already computed by `encodeImages` (one image: [1, tokens, Dv]), so a caller that
   * keeps them skips the vision pass, which is nearly all of a match's cost.
   */
  matchEmbeds(embeds: NdFloat32, texts: readonly string[]): Promise<number[]>;
}

/** Rows per text-encoder run: texts are short, and equal-length groups keep batches small anyway. */
const MAX_TEXT_ROWS = 32;

export async function loadRetrievalEngine(options: LoadRetrievalEngineOptions): Promise<BlipRetrievalEngine> {
  const compiled = await compileBlipRetrieval(options.modelDir, options.cacheDir, {
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.quantization ? { quantization: options.quantization } : {}),
  });
  const spec = compiled.manifest.spec;
  const preprocessorFile = join(options.modelDir, 'preprocessor_config.json');
  let preprocessorJson: unknown;
  try {
    preprocessorJson = await readModelJson(preprocessorFile, MAX_CONFIG_JSON_BYTES);
    if (preprocessorJson === undefined) throw new Error('missing');
  } catch (err) {
    throw new ModelFileError(preprocessorFile, `The model folder ${options.modelDir} has no valid preprocessor_config.json.`, { cause: err });
  }
  const imageConfig = readBlipImageConfig(preprocessorJson);
  if (imageConfig.doResize && (imageConfig.height !== spec.vision.imageSize || imageConfig.width !== spec.vision.imageSize)) {
    throw new ModelFileError(
      preprocessorFile,
      `${preprocessorFile} resizes to ${imageConfig.width}×${imageConfig.height} but the vision encoder takes ${spec.vision.imageSize}×${spec.vision.imageSize}.`,
    );
  }
  const tokenizer = await loadBlipTokenizer(options.modelDir);
  options.onProgress?.('opening sessions');
  const runtime: RuntimeOptions = {
    ...(options.threads !== undefined ? { intraOpThreads: options.threads } : {}),
    ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}),
    ...(options.graphOptimization ? { graphOptimization: options.graphOptimization } : {}),
    ...(options.spinWait !== undefined ? { spinWait: options.spinWait } : {}),
  };
  const sessions = await openSessions(compiled, runtime);
  return new LoadedRetrievalEngine(options.model, sessions, spec, imageConfig, tokenizer, compiled, Math.max(1, options.imageBatchSize ?? 8));
}

interface RetrievalSessions {
  image: InferenceRunner;
  /** text encoder with both heads; `use_image` picks ITC (false) or ITM (true) */
  text: InferenceRunner;
}

async function openSessions(compiled: CompiledBlipRetrieval, runtime: RuntimeOptions): Promise<RetrievalSessions> {
  const opened: InferenceRunner[] = [];
  const open = async (file: string): Promise<InferenceRunner> => {
    const r = await createInferenceSession(join(compiled.dir, file), runtime);
    opened.push(r);
    return r;
  };
  try {
    const { graphs } = compiled.manifest;
    return { image: await open(graphs.image), text: await open(graphs.text) };
  } catch (err) {
    await Promise.all(opened.map((r) => r.dispose()));
    throw err;
  }
}

/** Splits [rows, width] into one copy per row (copies: the caller may keep them long after the run). */
function rowsOf(data: Float32Array, rows: number): Float32Array[] {
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, r) => data.slice(r * width, (r + 1) * width));
}

class LoadedRetrievalEngine implements BlipRetrievalEngine {
  readonly dimensions: number;
  readonly compiledDir: string;
  readonly compiled: boolean;

  constructor(
    readonly model: string,
    private readonly sessions: RetrievalSessions,
    readonly spec: BlipRetrievalSpec,
    readonly imageConfig: BlipImageConfig,
    readonly tokenizer: BlipTokenizer,
    compiled: CompiledBlipRetrieval,
    private readonly imageBatchSize: number,
  ) {
    this.dimensions = spec.imageTextHiddenSize;
    this.compiledDir = compiled.dir;
    this.compiled = compiled.built;
    this.noImage = float32(new Float32Array(spec.text.encoderHiddenSize), [1, 1, spec.text.encoderHiddenSize]);
  }

  /** The one-token zero image the ITC path feeds (its cross-attention output is discarded in the graph). */
  private readonly noImage: NdFloat32;

  tokenize(text: string): number[] {
    const ids = this.tokenizer.encode(text);
    const max = this.spec.text.maxPositionEmbeddings;
    if (ids.length <= max) return ids;
    // As the tokenizer's truncation does: keep [CLS] … and end on [SEP], within the position table.
    return [...ids.slice(0, max - 1), ids[ids.length - 1] as number];
  }

  private async runImages(images: readonly BlipImageInput[]): Promise<{ embeds: Float32Array; features: Float32Array }> {
    const S = this.spec.vision.imageSize;
    const pixels = await preprocessBlipBatch(images, this.imageConfig);
    const out = await this.sessions.image.run({ [RETRIEVAL_PIXELS]: float32(pixels, [images.length, this.spec.vision.numChannels, S, S]) });
    return { embeds: (out[RETRIEVAL_IMAGE_EMBEDS] as NdFloat32).data, features: (out[RETRIEVAL_IMAGE_FEAT] as NdFloat32).data };
  }

  async encodeImages(images: readonly BlipImageInput[]): Promise<{ embeds: NdFloat32; features: Float32Array[] }> {
    const tokens = (Math.floor(this.spec.vision.imageSize / this.spec.vision.patchSize) ** 2 + 1) * this.spec.vision.hiddenSize;
    const embeds = new Float32Array(images.length * tokens);
    const features: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.imageBatchSize) {
      const batch = images.slice(start, start + this.imageBatchSize);
      const out = await this.runImages(batch);
      embeds.set(out.embeds, start * tokens);
      features.push(...rowsOf(out.features, batch.length));
    }
    const dims = [images.length, tokens / this.spec.vision.hiddenSize, this.spec.vision.hiddenSize];
    return { embeds: { type: 'float32', data: embeds, dims }, features };
  }

  async embedImages(images: readonly BlipImageInput[]): Promise<Float32Array[]> {
    const features: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.imageBatchSize) {
      const batch = images.slice(start, start + this.imageBatchSize);
      features.push(...rowsOf((await this.runImages(batch)).features, batch.length));
    }
    return features;
  }

  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const out = new Array<Float32Array>(texts.length);
    for (const batch of equalLengthBatches(texts.map((t) => this.tokenize(t)), MAX_TEXT_ROWS)) {
      const rows = batch.ids.length;
      const seq = batch.ids[0]!.length;
      const result = await this.sessions.text.run(
        {
          [RETRIEVAL_INPUT_IDS]: int64(batch.ids.flat(), [rows, seq]),
          [RETRIEVAL_ATTENTION_MASK]: int64(new Array<number>(rows * seq).fill(1), [rows, seq]),
          [RETRIEVAL_ITM_IMAGE]: this.noImage,
          [RETRIEVAL_USE_IMAGE]: { type: 'bool', data: new Uint8Array([0]), dims: [] },
        },
        [RETRIEVAL_TEXT_FEAT],
      );
      rowsOf((result[RETRIEVAL_TEXT_FEAT] as NdFloat32).data, rows).forEach((v, r) => (out[batch.indices[r]!] = v));
    }
    return out;
  }

  /** Both ITM outputs for every text against one image; the image goes through the vision encoder once. */
  private async itm(image: BlipImageInput, texts: readonly string[]): Promise<{ logits: Float32Array[]; probabilities: number[] }> {
    if (texts.length === 0) return { logits: [], probabilities: [] };
    return this.itmEmbeds((await this.encodeImages([image])).embeds, texts);
  }

  private async itmEmbeds(embeds: NdFloat32, texts: readonly string[]): Promise<{ logits: Float32Array[]; probabilities: number[] }> {
    const logits = new Array<Float32Array>(texts.length);
    const probabilities = new Array<number>(texts.length);
    const [images, tokens, width] = embeds.dims as [number, number, number];
    if (images !== 1) throw new RangeError(`matchEmbeds takes one image's embeds, got ${images}`);
    for (const batch of equalLengthBatches(texts.map((t) => this.tokenize(t)), MAX_TEXT_ROWS)) {
      const rows = batch.ids.length;
      const seq = batch.ids[0]!.length;
      // One image row: the graph broadcasts it to every text row (see retrieval-graphs.ts).
      const result = await this.sessions.text.run(
        {
          [RETRIEVAL_INPUT_IDS]: int64(batch.ids.flat(), [rows, seq]),
          [RETRIEVAL_ATTENTION_MASK]: int64(new Array<number>(rows * seq).fill(1), [rows, seq]),
          [RETRIEVAL_ITM_IMAGE]: float32(embeds.data, [1, tokens, width]),
          [RETRIEVAL_USE_IMAGE]: { type: 'bool', data: new Uint8Array([1]), dims: [] },
        },
        [RETRIEVAL_ITM_LOGITS, RETRIEVAL_ITM_PROBABILITY],
      );
      const l = rowsOf((result[RETRIEVAL_ITM_LOGITS] as NdFloat32).data, rows);
      const p = (result[RETRIEVAL_ITM_PROBABILITY] as NdFloat32).data;
      batch.indices.forEach((i, r) => {
        logits[i] = l[r]!;
        probabilities[i] = p[r]!;
      });
    }
    return { logits, probabilities };
  }

  async matchProbabilities(image: BlipImageInput, texts: readonly string[]): Promise<number[]> {
    return (await this.itm(image, texts)).probabilities;
  }

  async matchLogits(image: BlipImageInput, texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.itm(image, texts)).logits;
  }

  async matchEmbeds(embeds: NdFloat32, texts: readonly string[]): Promise<number[]> {
    return (await this.itmEmbeds(embeds, texts)).probabilities;
  }

  async dispose(): Promise<void> {
    await Promise.all([this.sessions.image.dispose(), this.sessions.text.dispose()]);
  }
}
