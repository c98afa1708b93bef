import { connectionError, httpError, malformedStreamError, serverMessageFrom, timeoutError, type EngineKind } from './engine-errors';

/** Where and how to reach an engine the user already runs (Ollama, llama.cpp server, vLLM, LM Studio). */
export interface EngineSettings {
  kind: EngineKind;
  /** e.g. http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp); a trailing /v1 is fine. */
  baseUrl: string;
  model: string;
  /** Longest wait for the first byte, and between two chunks of a stream. */
  timeoutSec: number;
}

export function trimBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

type Fetch = typeof fetch;

/**
 * POSTs (or GETs) JSON and hands back the body as a byte stream. The stream ends early, without an error,
 * when `signal` fires (the user stopped the answer); leaving the loop or aborting closes the connection, so
 * the engine stops generating too.
 */
export async function requestStream(
  s: EngineSettings,
  url: string,
  payload: unknown,
  signal: AbortSignal,
  fetchImpl: Fetch = fetch,
): Promise<AsyncIterable<Uint8Array>> {
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
    let body = '';
    try {
      body = await res.text();
    } catch {
      // the status alone must do
    }
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
    try {
      for (;;) {
        arm();
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          return;
        }
        yield value;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (timedOut) throw timeoutError(s.kind, s.baseUrl, s.timeoutSec);
      throw connectionError(s.kind, s.baseUrl, err);
    } finally {
      release();
      // Closing early (stop, parse error) must drop the connection, or the engine keeps generating.
      if (!finished) ctrl.abort();
    }
  })();
}

/** A small JSON request (model checks). */
export async function requestJson(s: EngineSettings, url: string, payload: unknown, fetchImpl: Fetch = fetch): Promise<unknown> {
  const chunks: Uint8Array[] = [];
  for await (const c of await requestStream(s, url, payload, new AbortController().signal, fetchImpl)) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformedStreamError(s.kind, s.baseUrl, `expected JSON from ${url}`);
  }
}
