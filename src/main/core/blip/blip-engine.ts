/**
 * The BLIP engine's public face. `loadBlipEngine` compiles a Hugging Face BLIP folder into the model cache
 * (once), opens the graphs and returns an object that captions photos, answers questions about them and
 * exposes logits for verification. The CLI (`tandem caption`, `tandem ask`) and the captioning queue use this;
 * everything below it is an implementation detail.
 *
 *   const blip = await loadBlipEngine({ modelDir, cacheDir });
 *   const [{ text }] = await blip.caption(['cat.jpg']);            // "a cat sitting on a couch"
 *   const { text: answer } = await blip.answer('cat.jpg', 'how many cats?');   // VQA models only
 *   await blip.dispose();
 */
import { join } from 'node:path';
import { InvalidInputError, ModelFileError } from '../errors';
import type { ExecutionProviderChoice, GraphOptimization } from '../onnx/runtime';
import type { BlipArchitecture, BlipSpec } from './blip-config';
import { BlipSessions } from './blip-sessions';
import { compileBlip } from './compile-blip';
import type { Quantization } from './graph-params';
import type { GenerationSettings } from './generate';
import { beamSearch, generate } from './generate';
import type { BlipImageConfig, DecodedRgb } from './preprocess';
import { preprocessBlipBatch, readBlipImageConfig } from './preprocess';
import type { BlipTokenizer } from './tokenizer';
import { loadBlipTokenizer } from './tokenizer';
import { MAX_CONFIG_JSON_BYTES, readModelJson } from '../weights/model-json';
import { collectGarbage } from '../system/collect-garbage';

/** A file path, encoded image bytes, or pixels already decoded to RGB. */
export type BlipImageInput = string | Buffer | DecodedRgb;

export interface LoadBlipEngineOptions {
  /** a Hugging Face BLIP folder: config.json, preprocessor_config.json, tokenizer files, weights */
  modelDir: string;
  /** where compiled graphs are kept, keyed by a hash of config and weights */
  cacheDir: string;
  /** intra-op threads for onnxruntime; default: all cores up to 8 */
  threads?: number;
  executionProvider?: ExecutionProviderChoice;
  graphOptimization?: GraphOptimization;
  /** onnxruntime thread spin-waiting (default on); see RuntimeOptions.spinWait */
  spinWait?: boolean;
  /**
   * 'int8' compiles linear layers with int8 weights (DynamicQuantizeMatMul): faster on CPU, outputs close to
   * but not identical with float32. Default 'none'.
   */
  quantization?: Quantization;
  /** compile stages ('hashing', 'compiling vision encoder', …) for a progress line */
  onProgress?: (stage: string) => void;
}

/** Generation settings; unset ones come from the model's text_config (transformers' defaults: max 20, greedy). */
export interface BlipGenerateOptions {
  /** total tokens including bos and prompt, as transformers counts */
  maxLength?: number;
  minLength?: number;
  numBeams?: number;
  lengthPenalty?: number;
  earlyStopping?: boolean | 'never';
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  /** checked between decoding steps; aborting rejects with the signal's reason */
  signal?: AbortSignal;
  /** keep each step's raw logits (greedy only) */
  returnLogits?: boolean;
  /** run the beam-search algorithm even with numBeams 1 (transformers would pick greedy); for tests */
  forceBeamSearch?: boolean;
}

export interface CaptionOptions extends BlipGenerateOptions {
  /** text the caption continues, e.g. "a photography of"; the returned text includes it, as transformers' */
  prompt?: string;
  /** photos per decoder batch; default 8 */
  batchSize?: number;
  /** called after each batch */
  onBatch?: (done: number, total: number) => void;
}

export interface BlipOutput {
  /** decoded with special tokens skipped */
  text: string;
  /** the whole sequence: bos, prompt, generated tokens, eos when reached */
  tokenIds: number[];
  stepLogits?: Float32Array[];
}

export interface ImageEmbeddings {
  data: Float32Array;
  /** [images, tokens, vision hidden size] */
  dims: [number, number, number];
}

