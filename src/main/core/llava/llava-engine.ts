/**
 * The embedded LLaVA backend: @huggingface/transformers running a transformers.js ONNX folder
 * (vision_encoder, embed_tokens, decoder_model_merged) on onnxruntime-node. This is the only module that
 * imports transformers.js, and it runs only inside the inference process (llava-worker.ts loads it lazily).
 * Files come from the local folder alone: remote models are off and fetch is refused outright.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  AutoImageProcessor,
  AutoModelForImageTextToText,
  AutoTokenizer,
  BaseStreamer,
  DynamicCache,
  env,
  LogLevel,
  RawImage,
  StoppingCriteria,
} from '@huggingface/transformers';
import { decodeImageRgb } from '../blip/image-decode';
import type { ChatTurn, SamplingSettings } from '../chat/chat-types';
import { trimTurns } from '../chat/context-window';
import { ModelFileError, TandemError } from '../errors';
import type { LlavaDTypes } from '../models/known-packs';
import { LLAVA_INTERLEAVE_CHAT_TEMPLATE } from './chat-template';
import type { LlavaStats } from './llava-protocol';
import type { StopFlag } from './llava-worker';

/** Tokens the chat template adds around each turn (`<|im_start|>role\n … <|im_end|>\n`). */
const PER_TURN_OVERHEAD = 6;

export interface LlavaEngineOptions {
  modelDir: string;
  dtypes: LlavaDTypes;
  threads: number;
  maxContextTokens: number;
}

export interface LlavaGenerateRequest {
  imagePath: string;
  system: string;
  turns: ChatTurn[];
  sampling: SamplingSettings;
}

export interface LlavaAnswer extends LlavaStats {
  text: string;
  stopped: boolean;
  /** Generated ids, the end-of-turn token included when it came. */
  tokenIds: number[];
}

/* The slices of transformers.js' API used here, typed narrowly so nothing loose crosses this module. */
interface TensorLike {
  dims: number[];
}
/** A cache tensor, as far as cutting it to a prefix goes. */
interface DynamicCacheTensor {
  dims: number[];
  slice(...ranges: ([number, number] | null)[]): DynamicCacheTensor;
}
/** What generate() gives back with return_dict_in_generate. */
interface GenerateDict {
  sequences: { data: BigInt64Array; dims: number[] };
  past_key_values: DynamicCache;
}
/** The keys/values of the last conversation, kept for a follow-up question about the same photo. */
interface ConversationCache {
  imageKey: string;
  /** The tokens the cache holds keys/values for, in order. */
  ids: number[];
  past: DynamicCache;
}
interface OrtSessionLike {
  run(feeds: Record<string, TensorLike>, ...rest: unknown[]): Promise<Record<string, TensorLike>>;
}
interface TokenizerLike {
  (text: string, options?: Record<string, unknown>): { input_ids: TensorLike; attention_mask: TensorLike };
  encode(text: string, options?: Record<string, unknown>): number[];
  decode(ids: bigint[] | number[], options?: Record<string, unknown>): string;
  apply_chat_template(messages: unknown[], options: Record<string, unknown>): string;
  chat_template?: unknown;
}
interface ImageSize {
  height?: number;
  width?: number;
  shortest_edge?: number;
}
interface ImageProcessorLike {
  (images: unknown): Promise<{ pixel_values: TensorLike }>;
  config?: { size?: ImageSize; crop_size?: ImageSize };
}
interface ModelLike {
  sessions: Record<string, OrtSessionLike>;
  generate(args: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<unknown>;
}

interface LlavaConfigJson {
  image_token_index?: number;
  image_token_id?: number;
  text_config?: { max_position_embeddings?: number };
  vision_config?: { image_size?: number; patch_size?: number };
}

interface ProcessorConfigJson {
  image_token?: string;
  patch_size?: number;
  num_additional_image_tokens?: number;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ModelFileError(basename(path), `${path} is not valid JSON.`, { cause: err });
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** Same path, size and modification time: the same picture for the purpose of reusing its keys/values. */
async function imageIdentity(path: string): Promise<string> {
  const st = await stat(path);
  return `${path}\n${st.size}\n${st.mtimeMs}`;
}

/** Only this folder: no hub, no cache folder, and any attempt at the network fails loudly. */
function lockToLocalFolder(modelDir: string): string {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.logLevel = LogLevel.ERROR;
  env.fetch = (() => Promise.reject(new Error('Tandem loads LLaVA from a local folder only.'))) as typeof fetch;
  env.localModelPath = `${dirname(modelDir)}/`;
  return basename(modelDir);
}

async function chatTemplate(modelDir: string, tokenizer: TokenizerLike): Promise<string> {
  if (typeof tokenizer.chat_template === 'string' && tokenizer.chat_template) return tokenizer.chat_template;
  const json = await readJson<{ chat_template?: unknown }>(join(modelDir, 'chat_template.json'));
  if (typeof json?.chat_template === 'string') return json.chat_template;
  const jinja = await readText(join(modelDir, 'chat_template.jinja'));
  if (jinja) return jinja;
  return LLAVA_INTERLEAVE_CHAT_TEMPLATE;
}

/**
 * Streams decoded text as tokens arrive. Decoding the whole answer each time keeps multi-byte characters and
 * byte-level BPE pieces whole; a trailing U+FFFD means a character is still incomplete, so it waits.
 */
class AnswerStreamer extends BaseStreamer {
  readonly ids: bigint[] = [];
  emitted = '';
  private seenPrompt = false;

