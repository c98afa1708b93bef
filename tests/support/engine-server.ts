/**
 * A fake LLaVA engine on 127.0.0.1 that speaks both wire formats Tandem supports, as their documentation
 * describes them:
 *  - Ollama: POST /api/chat → NDJSON lines `{"message":{"role":"assistant","content":"…"},"done":false}` and a
 *    last line with `"done":true` and counts; POST /api/show → model details with `capabilities`;
 *    a missing model is 404 `{"error":"model \"x\" not found, try pulling it first"}`.
 *  - OpenAI-compatible: POST /v1/chat/completions with `stream: true` → server-sent events
 *    `data: {"choices":[{"delta":{"content":"…"}}]}` and `data: [DONE]`; GET /v1/models; a missing model is 404
 *    `{"error":{"message":…,"code":"model_not_found"}}`.
 * Faults per test: a garbage line mid-stream, a stream cut before it is complete, slow tokens (to stop), and
 * replies without end (to test Tandem's caps): a line that never ends, tokens that never end, frames that carry
 * no text forever, a huge error body, a huge JSON body. Those send until the client closes the connection or
 * `hugeBytes` went out, whichever comes first.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EngineModel {
  /** Vision-capable (LLaVA) or text-only. */
  vision: boolean;
}

export type EngineFault =
  | 'malformed'
  | 'truncate'
  /** The answer's first line never ends (no newline). */
  | 'long-line'
  /** Tokens, cycling through `tokens`, forever. */
  | 'endless'
  /** Well-formed frames with empty text, forever. */
  | 'endless-empty'
  /** Chat requests fail with HTTP 500 and an error body of `hugeBytes`. */
  | 'huge-error'
  /** /api/show and /v1/models answer with a JSON body of `hugeBytes`. */
  | 'huge-json'
  | null;

export interface EngineRequest {
  method: string;
  url: string;
  body: unknown;
  /** True when the client closed the connection before the answer was complete (a stopped answer). */
  closedEarly: boolean;
  /** Tokens written before the stream ended or was closed. */
  tokensSent: number;
  /** Body bytes written (counted for the endless faults). */
  bytesSent: number;
}

export interface EngineServer {
  baseUrl: string;
  requests: EngineRequest[];
  models: Map<string, EngineModel>;
  /** What the next answers say, one streamed piece per entry. */
  tokens: string[];
  /** Delay before each streamed piece. */
  tokenDelayMs: number;
  fault: EngineFault;
  /** How much the endless faults send at most (default 400 MB), so a client that never stops cannot hang a test. */
  hugeBytes: number;
  /** Resolves when the request in flight has ended (finished or closed by the client). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when the socket can take more, or the client went away. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes `head`, then `filler` over and over, with backpressure, until `maxBytes` went out or the client closed
 * the connection (recorded as closedEarly).
 */
async function flood(res: ServerResponse, record: EngineRequest, head: string, filler: string, maxBytes: number): Promise<void> {
  let closed = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      closed = true;
      record.closedEarly = true;
    }
  });
  const block = Buffer.from(filler.repeat(Math.max(1, Math.floor(65536 / Math.max(1, filler.length)))));
  record.bytesSent += Buffer.byteLength(head);
  if (!res.write(head)) await drained(res);
  while (!closed && record.bytesSent < maxBytes) {
    record.bytesSent += block.length;
    if (!res.write(block)) await drained(res);
  }
  if (!closed) res.end();
}

type ChatBody = { model?: string; messages?: { images?: unknown; content?: unknown }[] };

function hasImage(body: ChatBody): boolean {
  return (body.messages ?? []).some(
    (m) => (Array.isArray(m.images) && m.images.length > 0) || (Array.isArray(m.content) && m.content.some((c) => (c as { type?: string }).type === 'image_url')),
  );
}