export interface BlipEngine {
  readonly architecture: BlipArchitecture;
  readonly spec: BlipSpec;
  readonly tokenizer: BlipTokenizer;
  readonly imageConfig: BlipImageConfig;
  /** the compiled cache entry in use */
  readonly compiledDir: string;
  readonly executionProvider: string;
  /** Captions photos (captioning models). One result per input, in order. */
  caption(images: readonly BlipImageInput[], options?: CaptionOptions): Promise<BlipOutput[]>;
  /** Answers a question about a photo (question-answering models). */
  answer(image: BlipImageInput, question: string, options?: BlipGenerateOptions): Promise<BlipOutput>;
  /** The vision encoder's output (post-LayerNorm image embeds). */
  encodeImages(images: readonly BlipImageInput[]): Promise<ImageEmbeddings>;
  /**
   * Decoder logits at every position of `tokenIds` (one forward pass, no cache): [T][vocab]. For question
   * answering pass `question`; the decoder then attends to the question states.
   */
  logitsFor(image: BlipImageInput, tokenIds: readonly number[], options?: { question?: string }): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export async function loadBlipEngine(options: LoadBlipEngineOptions): Promise<BlipEngine> {
  const compiled = await compileBlip(options.modelDir, options.cacheDir, { onProgress: options.onProgress, quantization: options.quantization });
  const preprocessorFile = join(options.modelDir, 'preprocessor_config.json');
  let preprocessorJson: unknown;
  try {
    preprocessorJson = await readModelJson(preprocessorFile, MAX_CONFIG_JSON_BYTES);
    if (preprocessorJson === undefined) throw new Error('missing');
  } catch (err) {
    throw new ModelFileError(preprocessorFile, `The model folder ${options.modelDir} has no valid preprocessor_config.json.`, { cause: err });
  }
  const imageConfig = readBlipImageConfig(preprocessorJson);
  const spec = compiled.manifest.spec;
  if (imageConfig.doResize && (imageConfig.height !== spec.vision.imageSize || imageConfig.width !== spec.vision.imageSize)) {
    throw new ModelFileError(
      preprocessorFile,
      `${preprocessorFile} resizes to ${imageConfig.width}×${imageConfig.height} but the vision encoder takes ${spec.vision.imageSize}×${spec.vision.imageSize}.`,
    );
  }
  const tokenizer = await loadBlipTokenizer(options.modelDir);
  options.onProgress?.('opening sessions');
  const sessions = await BlipSessions.open(compiled, {
    intraOpThreads: options.threads,
    executionProvider: options.executionProvider,
    graphOptimization: options.graphOptimization,
    spinWait: options.spinWait,
  });
  return new LoadedBlipEngine(sessions, spec, tokenizer, imageConfig, compiled.dir);
}

class LoadedBlipEngine implements BlipEngine {
  readonly architecture: BlipArchitecture;

  constructor(
    private readonly sessions: BlipSessions,
    readonly spec: BlipSpec,
    readonly tokenizer: BlipTokenizer,
    readonly imageConfig: BlipImageConfig,
    readonly compiledDir: string,
  ) {
    this.architecture = spec.architecture;
  }

  get executionProvider(): string {
    return this.sessions.executionProvider;
  }

  private settings(o: BlipGenerateOptions): GenerationSettings {
    const d = this.spec.generation;
    const s: GenerationSettings = {
      maxLength: o.maxLength ?? d.maxLength,
      minLength: o.minLength ?? d.minLength,
      numBeams: o.numBeams ?? d.numBeams,
      lengthPenalty: o.lengthPenalty ?? d.lengthPenalty,
      earlyStopping: o.earlyStopping ?? d.earlyStopping,
      repetitionPenalty: o.repetitionPenalty ?? d.repetitionPenalty,
      noRepeatNgramSize: o.noRepeatNgramSize ?? d.noRepeatNgramSize,
      // BLIP's generate() stops on [SEP], not on text_config.eos_token_id.
      eosTokenId: this.spec.text.sepTokenId,
      padTokenId: this.spec.text.padTokenId,
    };
    if (!Number.isInteger(s.maxLength) || s.maxLength < 1) throw new InvalidInputError(`maxLength must be a positive integer, got ${s.maxLength}`);
    if (!Number.isInteger(s.numBeams) || s.numBeams < 1) throw new InvalidInputError(`numBeams must be a positive integer, got ${s.numBeams}`);
    if (!(s.repetitionPenalty > 0)) throw new InvalidInputError(`repetitionPenalty must be positive, got ${s.repetitionPenalty}`);
    if (s.maxLength > this.spec.text.maxPositionEmbeddings) {
      throw new InvalidInputError(`maxLength ${s.maxLength} exceeds the model's ${this.spec.text.maxPositionEmbeddings} positions`);
    }
    return s;
  }

  private run(state: Parameters<typeof generate>[0], prompts: number[][], s: GenerationSettings, o: BlipGenerateOptions) {
    const runOpts = { signal: o.signal, recordLogits: o.returnLogits };
    return o.forceBeamSearch ? beamSearch(state, prompts, s, runOpts) : generate(state, prompts, s, runOpts);
  }

