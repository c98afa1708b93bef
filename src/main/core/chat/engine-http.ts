import { checkEngineUrl } from '../../../shared/engine-url';
import {
  connectionError,
  engineUrlError,
  httpError,
  malformedStreamError,
  replyTooLargeError,
  serverMessageFrom,
  timeoutError,
  type EngineKind,
} from './engine-errors';
import { ENGINE_LIMITS, type EngineLimits } from './engine-limits';

/** Where and how to reach an engine the user already runs (Ollama, llama.cpp server, vLLM, LM Studio). */
export interface EngineSettings {
  kind: EngineKind;
  /** e.g. http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp); a trailing /v1 is fine. */
  baseUrl: string;
  model: string;
  /** Longest wait for the first byte, and between two chunks of a stream. */
  timeoutSec: number;
  /** Caps on what the engine may send (engine-limits.ts); tests lower them. */
  limits?: Partial<EngineLimits>;
}

export function trimBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * The base URL a backend may use: the contract refuses anything but http(s) already, and this refuses it again
 * where requests are made, for callers that bypass the contract (the CLI, other core services).
 */
export function checkedBaseUrl(url: string): string {
  const check = checkEngineUrl(url);
  if (!check.ok) throw engineUrlError(check.reason);
  return trimBaseUrl(url);
}

export function engineLimits(s: Pick<EngineSettings, 'limits'>): EngineLimits {
  return { ...ENGINE_LIMITS, ...s.limits };
}

export interface StreamCap {
  /** Bytes the body may have; past them the request is closed and `tooLarge` thrown. */
  maxBytes: number;
  tooLarge: (maxBytes: number) => Error;
}

type Fetch = typeof fetch;

/**
 * Reads at most `maxBytes` of a body, then closes the request: an error body is read for its message only.
 * Reading also stops at `abort` (the request's timeout), with what arrived by then.
 */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number, abort: () => void): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let bytes = 0;
  try {
    while (bytes < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      bytes += value.byteLength;
    }
  } catch {
    // cut off or timed out: what arrived must do
  }
  if (bytes >= maxBytes) abort();
  reader.releaseLock();
  return Buffer.concat(parts).subarray(0, maxBytes).toString('utf8');
}

/**
 * POSTs (or GETs) JSON and hands back the body as a byte stream. The stream ends early, without an error,
 * when `signal` fires (the user stopped the answer); leaving the loop or aborting closes the connection, so
 * the engine stops generating too. Past `cap.maxBytes` (default: the streamed-answer cap) the connection is
 * closed and the stream throws `cap.tooLarge`.
 */
export async function requestStream(
  s: EngineSettings,
  url: string,
  payload: unknown,
  signal: AbortSignal,
  fetchImpl: Fetch = fetch,
  cap?: StreamCap,
): Promise<AsyncIterable<Uint8Array>> {
  const limits = engineLimits(s);
  const { maxBytes, tooLarge } = cap ?? { maxBytes: limits.maxStreamBytes, tooLarge: (max: number) => replyTooLargeError(s.kind, s.baseUrl, 'stream', max) };
  const ctrl = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, s.timeoutSec * 1000);
  };
  const onAbort = (): void => ctrl.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const release = (): void => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
  if (signal.aborted) ctrl.abort();
  arm();
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: payload === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson, text/event-stream, application/json' },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      signal: ctrl.signal,
    });
  } catch (err) {
    release();
    if (signal.aborted) return (async function* () {})();
    if (timedOut) throw timeoutError(s.kind, s.baseUrl, s.timeoutSec);
    throw connectionError(s.kind, s.baseUrl, err);
  }
  if (!res.ok) {
    // Only the message is wanted; a huge or endless error body is cut off and the connection closed.
    const body = await readCapped(res.body, limits.maxErrorBytes, () => ctrl.abort());
    release();
    throw httpError(s.kind, s.baseUrl, s.model, res.status, serverMessageFrom(body));
  }
  const reader = res.body?.getReader();
  if (!reader) {
    release();
    throw malformedStreamError(s.kind, s.baseUrl, 'the answer has no body');
  }
  return (async function* () {
    let finished = false;
    let received = 0;
    try {
      for (;;) {
        arm();
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (signal.aborted) return;
          if (timedOut) throw timeoutError(s.kind, s.baseUrl, s.timeoutSec);
          throw connectionError(s.kind, s.baseUrl, err);
        }
        if (chunk.done) {
          finished = true;
          return;
        }
        received += chunk.value.byteLength;
        // The finally below closes the connection, so the engine stops sending too.
        if (received > maxBytes) throw tooLarge(maxBytes);
        yield chunk.value;
      }
    } finally {
      release();
      // Closing early (stop, parse error) must drop the connection, or the engine keeps generating.
      if (!finished) ctrl.abort();
    }
  })();
}

/** A small JSON request (model checks), read up to the JSON cap. */
export async function requestJson(s: EngineSettings, url: string, payload: unknown, fetchImpl: Fetch = fetch): Promise<unknown> {
  const what = new URL(url).pathname;
  const cap: StreamCap = { maxBytes: engineLimits(s).maxJsonBytes, tooLarge: (max) => replyTooLargeError(s.kind, s.baseUrl, 'body', max, what) };
  const chunks: Uint8Array[] = [];
  for await (const c of await requestStream(s, url, payload, new AbortController().signal, fetchImpl, cap)) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedStreamError(s.kind, s.baseUrl, `expected JSON from ${url}`);
  }
}
