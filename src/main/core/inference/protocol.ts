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

export type ToWorker =
  | LoadModelRequest
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
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id: number | null; code: string; message: string }
  | LlavaFromWorker
  | LlavaCompileFromWorker;
