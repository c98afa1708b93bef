import { TandemError } from '../errors';

/** Which kind of engine; only for wording error messages the way its users know it. */
export type EngineKind = 'ollama' | 'openai';

export function engineName(kind: EngineKind): string {
  return kind === 'ollama' ? 'Ollama engine' : 'OpenAI-compatible engine';
}

/** Messages from engines that were asked about an image by a model that has no vision tower. */
const NO_VISION = /\b(images?|vision|multi-?modal|mmproj|image_url)\b/i;

export function looksLikeNoVision(message: string): boolean {
  return NO_VISION.test(message);
}

export function noVisionError(kind: EngineKind, baseUrl: string, model: string, detail: string): TandemError {
  return new TandemError(
    'engine_no_vision',
    `Model '${model}' on the ${engineName(kind)} at ${baseUrl} cannot look at images${detail ? ` (${detail})` : ''}. Choose a vision model, e.g. llava:7b.`,
  );
}

export function modelMissingError(kind: EngineKind, baseUrl: string, model: string, detail: string): TandemError {
  const hint = kind === 'ollama' ? ` Download it with: ollama pull ${model}` : ' Check the model name in Settings.';
  return new TandemError(
    'engine_model_missing',
    `The ${engineName(kind)} at ${baseUrl} has no model '${model}'${detail ? ` (${detail})` : ''}.${hint}`,
  );
}

export function malformedStreamError(kind: EngineKind, baseUrl: string, detail: string): TandemError {
  return new TandemError('engine_stream', `The ${engineName(kind)} at ${baseUrl} sent a reply Tandem cannot read: ${detail}.`);
}

/** fetch() failures (no HTTP answer at all) as messages a user can act on. */
export function connectionError(kind: EngineKind, baseUrl: string, err: unknown): TandemError {
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const code = cause?.code ?? (err as { code?: string } | null)?.code;
  const start = kind === 'ollama' ? ' Start it (ollama serve)' : ' Start the server';
  if (code === 'ECONNREFUSED') {
    return new TandemError(
      'engine_unreachable',
      `Cannot connect to the ${engineName(kind)} at ${baseUrl} (connection refused).${start}, or change the engine address in Settings.`,
      { cause: err },
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TandemError('engine_unreachable', `The engine address ${baseUrl} cannot be resolved. Check it in Settings.`, { cause: err });
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return new TandemError('engine_unreachable', `The ${engineName(kind)} at ${baseUrl} closed the connection before answering.`, { cause: err });
  }
  const detail = cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new TandemError('engine_unreachable', `Cannot reach the ${engineName(kind)} at ${baseUrl} (${detail}).`, { cause: err });
}

export function timeoutError(kind: EngineKind, baseUrl: string, seconds: number): TandemError {
  return new TandemError(
    'engine_timeout',
    `The ${engineName(kind)} at ${baseUrl} did not answer within ${seconds} s. It may still be loading the model; try again, or raise the timeout in Settings.`,
  );
}

/** An HTTP error answer, read for what the engine said. */
export function httpError(kind: EngineKind, baseUrl: string, model: string, status: number, serverMessage: string): TandemError {
  if (status === 404) return modelMissingError(kind, baseUrl, model, serverMessage);
  // Ollama answers a missing model on /api/chat with 404 but some versions with 400 "model … not found".
  if (/model .*not found|does not exist|no such model|unknown model/i.test(serverMessage)) return modelMissingError(kind, baseUrl, model, serverMessage);
  if (looksLikeNoVision(serverMessage)) return noVisionError(kind, baseUrl, model, serverMessage);
  if (status === 401 || status === 403) {
    return new TandemError('engine_auth', `The ${engineName(kind)} at ${baseUrl} refused the request (HTTP ${status}${serverMessage ? `: ${serverMessage}` : ''}). Check the API key.`);
  }
  return new TandemError('engine_http', `The ${engineName(kind)} at ${baseUrl} answered HTTP ${status}${serverMessage ? `: ${serverMessage}` : ''}.`);
}

/** `{"error":"…"}` (Ollama), `{"error":{"message":"…"}}` (OpenAI), or the body's first line. */
export function serverMessageFrom(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const error = (parsed as { error?: unknown; message?: unknown }).error;
      if (typeof error === 'string') return error;
      if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
        return (error as { message: string }).message;
      }
      const message = (parsed as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.split('\n')[0]!.trim().slice(0, 300);
}

/** An engine address that is not an http(s) URL with a host (see shared/engine-url.ts). */
export function engineUrlError(reason: string): TandemError {
  return new TandemError('engine_url', `${reason} Change it in Settings, or pass --base-url.`);
}

/** Which cap an engine's reply ran into (engine-limits.ts has the sizes and why). */
export type ReplyLimit = 'line' | 'answer' | 'stream' | 'body';

/**
 * An engine reply that passed one of Tandem's caps. The request was closed when it was thrown; whatever text had
 * arrived stays with the answer (the chat service stores it with this message).
 */
export class EngineReplyTooLargeError extends TandemError {
  readonly limit: ReplyLimit;
  readonly maxBytes: number;
  constructor(limit: ReplyLimit, maxBytes: number, message: string) {
    super('engine_reply_too_large', message);
    this.name = 'EngineReplyTooLargeError';
    this.limit = limit;
    this.maxBytes = maxBytes;
  }
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${Math.round(bytes / 1024)} KB`;
}

export function replyTooLargeError(kind: EngineKind, baseUrl: string, limit: ReplyLimit, max: number, what = 'the answer'): EngineReplyTooLargeError {
  const engine = `The ${engineName(kind)} at ${baseUrl}`;
  const kept = ' Tandem stopped reading and kept the text that had arrived.';
  switch (limit) {
    case 'line':
      return new EngineReplyTooLargeError(limit, max, `${engine} sent a line longer than ${sizeLabel(max)} without a line break, which no real answer needs.${kept}`);
    case 'answer':
      return new EngineReplyTooLargeError(
        limit,
        max,
        `The answer from the ${engineName(kind)} at ${baseUrl} passed ${Math.round(max / 1024)} K characters; the engine seems to ignore the length limit.${kept}`,
      );
    case 'stream':
      return new EngineReplyTooLargeError(limit, max, `${engine} streamed more than ${sizeLabel(max)} for one answer.${kept}`);
    case 'body':
      return new EngineReplyTooLargeError(limit, max, `${engine} sent more than ${sizeLabel(max)} for ${what}; Tandem stopped reading it.`);
  }
}