  constructor(
    private readonly tokenizer: TokenizerLike,
    private readonly onToken: (delta: string, index: number) => void,
  ) {
    super();
  }

  override put(value: bigint[][]): void {
    if (!this.seenPrompt) {
      this.seenPrompt = true;
      return;
    }
    this.ids.push(...(value[0] ?? []));
    const text = this.text();
    if (text.endsWith('\uFFFD') || !text.startsWith(this.emitted)) return;
    const delta = text.slice(this.emitted.length);
    this.emitted = text;
    if (delta) this.onToken(delta, this.ids.length);
  }

  override end(): void {}

  text(): string {
    return this.tokenizer.decode(this.ids, { skip_special_tokens: true });
  }
}

/** Checked after every generated token, so a stop takes effect within one token. */
class FlagStoppingCriteria extends StoppingCriteria {
  constructor(private readonly flag: StopFlag) {
    super();
  }

  override _call(inputIds: unknown[]): boolean[] {
    return inputIds.map(() => this.flag.interrupted);
  }
}

export class LlavaEngine {
  private constructor(
    private readonly model: ModelLike,
    private readonly tokenizer: TokenizerLike,
    private readonly imageProcessor: ImageProcessorLike,
    private readonly template: string,
    private readonly imageToken: string,
    readonly imageTokens: number,
    readonly contextTokens: number,
    readonly dtypes: LlavaDTypes,
    private readonly eosIds: number[],
    private readonly imageTokenId: number,
  ) {}

  /** Only the last conversation is kept: one photo's chat at a time, a few tens of MB for a 0.5B model. */
  private conversation: ConversationCache | null = null;

