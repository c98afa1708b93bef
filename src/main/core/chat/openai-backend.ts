import { TandemError } from '../errors';
import type { ChatBackend, ChatRequest, ChatResult } from './chat-types';
import { estimateTokens, trimTurns } from './context-window';
import { engineBudget } from './engine-context';
import { looksLikeNoVision, malformedStreamError, modelMissingError, noVisionError, replyTooLargeError } from './engine-errors';
import { checkedBaseUrl, engineLimits, requestJson, requestStream, trimBaseUrl, type EngineSettings } from './engine-http';
import { CappedAnswer } from './engine-limits';
import { photoAsJpegBase64 } from './engine-image';
import { readSseData } from './stream-lines';

type Fetch = typeof fetch;

interface SseChunk {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: { completion_tokens?: unknown };
  error?: unknown;
}

/** `/v1` once, whether or not the user typed it in the base URL. */
export function openAiUrl(baseUrl: string, path: string): string {
  const base = trimBaseUrl(baseUrl);
  return `${base.endsWith('/v1') ? base : `${base}/v1`}${path}`;
}

/**
 * OpenAI-compatible chat completions (llama.cpp server, vLLM, LM Studio): the photo as an `image_url` data
 * URI in the first user message, the answer as server-sent events ending with `data: [DONE]`.
 */
export class OpenAiBackend implements ChatBackend {
  readonly modelLabel: string;
  private readonly s: EngineSettings;

  constructor(
    settings: Omit<EngineSettings, 'kind'>,
    private readonly encodeImage: (path: string) => Promise<string> = photoAsJpegBase64,
    private readonly fetchImpl: Fetch = fetch,
  ) {
    this.s = { ...settings, kind: 'openai', baseUrl: checkedBaseUrl(settings.baseUrl) };
    this.modelLabel = `openai:${settings.model}`;
  }

  async generate(req: ChatRequest, onToken: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
    const t0 = performance.now();
    const { turns, dropped } = trimTurns(req.system, req.turns, engineBudget(req.sampling.maxNewTokens), estimateTokens);
    const image = await this.encodeImage(req.imagePath);
    const firstUser = turns.findIndex((t) => t.role === 'user');
    const body = {
      model: this.s.model,
      stream: true,
      temperature: req.sampling.temperature,
      top_p: req.sampling.topP,
      max_tokens: req.sampling.maxNewTokens,
      messages: [
        { role: 'system', content: req.system },
        ...turns.map((t, i) =>
          i === firstUser
            ? { role: 'user', content: [{ type: 'text', text: t.text }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image}` } }] }
            : { role: t.role, content: t.text },
        ),
      ],
    };
    const stream = await requestStream(this.s, openAiUrl(this.s.baseUrl, '/chat/completions'), body, signal, this.fetchImpl);
    const limits = engineLimits(this.s);
    const answer = new CappedAnswer(limits.maxAnswerChars, onToken, (max) => replyTooLargeError('openai', this.s.baseUrl, 'answer', max));
    const tooLong = (max: number) => replyTooLargeError('openai', this.s.baseUrl, 'line', max);
    let pieces = 0;
    let usageTokens: number | null = null;
    let firstTokenMs: number | null = null;
    let complete = false;
    for await (const data of readSseData(stream, { maxLineBytes: limits.maxLineBytes, tooLong })) {
      if (data.trim() === '[DONE]') {
        complete = true;
        break;
      }
      const chunk = parseChunk(data, this.s);
      if (chunk.error !== undefined) throw this.streamError(chunk.error);
      if (typeof chunk.usage?.completion_tokens === 'number') usageTokens = chunk.usage.completion_tokens;
      if (!Array.isArray(chunk.choices)) throw malformedStreamError('openai', this.s.baseUrl, 'an event has no choices');
      const choice = chunk.choices[0];
      const piece = choice?.delta?.content;
      if (typeof piece === 'string' && piece.length > 0) {
        firstTokenMs ??= performance.now() - t0;
        pieces++;
        answer.add(piece);
      }
      if (typeof choice?.finish_reason === 'string') complete = true;
    }
    if (!complete && !signal.aborted) throw malformedStreamError('openai', this.s.baseUrl, 'the stream ended before the answer was complete');
    return { text: answer.text, tokens: usageTokens ?? pieces, stopped: !complete && signal.aborted, droppedTurns: dropped, firstTokenMs };
  }

  async check(): Promise<{ ok: boolean; message: string }> {
    try {
      const list = (await requestJson(this.s, openAiUrl(this.s.baseUrl, '/models'), undefined, this.fetchImpl)) as { data?: unknown };
      const ids = Array.isArray(list.data) ? list.data.map((m) => (m as { id?: unknown }).id).filter((id): id is string => typeof id === 'string') : [];
      if (ids.length > 0 && !ids.includes(this.s.model)) {
        return {
          ok: false,
          message: `${modelMissingError('openai', this.s.baseUrl, this.s.model, '').message} It lists: ${ids.slice(0, 8).join(', ')}.`,
        };
      }
      return {
        ok: true,
        message: `The engine at ${this.s.baseUrl} is running${ids.length ? ` and lists '${this.s.model}'` : ''}; whether the model reads images shows on the first question.`,
      };
    } catch (err) {
      if (err instanceof TandemError) return { ok: false, message: err.message };
      throw err;
    }
  }

  private streamError(error: unknown): TandemError {
    const message = typeof error === 'string' ? error : typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : JSON.stringify(error);
    if (looksLikeNoVision(message)) return noVisionError('openai', this.s.baseUrl, this.s.model, message);
    return new TandemError('engine_http', `The engine at ${this.s.baseUrl} stopped with an error: ${message}`);
  }
}

function parseChunk(data: string, s: EngineSettings): SseChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw malformedStreamError('openai', s.baseUrl, `an event is not JSON (${data.slice(0, 60)})`);
  }
  if (!parsed || typeof parsed !== 'object') throw malformedStreamError('openai', s.baseUrl, 'an event is not a JSON object');
  return parsed as SseChunk;
}