  /** `[CLS] prompt [SEP]` → `[bos] prompt`, as BlipForConditionalGeneration.generate edits input_ids. */
  private promptIds(prompt: string | undefined): number[] {
    if (prompt === undefined) return [this.spec.text.bosTokenId];
    const ids = this.tokenizer.encode(prompt);
    ids[0] = this.spec.text.bosTokenId;
    return ids.slice(0, -1);
  }

  private decode(tokenIds: number[]): string {
    return this.tokenizer.decode(tokenIds, { skipSpecialTokens: true });
  }

  async caption(images: readonly BlipImageInput[], options: CaptionOptions = {}): Promise<BlipOutput[]> {
    if (this.architecture !== 'captioning') {
      throw new InvalidInputError('This BLIP model answers questions; use a captioning model (BlipForConditionalGeneration) for captions.');
    }
    const s = this.settings(options);
    const prompt = this.promptIds(options.prompt);
    const batchSize = Math.max(1, options.batchSize ?? 8);
    const results: BlipOutput[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      options.signal?.throwIfAborted();
      // The last batch's image embeddings, decoder caches and decoded photos are garbage by now (they lived in
      // captionBatch's frame, not this loop's); without a collection here V8 may still hold them while this
      // batch allocates its own. A full collection of this small heap takes milliseconds, a batch seconds.
      collectGarbage();
      results.push(...(await this.captionBatch(images.slice(start, start + batchSize), prompt, s, options)));
      options.onBatch?.(results.length, images.length);
    }
    return results;
  }

  private async captionBatch(batch: readonly BlipImageInput[], prompt: number[], s: GenerationSettings, options: CaptionOptions): Promise<BlipOutput[]> {
    const embeds = await this.embed(batch);
    const cross = this.sessions.crossAttention({ type: 'float32', data: embeds.data, dims: [...embeds.dims] });
    const state = this.sessions.decoderState(cross);
    const out = await this.run(state, batch.map(() => [...prompt]), s, options);
    return out.map((o) => ({ text: this.decode(o.tokenIds), tokenIds: o.tokenIds, ...(o.stepLogits ? { stepLogits: o.stepLogits } : {}) }));
  }

  private async questionState(image: BlipImageInput, question: string) {
    if (this.architecture !== 'vqa') {
      throw new InvalidInputError('This BLIP model writes captions; use a question-answering model (BlipForQuestionAnswering) for answers.');
    }
    const ids = this.tokenizer.encode(question);
    const mask = ids.map(() => 1);
    const embeds = await this.embed([image]);
    const states = await this.sessions.encodeQuestions([ids], [mask], { type: 'float32', data: embeds.data, dims: [...embeds.dims] });
    const cross = this.sessions.crossAttention(states, BigInt64Array.from(mask, (m) => BigInt(m)));
    return this.sessions.decoderState(cross);
  }

  async answer(image: BlipImageInput, question: string, options: BlipGenerateOptions = {}): Promise<BlipOutput> {
    const s = this.settings(options);
    const state = await this.questionState(image, question);
    const [out] = await this.run(state, [[this.spec.text.bosTokenId]], s, options);
    const o = out!;
    return { text: this.decode(o.tokenIds), tokenIds: o.tokenIds, ...(o.stepLogits ? { stepLogits: o.stepLogits } : {}) };
  }

  private async embed(images: readonly BlipImageInput[]): Promise<ImageEmbeddings> {
    const pixels = await preprocessBlipBatch(images, this.imageConfig);
    const out = await this.sessions.encodeImages(pixels, images.length);
    return { data: out.data, dims: out.dims as [number, number, number] };
  }

  encodeImages(images: readonly BlipImageInput[]): Promise<ImageEmbeddings> {
    return this.embed(images);
  }

  async logitsFor(image: BlipImageInput, tokenIds: readonly number[], options: { question?: string } = {}): Promise<Float32Array[]> {
    let state;
    if (options.question !== undefined) {
      state = await this.questionState(image, options.question);
    } else {
      const embeds = await this.embed([image]);
      state = this.sessions.decoderState(this.sessions.crossAttention({ type: 'float32', data: embeds.data, dims: [...embeds.dims] }));
    }
    await state.step([[...tokenIds]]);
    const logits = state.lastLogits!;
    const V = this.spec.text.vocabSize;
    return Array.from({ length: tokenIds.length }, (_, t) => logits.data.slice(t * V, (t + 1) * V));
  }

  async dispose(): Promise<void> {
    await this.sessions.dispose();
  }
}
