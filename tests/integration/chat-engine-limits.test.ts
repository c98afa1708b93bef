/**
 * An engine reply cannot run the main process out of CPU or memory: against the fake engine on 127.0.0.1, a line
 * that never ends, an answer that never ends, frames that never carry text, a huge error body and a huge JSON
 * body each end quickly with a clear error, the connection closed and the text so far kept (also in the stored
 * chat message). The fake engine would send 400 MB each time; the caps stop it after a small fraction of that.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatBackend, ChatRequest } from '../../src/main/core/chat/chat-types';
import { EngineReplyTooLargeError } from '../../src/main/core/chat/engine-errors';
import type { EngineLimits } from '../../src/main/core/chat/engine-limits';
import { ENGINE_LIMITS } from '../../src/main/core/chat/engine-limits';
import { OllamaBackend } from '../../src/main/core/chat/ollama-backend';
import { OpenAiBackend } from '../../src/main/core/chat/openai-backend';
import { openCore } from '../../src/main/core/core';
import { TandemError } from '../../src/main/core/errors';
import { startEngineServer, type EngineServer } from '../support/engine-server';
import { tempDir } from '../support/temp-dirs';

let server: EngineServer;
const fakeImage = async () => 'aGVsbG8=';

const request: ChatRequest = {
  imagePath: '/photos/red.png',
  system: 'BLIP says: "a red square"',
  turns: [{ role: 'user', text: 'Tell a story about it' }],
  sampling: { temperature: 0.2, topP: 0.9, maxNewTokens: 64 },
};

function make(kind: 'ollama' | 'openai', limits?: Partial<EngineLimits>): ChatBackend {
  const settings = { baseUrl: server.baseUrl, model: 'llava:7b', timeoutSec: 10, ...(limits ? { limits } : {}) };
  return kind === 'ollama' ? new OllamaBackend(settings, fakeImage) : new OpenAiBackend(settings, fakeImage);
}

async function failure(promise: Promise<unknown>): Promise<TandemError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TandemError);
    return err as TandemError;
  }
  throw new Error('expected a rejection');
}

/** The request the engine saw last, once it has ended on the engine's side too. */
async function lastRequest() {
  await server.settled();
  return server.requests.at(-1)!;
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
  it('a line that never ends stops at 1 MB with a clear error, in well under a second of work', async () => {
    server.fault = 'long-line';
    const t0 = performance.now();
    const err = await failure(make(kind).generate(request, () => {}, new AbortController().signal));
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(EngineReplyTooLargeError);
    expect((err as EngineReplyTooLargeError).limit).toBe('line');
    expect(err.message).toContain(`at ${server.baseUrl} sent a line longer than 1 MB`);
    expect(ms).toBeLessThan(3_000);
    const seen = await lastRequest();
    expect(seen.closedEarly).toBe(true);
    // What the engine got out before the close: the cap plus what was already in the socket buffers.
    expect(seen.bytesSent).toBeLessThan(32 * 1024 * 1024);
  });

  it('an answer that never ends stops at the answer cap and keeps every character up to it', async () => {
    server.fault = 'endless';
    server.tokens = ['word '.repeat(200)];
    const seen: string[] = [];
    const err = await failure(make(kind).generate(request, (t) => seen.push(t), new AbortController().signal));
    expect((err as EngineReplyTooLargeError).limit).toBe('answer');
    expect(err.message).toMatch(/passed 256 K characters.*kept the text that had arrived/);
    expect(seen.join('')).toHaveLength(ENGINE_LIMITS.maxAnswerChars);
    expect(seen.join('').startsWith('word word')).toBe(true);
    expect((await lastRequest()).closedEarly).toBe(true);
  });

  it('frames that never carry text stop at the stream cap', async () => {
    server.fault = 'endless-empty';
    // Lowered from 64 MB so the test moves 4 MB, not 64; the code path is the same.
    const maxStreamBytes = 4 * 1024 * 1024;
    const err = await failure(make(kind, { maxStreamBytes }).generate(request, () => {}, new AbortController().signal));
    expect((err as EngineReplyTooLargeError).limit).toBe('stream');
    expect(err.message).toContain('streamed more than 4 MB for one answer');
    const seen = await lastRequest();
    expect(seen.closedEarly).toBe(true);
    expect(seen.bytesSent).toBeLessThan(maxStreamBytes + 16 * 1024 * 1024);
  });

  it('a huge error body is read up to 64 KB: the status and the engine’s words still reach the user', async () => {
    server.fault = 'huge-error';
    const t0 = performance.now();
    const err = await failure(make(kind).generate(request, () => {}, new AbortController().signal));
    expect(err.code).toBe('engine_http');
    expect(err.message).toMatch(/answered HTTP 500: \{"error":"out of memory out of memory/);
    expect(err.message.length).toBeLessThan(1_000);
    expect(performance.now() - t0).toBeLessThan(3_000);
    const seen = await lastRequest();
    expect(seen.closedEarly).toBe(true);
    expect(seen.bytesSent).toBeLessThan(32 * 1024 * 1024);
  });

  it('check(): a huge JSON body is refused at the JSON cap, not read whole', async () => {
    server.fault = 'huge-json';
    const t0 = performance.now();
    const result = await make(kind).check();
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(/sent more than 8 MB for \/(api\/show|v1\/models); Tandem stopped reading it/);
    expect(performance.now() - t0).toBeLessThan(5_000);
    const seen = await lastRequest();
    expect(seen.closedEarly).toBe(true);
    expect(seen.bytesSent).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('the chat service', () => {
  it('stores the answer up to the cap, with the error, when the engine does not stop', async () => {
    const tmp = tempDir('tandem-chat-limits-');
    const photos = join(tmp.dir, 'photos');
    mkdirSync(photos);
    await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 0, b: 0 } } }).png().toFile(join(photos, 'red.png'));
    const core = openCore({ dataDir: join(tmp.dir, 'data') });
    try {
      core.settings.set({ chatBackend: 'ollama', engineBaseUrl: server.baseUrl, engineModel: 'llava:7b', engineTimeoutSec: 10 });
      await core.library.addRoot(photos);
      await core.library.scan();
      const photoId = core.search.list({}, 'name', 0, 10).items[0]!.id;
      server.fault = 'endless';
      server.tokens = ['abcd '.repeat(100)];
      const { message } = await core.chat.ask({ photoId, text: 'Tell a long story about this photo', route: 'llava' });
      expect(message.text).toHaveLength(ENGINE_LIMITS.maxAnswerChars);
      expect(message.error).toMatch(/passed 256 K characters/);
      expect(message.stopped).toBe(false);
      expect(core.chat.store.message(message.id).text).toHaveLength(ENGINE_LIMITS.maxAnswerChars);
    } finally {
      await core.close();
      tmp.cleanup();
    }
  });
});
