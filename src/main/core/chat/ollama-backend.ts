import { TandemError } from '../errors';
import type { ChatBackend, ChatRequest, ChatResult } from './chat-types';
import { estimateTokens, trimTurns } from './context-window';
import { ENGINE_CONTEXT_TOKENS, engineBudget } from './engine-context';
import { looksLikeNoVision, malformedStreamError, modelMissingError, noVisionError, replyTooLargeError } from './engine-errors';
import { checkedBaseUrl, engineLimits, requestJson, requestStream, type EngineSettings } from './engine-http';
import { CappedAnswer } from './engine-limits';
import { photoAsJpegBase64 } from './engine-image';
import { readLines } from './stream-lines';

type Fetch = typeof fetch;

interface OllamaChunk {
  message?: { role?: string; content?: unknown };
  done?: unknown;
  eval_count?: unknown;
  error?: unknown;
}

/** Ollama's /api/chat: images as base64 on the message, the answer as NDJSON lines ending with done: true. */
export class OllamaBackend implements ChatBackend {
  readonly modelLabel: string;
  private readonly s: EngineSettings;

  constructor(
    settings: Omit<EngineSettings, 'kind'>,
    private readonly encodeImage: (path: string) => Promise<string> = photoAsJpegBase64,
    private readonly fetchImpl: Fetch = fetch,
  ) {
    this.s = { ...settings, kind: 'ollama', baseUrl: checkedBaseUrl(settings.baseUrl) };
    this.modelLabel = `ollama:${settings.model}`;
  }

  async generate(req: ChatRequest, onToken: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
    const t0 = performance.now();
    const { turns, dropped } = trimTurns(req.system, req.turns, engineBudget(req.sampling.maxNewTokens), estimateTokens);
    const image = await this.encodeImage(req.imagePath);
    const firstUser = turns.findIndex((t) => t.role === 'user');
    const body = {
      model: this.s.model,
      stream: true,
      messages: [
        { role: 'system', content: req.system },
        ...turns.map((t, i) => ({ role: t.role, content: t.text, ...(i === firstUser ? { images: [image] } : {}) })),
      ],
      options: { temperature: req.sampling.temperature, top_p: req.sampling.topP, num_predict: req.sampling.maxNewTokens, num_ctx: ENGINE_CONTEXT_TOKENS },
    };
    const stream = await requestStream(this.s, `${this.s.baseUrl}/api/chat`, body, signal, this.fetchImpl);
    const limits = engineLimits(this.s);
    const answer = new CappedAnswer(limits.maxAnswerChars, onToken, (max) => replyTooLargeError('ollama', this.s.baseUrl, 'answer', max));
    const tooLong = (max: number) => replyTooLargeError('ollama', this.s.baseUrl, 'line', max);
    let tokens: number | null = null;
    let firstTokenMs: number | null = null;
    let complete = false;
    for await (const line of readLines(stream, { maxLineBytes: limits.maxLineBytes, tooLong })) {
      if (line.trim() === '') continue;
      const chunk = parseChunk(line, this.s);
      if (typeof chunk.error === 'string') throw this.streamError(chunk.error);
      const piece = chunk.message?.content;
      if (chunk.message !== undefined && typeof piece !== 'string') throw malformedStreamError('ollama', this.s.baseUrl, 'a message has no text content');
      if (chunk.message === undefined && chunk.done !== true) throw malformedStreamError('ollama', this.s.baseUrl, 'a line has neither a message nor done');
      if (typeof piece === 'string' && piece.length > 0) {
        firstTokenMs ??= performance.now() - t0;
        answer.add(piece);
      }
      if (chunk.done === true) {
        complete = true;
        tokens = typeof chunk.eval_count === 'number' ? chunk.eval_count : null;
        break;
      }
    }
    if (!complete && !signal.aborted) throw malformedStreamError('ollama', this.s.baseUrl, 'the stream ended before the answer was complete');
    return { text: answer.text, tokens, stopped: !complete && signal.aborted, droppedTurns: dropped, firstTokenMs };
  }

  async check(): Promise<{ ok: boolean; message: string }> {
    try {
      const info = (await requestJson(this.s, `${this.s.baseUrl}/api/show`, { model: this.s.model }, this.fetchImpl)) as {
        capabilities?: unknown;
        details?: { families?: unknown };
        projector_info?: unknown;
      };
      const caps = Array.isArray(info.capabilities) ? info.capabilities : null;
      const families = Array.isArray(info.details?.families) ? info.details.families : [];
      const vision = caps ? caps.includes('vision') : families.includes('clip') || info.projector_info !== undefined;
      if (!vision) return { ok: false, message: noVisionError('ollama', this.s.baseUrl, this.s.model, '').message };
      return { ok: true, message: `Ollama at ${this.s.baseUrl} is running and has the vision model '${this.s.model}'.` };
    } catch (err) {
      if (err instanceof TandemError) return { ok: false, message: err.message };
      throw err;
    }
  }

  private streamError(message: string): TandemError {
    if (/not found/i.test(message) && /model/i.test(message)) return modelMissingError('ollama', this.s.baseUrl, this.s.model, message);
    if (looksLikeNoVision(message)) return noVisionError('ollama', this.s.baseUrl, this.s.model, message);
    return new TandemError('engine_http', `The Ollama engine at ${this.s.baseUrl} stopped with an error: ${message}`);
  }
}

function parseChunk(line: string, s: EngineSettings): OllamaChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw malformedStreamError('ollama', s.baseUrl, `a line is not JSON (${line.slice(0, 60)})`);
  }
  if (!parsed || typeof parsed !== 'object') throw malformedStreamError('ollama', s.baseUrl, 'a line is not a JSON object');
  return parsed as OllamaChunk;
}
