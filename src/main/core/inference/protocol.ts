/**
 * The one message interface between the main process and the inference process (DESIGN.md §1).
 * Only plain JSON crosses it; images travel as file paths, so pixels never pass through the main process.
 */
import type { CaptionPrecision, CaptionSettings } from '../jobs/caption-settings';
import type { LlavaFromWorker, LlavaToWorker } from '../llava/llava-protocol';
import type { LlavaCompileFromWorker, LlavaCompileToWorker } from '../models/llava-compile-protocol';

export interface LoadModelRequest {
  type: 'load';
  id: number;
  /** Pack name, e.g. 'blip-base'; used in captions' source. */
  model: string;
  modelDir: string;
  cacheDir: string;
  threads: number;
  /** 'int8' compiles and runs the weight-quantized graphs; absent means 'fp32'. */
  precision?: CaptionPrecision;
}

export interface CaptionRequest {
  type: 'caption';
  id: number;
  items: { jobId: number; photoId: number; path: string }[];
  settings: CaptionSettings;
}

export interface AnswerRequest {
  type: 'answer';
  id: number;
  path: string;
  question: string;
  settings: CaptionSettings;
}

/** Opens a `BlipForImageTextRetrieval` pack beside the captioner (issue 11); see retrieval/retrieval-engine.ts. */
export interface LoadRetrievalRequest {
  type: 'load-retrieval';
  id: number;
  model: string;
  modelDir: string;
  cacheDir: string;
  threads: number;
  precision?: CaptionPrecision;
}

/** ITC image embeddings for library photos; a photo that cannot be read fails alone, the rest are embedded. */
export interface EmbedImagesRequest {
  type: 'embed-images';
  id: number;
  items: { jobId: number; photoId: number; path: string }[];
}

export interface EmbedTextsRequest {
  type: 'embed-texts';
  id: number;
  texts: string[];
}

/** ITM match probabilities of several texts against one image (a library photo or any file, as `tandem match`). */
export interface MatchRequest {
  type: 'match';
  id: number;
  path: string;
  texts: string[];
}

export type EmbedItemResult =
  | { jobId: number; photoId: number; ok: true; vector: number[] }
  | { jobId: number; photoId: number; ok: false; error: string };

export type ToWorker =
  | LoadModelRequest
  | LoadRetrievalRequest
  | EmbedImagesRequest
  | EmbedTextsRequest
  | MatchRequest
  | CaptionRequest
  | AnswerRequest
  | { type: 'cancel'; id: number }
  | { type: 'shutdown' }
  | LlavaToWorker
  | LlavaCompileToWorker;

export type CaptionItemResult =
  | { jobId: number; photoId: number; ok: true; text: string; ms: number }
  | { jobId: number; photoId: number; ok: false; error: string };

export type FromWorker =
  | { type: 'ready'; pid: number }
  | { type: 'loaded'; id: number; model: string; loadMs: number; compiled: boolean }
  | { type: 'captioned'; id: number; results: CaptionItemResult[]; decodeMs: number; inferMs: number }
  | { type: 'answered'; id: number; answer: string; ms: number }
  | { type: 'retrieval-loaded'; id: number; model: string; dimensions: number; loadMs: number; compiled: boolean }
  | { type: 'images-embedded'; id: number; results: EmbedItemResult[]; decodeMs: number; inferMs: number }
  | { type: 'texts-embedded'; id: number; vectors: number[][] }
  /** `vector`: the image's ITC embedding from the same vision pass, so a caller needs no 'embed-images' for it. */
  | { type: 'matched'; id: number; probabilities: number[]; vector: number[] }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id: number | null; code: string; message: string }
  | LlavaFromWorker
  | LlavaCompileFromWorker;
