/**
 * The embedded LLaVA engine, Tandem's own end to end: the pack's three ONNX graphs on onnxruntime
 * (llava-sessions.ts), its preprocessing (llava-preprocess.ts), tokenizer and chat template
 * (llava-prompt.ts) and the decode loop (llava-generate.ts). It runs only inside the inference process
 * (llava-worker.ts), on transformers.js-layout folders and on folders compiled from llava-hf safetensors alike.
 *
 * Two things make a chat fast after its first answer: the keys/values of the last conversation are kept, so a
 * follow-up about the same photo reads only its new tokens; and the projected features of the last few photos
 * are kept, so reopening a chat does not run the vision encoder again.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatTurn } from '../chat/chat-types';
import { dropOldestExchange, trimTurns } from '../chat/context-window';
import { ModelFileError, TandemError } from '../errors';
import type { LlavaDTypes } from '../models/known-packs';
import { generateLlava, type StopSignal } from './llava-generate';
import type { KvCache } from './llava-kv-cache';
import { readJsonFile, readLlavaPackConfig, type LlavaPackConfig } from './llava-pack-config';
import { fixedImageSize, preprocessLlavaImage, readLlavaImageConfig, type LlavaImageConfig, type PixelValues } from './llava-preprocess';
import { LlavaPrompt } from './llava-prompt';
import type { LlavaStats } from './llava-protocol';
import type { LlavaSampling } from './llava-sampling';
import { chooseVisionResidency, LlavaSessions, type ImageFeatures, type VisionResidency, type VisionResidencyChoice } from './llava-sessions';
import { collectGarbage } from '../system/collect-garbage';

/** Tokens the chat template adds around each turn (`<|im_start|>role\n … <|im_end|>\n`; Llama's `USER: ` is fewer). */
const PER_TURN_OVERHEAD = 6;
/** Photos whose projected features are kept: a few chats open in turn, ~3 MB each for the 0.5B model. */
const IMAGE_CACHE_SIZE = 4;
/** Answers whose generated ids are kept (a few hundred ids each), so a chat reopened later reads them the same way. */
const ANSWER_MEMORY_SIZE = 256;

export interface LlavaEngineOptions {
  modelDir: string;
  dtypes: LlavaDTypes;
  threads: number;
  maxContextTokens: number;
  /** Prompt positions per prefill run (default 256). */
  prefillChunk?: number;
  /** Profile every graph with onnxruntime's profiler (llava-sessions.ts); benchmarks only. */
  profilePrefix?: string;
  /** Whether the vision tower stays loaded between photos (llava-sessions.ts). Default 'auto'. */
  vision?: VisionResidencyChoice;
}

export interface LlavaGenerateRequest {
  imagePath: string;
  system: string;
  turns: ChatTurn[];
  sampling: LlavaSampling;
}

export interface LlavaAnswer extends LlavaStats {
  text: string;
  stopped: boolean;
  /** Generated ids, the end-of-answer token included when it came. */
  tokenIds: number[];
}

/** The keys/values of the last conversation, kept for a follow-up question about the same photo. */
interface ConversationCache {
  imageKey: string;
  /** The tokens the cache holds keys/values for, in order. */
  ids: number[];
  cache: KvCache;
}


/** Same path, size and modification time: the same picture, for reusing its features and keys/values. */
async function imageIdentity(path: string): Promise<string> {
  const st = await stat(path);
  return `${path}\n${st.size}\n${st.mtimeMs}`;
}

export class LlavaEngine {
  private conversation: ConversationCache | null = null;
  /**
   * The buffers of a conversation that cannot be continued, emptied, for the next one to write into: a new
   * allocation would sit beside the old buffers until the garbage collector frees them (0.8 GB each at 7B).
   */
  private spare: KvCache | null = null;
  /** Insertion order is recency: a hit is re-inserted, the first key is the least recently used. */
  private readonly images = new Map<string, ImageFeatures>();
  /** The ids of the answers given, by their text (llava-prompt.ts withGeneratedAnswers); the oldest goes first. */
  private readonly answers = new Map<string, readonly number[]>();

  private constructor(
    private readonly sessions: LlavaSessions,
    private readonly promptBuilder: LlavaPrompt,
    private readonly imageConfig: LlavaImageConfig,
    private readonly pack: LlavaPackConfig,
    readonly dtypes: LlavaDTypes,
    readonly contextTokens: number,
    private readonly prefillChunk: number | undefined,
    readonly vision: VisionResidency,
  ) {}

  get imageTokens(): number {
    return this.pack.imageTokens;
  }

  get eosIds(): readonly number[] {
    return this.pack.eosIds;
  }