  static async load(opts: LlavaEngineOptions): Promise<LlavaEngine> {
    const config = await readJson<LlavaConfigJson>(join(opts.modelDir, 'config.json'));
    if (!config) throw new ModelFileError('config.json', `${opts.modelDir} has no config.json.`);
    const processorConfig = (await readJson<ProcessorConfigJson>(join(opts.modelDir, 'processor_config.json'))) ?? {};
    const id = lockToLocalFolder(opts.modelDir);
    const load = { local_files_only: true };
    let model: ModelLike;
    let tokenizer: TokenizerLike;
    let imageProcessor: ImageProcessorLike;
    try {
      [model, tokenizer, imageProcessor] = await Promise.all([
        AutoModelForImageTextToText.from_pretrained(id, {
          ...load,
          device: 'cpu',
          dtype: opts.dtypes,
          session_options: { intraOpNumThreads: opts.threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3 },
        }) as unknown as Promise<ModelLike>,
        AutoTokenizer.from_pretrained(id, load) as unknown as Promise<TokenizerLike>,
        AutoImageProcessor.from_pretrained(id, load) as unknown as Promise<ImageProcessorLike>,
      ]);
    } catch (cause) {
      throw new ModelFileError(opts.modelDir, `Could not load the LLaVA model in ${opts.modelDir}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    const size = imageProcessor.config?.crop_size ?? imageProcessor.config?.size;
    const side = size?.height ?? size?.shortest_edge ?? config.vision_config?.image_size ?? 0;
    const width = size?.width ?? side;
    const patch = processorConfig.patch_size ?? config.vision_config?.patch_size ?? 14;
    // transformers.js' LlavaProcessor rule: patches plus any extra tokens the processor config declares.
    const imageTokens = Math.floor(side / patch) * Math.floor(width / patch) + (processorConfig.num_additional_image_tokens ?? 0);
    const contextTokens = Math.min(config.text_config?.max_position_embeddings ?? opts.maxContextTokens, opts.maxContextTokens);
    const generation = (await readJson<{ eos_token_id?: number | number[] }>(join(opts.modelDir, 'generation_config.json'))) ?? {};
    const eos = generation.eos_token_id;
    return new LlavaEngine(
      model,
      tokenizer,
      imageProcessor,
      await chatTemplate(opts.modelDir, tokenizer),
      processorConfig.image_token ?? '<image>',
      imageTokens,
      contextTokens,
      opts.dtypes,
      eos === undefined ? [] : Array.isArray(eos) ? eos : [eos],
      config.image_token_index ?? config.image_token_id ?? tokenizer.encode(processorConfig.image_token ?? '<image>', { add_special_tokens: false })[0] ?? -1,
    );
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).length;
  }

  /** The prompt exactly as the model sees it (the image token not yet expanded); for tests and debugging. */
  prompt(system: string, turns: readonly ChatTurn[]): string {
    const firstUser = turns.findIndex((t) => t.role === 'user');
    const messages = [
      { role: 'system', content: [{ type: 'text', text: system }] },
      ...turns.map((t, i) => ({
        role: t.role,
        content: i === firstUser ? [{ type: 'image' }, { type: 'text', text: t.text }] : [{ type: 'text', text: t.text }],
      })),
    ];
    return this.tokenizer.apply_chat_template(messages, { chat_template: this.template, add_generation_prompt: true, tokenize: false });
  }

  async generate(req: LlavaGenerateRequest, onToken: (text: string) => void, stop: StopFlag): Promise<LlavaAnswer> {
    const t0 = performance.now();
    const { turns, dropped } = trimTurns(
      req.system,
      req.turns,
      { contextTokens: this.contextTokens, maxNewTokens: req.sampling.maxNewTokens, imageTokens: this.imageTokens, perTurnOverhead: PER_TURN_OVERHEAD },
      (t) => this.countTokens(t),
    );
    const inputs = this.tokenizer(this.promptText(req.system, turns));
    const promptIds = Array.from((inputs.input_ids as unknown as { data: BigInt64Array }).data, Number);
    const promptTokens = promptIds.length;
    const room = this.contextTokens - promptTokens;
    if (room < 1) {
      throw new TandemError('context_full', `The question is too long for this model (${promptTokens} tokens; the model reads at most ${this.contextTokens}).`);
    }
    const imageKey = await imageIdentity(req.imagePath);
    // A follow-up on the same photo: the previous prompt and answer are already in the cache, so only the new
    // tokens are read (no image encode, no re-reading the history).
    const past = this.reusableCache(imageKey, promptIds);
    this.conversation = null;
    const stats = { imageMs: 0, decoderSteps: 0, cachedSteps: 0 };
    const restore = this.instrument(stats);
    let firstTokenMs: number | null = null;
    const streamer = new AnswerStreamer(this.tokenizer, (delta) => {
      firstTokenMs ??= performance.now() - t0;
      onToken(delta);
    });
    try {
      const sample = req.sampling.temperature > 0;
      const out = (await this.model.generate({
        ...inputs,
        ...(past ? { past_key_values: past.cache } : { pixel_values: await this.pixels(req.imagePath) }),
        max_new_tokens: Math.min(req.sampling.maxNewTokens, room),
        do_sample: sample,
        ...(sample ? { temperature: req.sampling.temperature, top_p: req.sampling.topP } : {}),
        streamer,
        stopping_criteria: [new FlagStoppingCriteria(stop)],
        return_dict_in_generate: true,
      })) as GenerateDict;
      const held = out.past_key_values.get_seq_length();
      this.conversation = { imageKey, ids: Array.from(out.sequences.data.subarray(0, held), Number), past: out.past_key_values };
    } finally {
      restore();
    }
    const reusedPromptTokens = past?.tokens ?? 0;
    const ids = streamer.ids;
    const generated = this.eosIds.includes(Number(ids.at(-1))) ? ids.length - 1 : ids.length;
    return {
      text: streamer.text().trim(),
      tokenIds: ids.map(Number),
      stopped: stop.interrupted,
      promptTokens,
      tokens: generated,
      droppedTurns: dropped,
      imageMs: stats.imageMs,
      firstTokenMs,
      totalMs: performance.now() - t0,
      decoderSteps: stats.decoderSteps,
      cachedSteps: stats.cachedSteps,
      reusedPromptTokens,
    };
  }

  /**
   * The kept cache cut to the longest prefix it shares with this prompt, when that is the same photo and at
   * least one prompt token is new. The answer is re-tokenized from its stored text in the next prompt, which
   * can split a word differently from how it was generated; the cache is then cut where they part.
   */
  private reusableCache(imageKey: string, promptIds: readonly number[]): { cache: DynamicCache; tokens: number } | null {
    const c = this.conversation;
    if (!c || c.imageKey !== imageKey) return null;
    let shared = 0;
    const limit = Math.min(c.ids.length, promptIds.length - 1);
    while (shared < limit && c.ids[shared] === promptIds[shared]) shared++;
    // Below the image the cache is worth nothing: start over.
    const image = promptIds.indexOf(this.imageTokenId);
    if (image < 0 || shared <= image + this.imageTokens) return null;
    if (shared === c.ids.length) return { cache: c.past, tokens: shared };
    const entries: Record<string, DynamicCacheTensor> = {};
    for (const [name, tensor] of Object.entries(c.past as unknown as Record<string, DynamicCacheTensor>)) {
      // [batch, kv heads, sequence, head dim]: keep the first `shared` positions.
      if (!name.startsWith('past_key_values.') || tensor.dims.length !== 4) return null;
      entries[name] = tensor.slice(null, null, [0, shared], null);
    }
    return { cache: new DynamicCache(entries as never), tokens: shared };
  }

  /** Token ids and pixels exactly as generate() feeds them; tests recompute the answer from these without a cache. */
  async encodePrompt(imagePath: string, system: string, turns: readonly ChatTurn[]): Promise<{ inputIds: number[]; pixelValues: { data: Float32Array; dims: number[] } }> {
    const { inputs, pixel_values } = await this.encode(imagePath, system, turns);
    const ids = (inputs.input_ids as unknown as { data: BigInt64Array }).data;
    const px = pixel_values as unknown as { data: Float32Array; dims: number[] };
    return { inputIds: Array.from(ids, Number), pixelValues: { data: px.data, dims: [...px.dims] } };
  }

  /** Drops the kept keys/values: the next answer reads its whole prompt (benchmarks of a fresh question). */
  forgetConversation(): void {
    this.conversation = null;
  }

  async dispose(): Promise<void> {
    this.conversation = null;
    await this.model.dispose();
  }

  private async encode(imagePath: string, system: string, turns: readonly ChatTurn[]) {
    return { inputs: this.tokenizer(this.promptText(system, turns)), pixel_values: await this.pixels(imagePath) };
  }

  /** The chat template's text with the image placeholder expanded to one token per image feature. */
  private promptText(system: string, turns: readonly ChatTurn[]): string {
    return this.prompt(system, turns).replace(this.imageToken, this.imageToken.repeat(this.imageTokens));
  }

  private async pixels(imagePath: string) {
    const rgb = await decodeImageRgb(imagePath);
    const image = new RawImage(new Uint8ClampedArray(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), rgb.width, rgb.height, 3);
    return (await this.imageProcessor(image)).pixel_values;
  }

  /**
   * Wraps the sessions' run() for one answer: times the vision encoder and counts decoder steps that ran on a
   * filled KV cache (one new position over a non-empty past), which is how the cache is seen to work.
   */
  private instrument(stats: { imageMs: number; decoderSteps: number; cachedSteps: number }): () => void {
    const vision = this.model.sessions['vision_encoder'];
    const decoder = this.model.sessions['decoder_model_merged'];
    const originals: [OrtSessionLike, OrtSessionLike['run']][] = [];
    if (vision) {
      const run = vision.run.bind(vision);
      originals.push([vision, vision.run]);
      vision.run = async (feeds, ...rest) => {
        const t = performance.now();
        try {
          return await run(feeds, ...rest);
        } finally {
          stats.imageMs += performance.now() - t;
        }
      };
    }
    if (decoder) {
      const run = decoder.run.bind(decoder);
      originals.push([decoder, decoder.run]);
      decoder.run = async (feeds, ...rest) => {
        stats.decoderSteps++;
        const past = feeds['past_key_values.0.key']?.dims[2] ?? 0;
        if (past > 0 && feeds['inputs_embeds']?.dims[1] === 1) stats.cachedSteps++;
        return run(feeds, ...rest);
      };
    }
    return () => {
      for (const [session, run] of originals) session.run = run;
    };
  }
}
