/**
 * Chat through the core with the engine backend pointed at the fake Ollama/OpenAI server: persistence,
 * streaming events, stop, grounding, routing to BLIP (the hand-set colour VQA model), search.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/api';
import { createCoreHandlers, dispatch } from '../../src/main/core/api-handlers';
import { openCore, type Core } from '../../src/main/core/core';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { refusedUrl, startEngineServer, type EngineServer } from '../support/engine-server';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let core: Core;
let server: EngineServer;
let photoId: number;

async function openWithEngine(): Promise<Core> {
  const c = openCore({ dataDir });
  c.settings.set({ chatBackend: 'ollama', engineBaseUrl: server.baseUrl, engineModel: 'llava:7b', engineTimeoutSec: 10, vqaModel: 'colour-vqa' });
  return c;
}

beforeAll(async () => {
  tmp = tempDir('tandem-chat-');
  dataDir = join(tmp.dir, 'data');
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toFile(join(photos, 'red-square.png'));
  server = await startEngineServer();
  core = await openWithEngine();
  await core.library.addRoot(photos);
  await core.library.scan();
  photoId = core.search.list({}, 'name', 0, 10).items[0]!.id;
  core.captions.add(photoId, 'model:blip-base', 'a red square on a wall');
});

afterAll(async () => {
  await core?.close();
  await server?.close();
  tmp?.cleanup();
});

beforeEach(() => {
  server.tokenDelayMs = 0;
  server.fault = null;
  server.tokens = ['A', ' bold', ' crimson', ' square', ' glows', '.'];
});

function collect(c: Core): { tokens: { id: number; token: string }[]; done: ChatMessage[]; off: () => void } {
  const tokens: { id: number; token: string }[] = [];
  const done: ChatMessage[] = [];
  const a = c.events.on('chat.token', (e) => tokens.push({ id: e.assistantMessageId, token: e.token }));
  const b = c.events.on('chat.done', (e) => done.push(e.message));
  return { tokens, done, off: () => (a(), b()) };
}

describe('chat service', () => {
  it('replies at once with ids, streams tokens in order, and stores the answer with its model', async () => {
    const seen = collect(core);
    const env = await dispatch(createCoreHandlers(core), 'chat.send', { photoId, text: 'Tell a story based on this image' });
    expect(env.ok).toBe(true);
    const reply = (env as { ok: true; value: { chatId: number; assistantMessageId: number; route: string } }).value;
    expect(reply.route).toBe('llava');
    const message = await core.chat.wait(reply.assistantMessageId);
    seen.off();
    expect(seen.tokens.map((t) => t.token)).toEqual(server.tokens);
    expect(seen.done).toHaveLength(1);
    expect(message).toMatchObject({ role: 'assistant', text: 'A bold crimson square glows.', model: 'ollama:llava:7b', route: 'llava', tokens: 6, stopped: false, error: null });
    expect(message.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('grounds LLaVA on BLIP: the system prompt carries the caption and earlier BLIP answers', async () => {
    core.answers.add(photoId, 'how many squares are there?', 'one', 'model:blip-vqa-base');
    await core.chat.ask({ photoId, text: 'Do you think this was painted in the past or the future?' });
    const body = server.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    const system = body.messages[0]!;
    expect(system.role).toBe('system');
    expect(system.content).toContain('a red square on a wall');
    expect(system.content).toContain('Q: how many squares are there? A: one');
  });

  it('continues the last chat with the earlier turns as history, and keeps it across restarts', async () => {
    const before = core.chat.list(photoId);
    expect(before).toHaveLength(1);
    await core.chat.ask({ photoId, text: 'And what would a child say about it?' });
    const body = server.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(body.messages[1]!.content).toBe('Tell a story based on this image');
    await core.close();
    core = await openWithEngine();
    const [chat] = core.chat.list(photoId);
    expect(chat!.title).toBe('Tell a story based on this image');
    expect(chat!.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'Tell a story based on this image'],
      ['assistant', 'A bold crimson square glows.'],
      ['user', 'Do you think this was painted in the past or the future?'],
      ['assistant', 'A bold crimson square glows.'],
      ['user', 'And what would a child say about it?'],
      ['assistant', 'A bold crimson square glows.'],
    ]);
    const fresh = core.chat.newChat(photoId);
    expect(core.chat.list(photoId)[0]!.id).toBe(fresh.id);
  });

  it('stop keeps what arrived, marks it stopped, and no token follows', async () => {
    server.tokenDelayMs = 50;
    server.tokens = Array.from({ length: 40 }, (_, i) => ` t${i}`);
    const seen = collect(core);
    let reply: { assistantMessageId: number } | null = null;
    const off = core.events.on('chat.token', () => {
      if (reply && seen.tokens.length === 2) core.chat.stop(reply.assistantMessageId);
    });
    reply = core.chat.send({ photoId, text: 'Describe the photo in detail' });
    const message = await core.chat.wait(reply.assistantMessageId);
    await new Promise((r) => setTimeout(r, 150));
    off();
    seen.off();
    expect(message.stopped).toBe(true);
    expect(message.text).toBe(' t0 t1');
    expect(seen.tokens).toHaveLength(2);
    await server.settled();
    expect(server.requests.at(-1)!.closedEarly).toBe(true);
  });

  it('chat text is searchable', () => {
    expect(core.search.search('crimson', {}, 0, 10).items.map((p) => p.id)).toEqual([photoId]);
  });

  it('a failed answer is stored with its error and left out of later history', async () => {
    core.settings.set({ engineBaseUrl: await refusedUrl() });
    const { message } = await core.chat.ask({ photoId, text: 'Why is it red?' });
    expect(message.error).toContain('connection refused');
    expect(message.text).toBe('');
    core.settings.set({ engineBaseUrl: server.baseUrl });
    await core.chat.ask({ photoId, text: 'What might happen next?' });
    const body = server.requests.at(-1)!.body as { messages: { content: string }[] };
    expect(body.messages.some((m) => m.content === 'Why is it red?')).toBe(false);
  });

  it('testBackend reports on the engine', async () => {
    const ok = await dispatch(createCoreHandlers(core), 'chat.testBackend', { backend: 'openai', baseUrl: server.baseUrl, model: 'llava:7b' });
    expect(ok).toMatchObject({ ok: true, value: { ok: true } });
    const missing = await dispatch(createCoreHandlers(core), 'chat.testBackend', { backend: 'ollama', model: 'nope' });
    expect(missing).toMatchObject({ ok: true, value: { ok: false, message: expect.stringContaining('ollama pull nope') } });
  });

  it('an embedded chat without the model installed is refused up front with the install command', async () => {
    core.settings.set({ chatBackend: 'embedded', chatModel: 'llava-interleave-qwen-0.5b' });
    const env = await dispatch(createCoreHandlers(core), 'chat.send', { photoId, text: 'Tell me a story' });
    expect(env).toMatchObject({ ok: false, error: { code: 'model_missing', message: expect.stringContaining('tandem models install llava-interleave-qwen-0.5b') } });
    core.settings.set({ chatBackend: 'ollama' });
  });

  it('a message longer than the cap is refused before anything is stored, on the core path the CLI uses too', () => {
    const stored = () => core.chat.store.listForPhoto(photoId).reduce((n, c) => n + core.chat.store.messages(c.id).length, 0);
    const before = stored();
    expect(() => core.chat.send({ photoId, text: 'why '.repeat(2_001) })).toThrow(/at most 8000 characters/);
    expect(stored()).toBe(before);
  });

  it('a BLIP question without the VQA model installed is refused up front', async () => {
    const env = await dispatch(createCoreHandlers(core), 'chat.send', { photoId, text: 'How many squares are there?' });
    expect(env).toMatchObject({ ok: false, error: { code: 'model_missing', message: expect.stringContaining("Model 'colour-vqa' is not installed") } });
  });

  it('routes a short factual question to BLIP VQA, stores it as an answer, and grounds the next LLaVA turn on it', async () => {
    await core.models.import(await ensureTestModel('colour-vqa'), { name: 'colour-vqa' });
    const seen = collect(core);
    const { reply, message } = await core.chat.ask({ photoId, text: 'What colour is the square?' });
    seen.off();
    expect(reply.route).toBe('blip');
    expect(message).toMatchObject({ route: 'blip', model: 'model:colour-vqa', text: 'red', error: null });
    expect(seen.tokens.map((t) => t.token)).toEqual(['red']);
    expect(core.answers.forPhoto(photoId).at(-1)).toMatchObject({ question: 'What colour is the square?', answer: 'red', model: 'model:colour-vqa' });
    await core.chat.ask({ photoId, text: 'Tell a story about it' });
    const body = server.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(body.messages[0]!.content).toContain('Q: What colour is the square? A: red');
    // Forcing the route overrides the automatic choice.
    const forced = await core.chat.ask({ photoId, text: 'What colour is the square?', route: 'llava' });
    expect(forced.reply.route).toBe('llava');
  });
});
