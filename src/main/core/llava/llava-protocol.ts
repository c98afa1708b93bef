/**
 * LLaVA messages of the inference protocol (protocol.ts unions them in). LLaVA runs in its own instance of the
 * inference process: same entry and spawn function as BLIP's, so the app shell needs nothing new, but a
 * separate process, so a chat never waits behind a captioning batch and an out-of-memory in one model leaves
 * the other running.
 */
import type { ChatTurn } from '../chat/chat-types';
import type { LlavaComponent, OnnxDType } from '../models/known-packs';
import type { LlavaSampling } from './llava-sampling';
import type { VisionResidency, VisionResidencyChoice } from './llava-sessions';

export interface LlavaLoadRequest {
  type: 'llava-load';
  id: number;
  /** Pack name, stored with answers as `model:<name>`. */
  model: string;
  modelDir: string;
  threads: number;
  /** Per-file dtypes; by default the best CPU variant the folder has (llava-dtypes.ts). */
  dtypes?: Partial<Record<LlavaComponent, OnnxDType>>;
  /** Caps the model's context (tokens): prefill on CPU grows with it, so Tandem keeps it modest. */
  maxContextTokens: number;
  /** Whether the vision tower stays loaded between photos; default 'auto' (llava-sessions.ts). */
  vision?: VisionResidencyChoice;
}

export interface LlavaChatRequest {
  type: 'llava-chat';
  id: number;
  imagePath: string;
  system: string;
  turns: ChatTurn[];
  /** SamplingSettings plus the optional greedy / top-k / repetition penalty / seed of the embedded engine. */
  sampling: LlavaSampling;
}

export type LlavaToWorker = LlavaLoadRequest | LlavaChatRequest | { type: 'llava-cancel'; id: number };

export interface LlavaLoaded {
  type: 'llava-loaded';
  id: number;
  model: string;
  loadMs: number;
  dtypes: Record<LlavaComponent, OnnxDType>;
  contextTokens: number;
  imageTokens: number;
  vision: VisionResidency;
}

/** Timings and counts of one answer, for the message row and the benchmark. */
export interface LlavaStats {
  promptTokens: number;
  tokens: number;
  droppedTurns: number;
  imageMs: number;
  /** The photo's projected features came from the engine's small cache (no vision encoder run). */
  imageCached: boolean;
  /** Reading the prompt's new tokens, to the first token's logits. */
  prefillMs: number;
  firstTokenMs: number | null;
  totalMs: number;
  /** Decoder steps that fed one new token on top of a filled KV cache (all but the prefill, when the cache works). */
  cachedSteps: number;
  decoderSteps: number;
  /** Prompt tokens whose keys/values came from the previous answer's cache (a follow-up on the same photo). */
  reusedPromptTokens: number;
}

export type LlavaFromWorker =
  | LlavaLoaded
  | { type: 'llava-token'; id: number; text: string }
  | ({ type: 'llava-done'; id: number; text: string; stopped: boolean; tokenIds: number[] } & LlavaStats);