export async function startEngineServer(): Promise<EngineServer> {
  const inFlight = new Set<Promise<void>>();
  const state: Omit<EngineServer, 'baseUrl' | 'close' | 'settled'> = {
    requests: [],
    models: new Map([
      ['llava:7b', { vision: true }],
      ['llama3:8b', { vision: false }],
    ]),
    tokens: ['The', ' photo', ' shows', ' a', ' red', ' square', '.'],
    tokenDelayMs: 0,
    fault: null,
    hugeBytes: 400 * 1024 * 1024,
  };

  async function stream(
    res: ServerResponse,
    record: EngineRequest,
    frame: (piece: string, i: number) => string,
    end: () => string,
    garbage: string,
  ): Promise<void> {
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        record.closedEarly = true;
      }
    });
    if (state.fault === 'endless-empty') return flood(res, record, '', frame('', 1), state.hugeBytes);
    const endless = state.fault === 'endless';
    for (let i = 0; endless ? record.bytesSent < state.hugeBytes : i < state.tokens.length; i++) {
      if (state.tokenDelayMs) await sleep(state.tokenDelayMs);
      if (closed) return;
      if (endless) {
        const text = frame(state.tokens[i % state.tokens.length]!, i);
        record.bytesSent += Buffer.byteLength(text);
        record.tokensSent++;
        if (!res.write(text)) await drained(res);
        continue;
      }
      if (state.fault === 'malformed' && i === 2) {
        res.write(garbage);
      }
      res.write(frame(state.tokens[i]!, i));
      record.tokensSent++;
      if (state.fault === 'truncate' && i === 2) {
        res.end();
        return;
      }
    }
    if (!closed) res.end(end());
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const record: EngineRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body, closedEarly: false, tokensSent: 0, bytesSent: 0 };
    state.requests.push(record);
    const chat = (body ?? {}) as ChatBody;
    const model = typeof chat.model === 'string' ? state.models.get(chat.model) : undefined;
    const isChat = req.method === 'POST' && (req.url === '/api/chat' || req.url === '/v1/chat/completions');
    const isCheck = (req.method === 'POST' && req.url === '/api/show') || (req.method === 'GET' && req.url === '/v1/models');
    if (state.fault === 'huge-error' && isChat) {
      res.writeHead(500, { 'content-type': 'application/json' });
      return flood(res, record, '{"error":"', 'out of memory ', state.hugeBytes);
    }
    if (state.fault === 'huge-json' && isCheck) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return flood(res, record, '{"license":"', 'all rights reserved ', state.hugeBytes);
    }
    if (state.fault === 'long-line' && isChat) {
      res.writeHead(200, { 'content-type': req.url === '/api/chat' ? 'application/x-ndjson' : 'text/event-stream' });
      const head = req.url === '/api/chat' ? '{"message":{"role":"assistant","content":"' : 'data: {"choices":[{"delta":{"content":"';
      return flood(res, record, head, 'la ', state.hugeBytes);
    }

    if (req.method === 'POST' && req.url === '/api/show') {
      if (!model) return json(res, 404, { error: `model '${chat.model}' not found` });
      return json(res, 200, { details: { family: 'llama', families: model.vision ? ['llama', 'clip'] : ['llama'] }, capabilities: model.vision ? ['completion', 'vision'] : ['completion'] });
    }
    if (req.method === 'POST' && req.url === '/api/chat') {
      if (!model) return json(res, 404, { error: `model "${chat.model}" not found, try pulling it first` });
      if (!model.vision && hasImage(chat)) return json(res, 500, { error: 'this model is missing data required for image input' });
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const created_at = new Date().toISOString();
      return stream(
        res,
        record,
        (piece) => `${JSON.stringify({ model: chat.model, created_at, message: { role: 'assistant', content: piece }, done: false })}\n`,
        () =>
          `${JSON.stringify({ model: chat.model, created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: state.tokens.length, prompt_eval_count: 42 })}\n`,
        'this is not json\n',
      );
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      return json(res, 200, { object: 'list', data: [...state.models.keys()].map((id) => ({ id, object: 'model' })) });
    }
    if (req.method === 'POST' && req.url === '/v1/chat/completions') {
      if (!model) return json(res, 404, { error: { message: `The model \`${chat.model}\` does not exist.`, type: 'invalid_request_error', code: 'model_not_found' } });
      if (!model.vision && hasImage(chat)) return json(res, 400, { error: { message: `${chat.model} is not a multimodal model`, type: 'invalid_request_error' } });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const id = 'chatcmpl-1';
      return stream(
        res,
        record,
        (piece, i) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: piece } : { content: piece }, finish_reason: null }] })}\n\n`,
        () => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`,
        'data: this is not json\n\n',
      );
    }
    json(res, 404, { error: `no route ${req.method} ${req.url}` });
  }

  const server = createServer((req, res) => {
    const p = handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) });
      else res.destroy();
    });
    const tracked = new Promise<void>((resolve) => res.on('close', () => resolve()));
    inFlight.add(tracked);
    void Promise.all([p, tracked]).finally(() => inFlight.delete(tracked));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}`,
    settled: async () => {
      await Promise.all([...inFlight]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** An address where nothing listens: a port that was just free. */
export async function refusedUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
