/** `tandem chat` (lines from stdin, piped) and `tandem ask --route`, against the fake engine on 127.0.0.1. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { refusedUrl, startEngineServer, type EngineServer } from '../support/engine-server';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let photo: string;
let server: EngineServer;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Async spawn: the fake engine lives in this process, so the event loop must keep running. */
function tandem(args: string[], input: string | null, onStdout?: (text: string, kill: () => void) => void): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args, '--data-dir', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, () => child.kill('SIGINT'));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
    if (input !== null) child.stdin.end(input);
  });
}

beforeAll(async () => {
  tmp = tempDir('tandem-chat-cli-');
  dataDir = join(tmp.dir, 'data');
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  photo = join(photos, 'red.png');
  await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: 220, g: 10, b: 10 } } }).png().toFile(photo);
  server = await startEngineServer();
  const indexed = await tandem(['index', photos], null);
  expect(indexed.code).toBe(0);
});
afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});
beforeEach(() => {
  server.tokenDelayMs = 0;
  server.tokens = ['A', ' scarlet', ' tile', '.'];
});

describe('tandem chat', () => {
  it('reads questions from piped stdin, streams each answer with the model that gave it, and persists the chat', async () => {
    const r = await tandem(['chat', photo, '--backend', 'ollama', '--base-url', server.baseUrl, '--model', 'llava:7b'], 'Tell a story based on this image\n\nWhat might happen next?\n');
    expect(r.stderr).toContain('Talking about red.png');
    expect(r.stdout.trim().split('\n')).toEqual(['[LLaVA · ollama:llava:7b] A scarlet tile.', '[LLaVA · ollama:llava:7b] A scarlet tile.']);
    expect(r.code).toBe(0);
    const again = await tandem(['chat', photo, '--backend', 'openai', '--base-url', `${server.baseUrl}/v1`, '--model', 'llava:7b', '--json'], 'Why is it red?\n');
    const out = JSON.parse(again.stdout) as { chatId: number; route: string; model: string; answer: string };
    expect(out).toMatchObject({ route: 'llava', model: 'openai:llava:7b', answer: 'A scarlet tile.' });
    const body = server.requests.at(-1)!.body as { messages: unknown[] };
    // system + two earlier exchanges + the new question: the last chat continued.
    expect(body.messages).toHaveLength(6);
    const search = await tandem(['search', 'scarlet', '--json'], null);
    expect((JSON.parse(search.stdout) as { total: number }).total).toBe(1);
  });

  it('Ctrl-C stops the answer within a token and keeps what arrived', async () => {
    server.tokenDelayMs = 60;
    server.tokens = Array.from({ length: 60 }, (_, i) => ` w${i}`);
    let killed = false;
    const r = await tandem(['chat', photo, '--backend', 'ollama', '--base-url', server.baseUrl, '--model', 'llava:7b', '--new'], 'Describe this photo in detail\n', (text, kill) => {
      if (!killed && text.includes(' w1')) {
        killed = true;
        kill();
      }
    });
    expect(r.stderr).toContain('(stopped)');
    expect(r.code).toBe(0);
    const words = r.stdout.trim().split(' ').length;
    expect(words).toBeLessThan(20);
    await server.settled();
    expect(server.requests.at(-1)!.closedEarly).toBe(true);
  });

  it('says clearly when the engine is not running, and exits 1', async () => {
    const r = await tandem(['chat', photo, '--backend', 'ollama', '--base-url', await refusedUrl()], 'Tell me a story\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot connect to the Ollama engine at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses a photo outside the library with a hint', async () => {
    const r = await tandem(['chat', join(tmp.dir, 'elsewhere.jpg')], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not in the library');
  });
});

describe('tandem ask --route', () => {
  it('auto sends a factual question to BLIP and an open one to LLaVA; both can be forced', async () => {
    const vqa = await ensureTestModel('colour-vqa');
    const blip = await tandem(['ask', photo, 'what colour is this photo?', '--model-dir', vqa, '--threads', '1'], null);
    expect(blip.stdout.trim()).toMatch(/^red {4}\(BLIP · /);
    const open = await tandem(['ask', photo, 'why might someone paint a wall this colour?', '--backend', 'ollama', '--base-url', server.baseUrl, '--llava-model', 'llava:7b'], null);
    expect(open.stdout.trim()).toBe('[LLaVA · ollama:llava:7b] A scarlet tile.');
    const forced = await tandem(['ask', photo, 'what colour is this photo?', '--route', 'llava', '--backend', 'ollama', '--base-url', server.baseUrl, '--llava-model', 'llava:7b', '--json'], null);
    expect(JSON.parse(forced.stdout)).toMatchObject({ route: 'llava', model: 'ollama:llava:7b' });
    const bad = await tandem(['ask', photo, 'hi', '--route', 'gpt'], null);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--route must be auto, blip or llava');
  });
});
