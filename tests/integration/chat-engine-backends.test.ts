/** The engine backend against a local fake Ollama / OpenAI-compatible server on 127.0.0.1. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatBackend, ChatRequest } from '../../src/main/core/chat/chat-types';
import { OllamaBackend } from '../../src/main/core/chat/ollama-backend';
import { OpenAiBackend } from '../../src/main/core/chat/openai-backend';
import { refusedUrl, startEngineServer, type EngineServer } from '../support/engine-server';

let server: EngineServer;
const fakeImage = async () => 'aGVsbG8=';

const request: ChatRequest = {
  imagePath: '/photos/red.png',
  system: 'BLIP says: "a red square"',
  turns: [
    { role: 'user', text: 'What is this?' },
    { role: 'assistant', text: 'A red square.' },
    { role: 'user', text: 'Tell a story about it' },
  ],
  sampling: { temperature: 0.2, topP: 0.9, maxNewTokens: 64 },
};

function make(kind: 'ollama' | 'openai', opts: { baseUrl?: string; model?: string; timeoutSec?: number } = {}): ChatBackend {
  const settings = { baseUrl: opts.baseUrl ?? server.baseUrl, model: opts.model ?? 'llava:7b', timeoutSec: opts.timeoutSec ?? 10 };
  return kind === 'ollama' ? new OllamaBackend(settings, fakeImage) : new OpenAiBackend(settings, fakeImage);
}

beforeAll(async () => {
  server = await startEngineServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.fault = null;
  server.tokenDelayMs = 0;
  server.tokens = ['The', ' photo', ' shows', ' a', ' red', ' square', '.'];
});

describe.each(['ollama', 'openai'] as const)('%s backend', (kind) => {
  it('streams the answer in order and reports it complete', async () => {
    const seen: string[] = [];
    const result = await make(kind).generate(request, (t) => seen.push(t), new AbortController().signal);
    expect(seen).toEqual(server.tokens);
    expect(result.text).toBe('The photo shows a red square.');
    expect(result.stopped).toBe(false);
    expect(result.tokens).toBe(7);
    expect(result.firstTokenMs).not.toBeNull();
  });

  it('sends the grounding system prompt, the history, sampling settings and the image on the first user turn', async () => {
    await make(kind).generate(request, () => {}, new AbortController().signal);
    const body = server.requests.at(-1)!.body as { messages: Record<string, unknown>[]; options?: Record<string, unknown>; temperature?: number };
    expect(body.messages[0]).toMatchObject({ role: 'system', content: request.system });
    expect(body.messages).toHaveLength(4);
    if (kind === 'ollama') {
      expect(body.messages[1]).toMatchObject({ role: 'user', content: 'What is this?', images: ['aGVsbG8='] });
      expect(body.messages[3]!['images']).toBeUndefined();
      expect(body.options).toMatchObject({ temperature: 0.2, top_p: 0.9, num_predict: 64 });
    } else {
      expect(body.messages[1]).toMatchObject({
        role: 'user',
        content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,aGVsbG8=' } }],
      });
      expect(body.messages[3]).toEqual({ role: 'user', content: 'Tell a story about it' });
      expect(body.temperature).toBe(0.2);
    }
  });

  it('stopping closes the request and keeps what arrived', async () => {
    server.tokenDelayMs = 40;
    server.tokens = Array.from({ length: 50 }, (_, i) => ` w${i}`);
    const ctrl = new AbortController();
    const seen: string[] = [];
    const result = await make(kind).generate(
      request,
      (t) => {
        seen.push(t);
        if (seen.length === 3) ctrl.abort();
      },
      ctrl.signal,
    );
    expect(result.stopped).toBe(true);
    expect(seen).toHaveLength(3);
    expect(result.text).toBe(' w0 w1 w2');
    await server.settled();
    const rec = server.requests.at(-1)!;
    expect(rec.closedEarly).toBe(true);
    expect(rec.tokensSent).toBeLessThan(10);
  });

  it('connection refused names the address and what to do', async () => {
    const backend = make(kind, { baseUrl: await refusedUrl() });
    await expect(backend.generate(request, () => {}, new AbortController().signal)).rejects.toMatchObject({
      code: 'engine_unreachable',
      message: expect.stringContaining('connection refused'),
    });
    expect((await backend.check()).ok).toBe(false);
  });

  it('a missing model is a clear 404 error', async () => {
    const err = await make(kind, { model: 'nope:1b' })
      .generate(request, () => {}, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'engine_model_missing' });
    expect((err as Error).message).toContain("no model 'nope:1b'");
    if (kind === 'ollama') expect((err as Error).message).toContain('ollama pull nope:1b');
    expect((await make(kind, { model: 'nope:1b' }).check()).ok).toBe(false);
  });

  it('a text-only model says it cannot look at images', async () => {
    await expect(make(kind, { model: 'llama3:8b' }).generate(request, () => {}, new AbortController().signal)).rejects.toMatchObject({
      code: 'engine_no_vision',
      message: expect.stringContaining('cannot look at images'),
    });
  });

  it('a malformed stream is an error, not a silent partial answer', async () => {
    server.fault = 'malformed';
    await expect(make(kind).generate(request, () => {}, new AbortController().signal)).rejects.toMatchObject({ code: 'engine_stream' });
    server.fault = 'truncate';
    await expect(make(kind).generate(request, () => {}, new AbortController().signal)).rejects.toMatchObject({
      code: 'engine_stream',
      message: expect.stringContaining('ended before the answer was complete'),
    });
  });

  it('a stalled engine times out', async () => {
    server.tokenDelayMs = 1500;
    await expect(make(kind, { timeoutSec: 1 }).generate(request, () => {}, new AbortController().signal)).rejects.toMatchObject({
      code: 'engine_timeout',
    });
  });

  it('check() reports a running engine with the model', async () => {
    const res = await make(kind).check();
    expect(res.ok).toBe(true);
    expect(res.message).toContain(server.baseUrl);
  });
});

it('ollama check() flags a model without vision', async () => {
  const res = await make('ollama', { model: 'llama3:8b' }).check();
  expect(res).toMatchObject({ ok: false, message: expect.stringContaining('cannot look at images') });
});