  /** Whether the vision tower's weights are in memory ('on-demand' lets them go after each photo is read). */
  get visionLoaded(): boolean {
    return this.sessions.visionLoaded;
  }

  static async load(opts: LlavaEngineOptions): Promise<LlavaEngine> {
    const preprocessor = await readJsonFile(join(opts.modelDir, 'preprocessor_config.json'));
    if (!preprocessor) throw new ModelFileError('preprocessor_config.json', `${opts.modelDir} has no preprocessor_config.json. Reinstall or re-import the model.`);
    const imageConfig = readLlavaImageConfig(preprocessor);
    const size = fixedImageSize(imageConfig);
    if (!size) throw new ModelFileError('preprocessor_config.json', `${opts.modelDir}: the image size depends on the photo (no crop_size and no fixed size), which LLaVA's single-image packs never do.`);
    const pack = await readLlavaPackConfig(opts.modelDir, size);
    const prompt = await LlavaPrompt.load(opts.modelDir, pack);
    const vision = await chooseVisionResidency(opts.modelDir, opts.dtypes, opts.vision ?? 'auto');
    const sessions = await LlavaSessions.open(opts.modelDir, opts.dtypes, {
      threads: opts.threads,
      kvHeads: pack.kvHeads,
      headDim: pack.headDim,
      ...(opts.profilePrefix ? { profilePrefix: opts.profilePrefix } : {}),
      vision,
    });
    const contextTokens = Math.min(pack.maxPositionEmbeddings, opts.maxContextTokens);
    return new LlavaEngine(sessions, prompt, imageConfig, pack, opts.dtypes, contextTokens, opts.prefillChunk, vision);
  }

  countTokens(text: string): number {
    return this.promptBuilder.countTokens(text);
  }

  /** The prompt exactly as the model sees it (the image token not yet expanded); for tests and debugging. */
  prompt(system: string, turns: readonly ChatTurn[]): string {
    return this.promptBuilder.render(system, turns);
  }

  /** Text of token ids, special tokens skipped. */
  decode(ids: readonly number[]): string {
    return this.promptBuilder.decode(ids);
  }

  async generate(req: LlavaGenerateRequest, onToken: (text: string) => void, stop: StopSignal): Promise<LlavaAnswer> {
    const t0 = performance.now();
    const maxNewTokens = req.sampling.maxNewTokens;
    let { turns, dropped } = trimTurns(
      req.system,
      req.turns,
      { contextTokens: this.contextTokens, maxNewTokens, imageTokens: this.imageTokens, perTurnOverhead: PER_TURN_OVERHEAD },
      (t) => this.countTokens(t),
    );
    let prompt = this.promptBuilder.encode(req.system, turns, this.answers);
    // The estimate counts each turn's text and a fixed template cost; the rendered prompt (generation prompt, the
    // image's line, role names a tokenizer splits) can be a few tokens longer. Its exact length decides.
    for (let fewer = dropOldestExchange(turns); prompt.ids.length + maxNewTokens > this.contextTokens && fewer; fewer = dropOldestExchange(turns)) {
      dropped += turns.length - fewer.length;
      turns = fewer;
      prompt = this.promptBuilder.encode(req.system, turns, this.answers);
    }
    const promptTokens = prompt.ids.length;
    const room = this.contextTokens - promptTokens;
    if (room < 1) {
      throw new TandemError('context_full', `The question is too long for this model (${promptTokens} tokens; the model reads at most ${this.contextTokens}).`);
    }
    const imageKey = await imageIdentity(req.imagePath);
    // A follow-up on the same photo: the previous prompt and answer are already in the cache, so only the new
    // tokens are read (no image encode, no re-reading the history).
    const past = this.reusableCache(imageKey, prompt.ids, prompt.imageStart);
    let recycled = past ? null : this.takeSpare();
    // A tower loaded for this photo would sit beside the last conversation's buffers (0.75 GB at 7B, the peak of a
    // chat): let them go first; the new conversation allocates its own after the tower is gone.
    this.conversation = null;
    if (recycled && prompt.imageStart >= 0 && !this.images.has(imageKey) && !this.sessions.visionLoaded) {
      recycled = null;
      collectGarbage();
    }
    let imageMs = 0;
    let imageCached = false;
    let image: { features: ImageFeatures; start: number } | null = null;
    if (!past && prompt.imageStart >= 0) {
      const t = performance.now();
      const known = this.images.get(imageKey);
      imageCached = known !== undefined;
      const features = known ?? (await this.encodeImage(req.imagePath));
      this.rememberImage(imageKey, features);
      if (!imageCached) imageMs = performance.now() - t;
      image = { features, start: prompt.imageStart };
    }
    const tGenerate = performance.now();
    const out = await generateLlava(this.sessions, {
      promptIds: prompt.ids,
      past: past?.cache ?? recycled,
      image,
      sampling: req.sampling,
      maxNewTokens: Math.min(maxNewTokens, room),
      eosIds: this.pack.eosIds,
      stop,
      detokenize: (ids) => this.promptBuilder.decode(ids),
      onText: onToken,
      ...(this.prefillChunk ? { prefillChunk: this.prefillChunk } : {}),
    });
    this.conversation = { imageKey, ids: out.cacheIds, cache: out.cache };
    const ids = out.tokenIds;
    const generated = this.pack.eosIds.includes(ids.at(-1) ?? -1) ? ids.length - 1 : ids.length;
    const text = out.text.trim();
    this.rememberAnswer(text, ids.slice(0, generated));
    return {
      text,
      tokenIds: ids,
      stopped: out.stopped,
      promptTokens,
      tokens: generated,
      droppedTurns: dropped,
      imageMs,
      imageCached,
      prefillMs: out.prefillMs,
      firstTokenMs: out.firstTokenMs === null ? null : tGenerate - t0 + out.firstTokenMs,
      totalMs: performance.now() - t0,
      decoderSteps: out.decoderSteps,
      cachedSteps: out.cachedSteps,
      reusedPromptTokens: past?.tokens ?? 0,
    };
  }

