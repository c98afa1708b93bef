/** `tandem chat --base-url`: only http(s) addresses, and a one-line notice when the engine is on another machine. */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let photo: string;

/** Nothing is asked (empty stdin), so no engine needs to run: the address is only checked and announced. */
function chat(baseUrl: string): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'chat', photo, '--backend', 'ollama', '--base-url', baseUrl, '--data-dir', dataDir], { input: '', encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

beforeAll(async () => {
  tmp = tempDir('tandem-chat-url-');
  dataDir = join(tmp.dir, 'data');
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  photo = join(photos, 'red.png');
  await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 220, g: 10, b: 10 } } }).png().toFile(photo);
  const indexed = spawnSync(process.execPath, [BIN, 'index', photos, '--data-dir', dataDir], { encoding: 'utf8' });
  expect(indexed.status).toBe(0);
});
afterAll(() => tmp?.cleanup());

describe('tandem chat --base-url', () => {
  it('says on stderr, in one line, that photos go to another machine', () => {
    const r = chat('http://192.168.1.20:11434');
    expect(r.code).toBe(0);
    const notices = r.stderr.split('\n').filter((l) => l.includes('photos will be sent to'));
    expect(notices).toEqual(['Note: the engine is not on this computer: photos will be sent to 192.168.1.20:11434.']);
  });

  it('says nothing of the kind for an engine on this machine', () => {
    const r = chat('http://[::1]:11434');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('photos will be sent');
  });

  it('refuses a file: URL with the reason', () => {
    const r = chat('file:///etc/passwd');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--base-url: The engine address must start with http:// or https://, not file://');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