  /**
   * The kept cache cut to the longest prefix it shares with this prompt, when that is the same photo and at
   * least one prompt token is new. The last answer comes back as the ids it was generated as, so the whole cache
   * is shared; where it comes back as text (edited, or cut by a stop), the cache is cut where the two part.
   */
  private reusableCache(imageKey: string, promptIds: readonly number[], imageStart: number): { cache: KvCache; tokens: number } | null {
    const c = this.conversation;
    if (!c || c.imageKey !== imageKey) return null;
    let shared = 0;
    const limit = Math.min(c.ids.length, promptIds.length - 1);
    while (shared < limit && c.ids[shared] === promptIds[shared]) shared++;
    // Below the end of the image the cache is worth little and the features would be needed again: start over.
    if (imageStart < 0 || shared <= imageStart + this.imageTokens) return null;
    return { cache: c.cache.prefix(shared), tokens: shared };
  }

  private async encodeImage(imagePath: string): Promise<ImageFeatures> {
    const features = await this.sessions.encodeImage(await this.pixels(imagePath));
    if (features.positions !== this.imageTokens) {
      throw new ModelFileError(
        'vision_encoder',
        `The vision encoder gives ${features.positions} image positions, but the pack's config says ${this.imageTokens} (check vision_feature_select_strategy and patch_size).`,
      );
    }
    return features;
  }

  private rememberAnswer(text: string, ids: readonly number[]): void {
    if (text === '' || ids.length === 0) return;
    this.answers.delete(text);
    this.answers.set(text, ids);
    while (this.answers.size > ANSWER_MEMORY_SIZE) this.answers.delete(this.answers.keys().next().value as string);
  }

  private rememberImage(key: string, features: ImageFeatures): void {
    this.images.delete(key);
    this.images.set(key, features);
    while (this.images.size > IMAGE_CACHE_SIZE) this.images.delete(this.images.keys().next().value as string);
  }

  private pixels(imagePath: string): Promise<PixelValues> {
    return preprocessLlavaImage(imagePath, this.imageConfig);
  }

  /** Token ids and pixels exactly as generate() feeds them; tests recompute the answer from these without a cache. */
  async encodePrompt(imagePath: string, system: string, turns: readonly ChatTurn[]): Promise<{ inputIds: number[]; pixelValues: PixelValues }> {
    return { inputIds: this.promptBuilder.encode(system, turns, this.answers).ids, pixelValues: await this.pixels(imagePath) };
  }

  /** Drops the kept keys/values: the next answer reads its whole prompt (benchmarks of a fresh question). */
  forgetConversation(): void {
    this.spare = this.takeSpare();
    this.conversation = null;
  }

  /** Empty buffers to write a new conversation into: the last one's (it ends here) or a spare. */
  private takeSpare(): KvCache | null {
    const from = this.conversation?.cache ?? this.spare;
    this.spare = null;
    return from && from.capacity > 0 ? from.prefix(0) : null;
  }

  /** Drops the kept image features: the next answer runs the vision encoder (benchmarks of a new photo). */
  forgetImages(): void {
    this.images.clear();
  }

  async dispose(): Promise<void> {
    this.conversation = null;
    this.spare = null;
    this.images.clear();
    await this.sessions.dispose();
  }
}
