/**
 * Text the CLI did not write itself (EXIF captions, file names, model answers) reaches the terminal without
 * anything that drives it, while `--json` keeps it exact; names that are not UTF-8 are reported, not lost.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineServer, type EngineServer } from '../support/engine-server';
import { tempDir } from '../support/temp-dirs';

const BIN = resolve(import.meta.dirname, '../../bin/tandem.js');
// Clears the screen, sets the window title, writes the clipboard (OSC 52), then a C1 CSI and a bidi override.
const EVIL_CAPTION = 'Sunset \x1b[2J\x1b]0;owned\x07 over the bay \x1b]52;c;ZXZpbA==\x07 end';
const EVIL_NAME = 'harbour \x1b[31mred\x1b[0m \u202Egnp.png';
// Terminal-driving characters: C0 but \n and \t, DEL, C1, bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let tmp: { dir: string; cleanup: () => void };
let dataDir: string;
let photos: string;
let server: EngineServer;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Async spawn: the fake engine lives in this process, so the event loop must keep running. */
function tandem(args: string[], input: string | null = null): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args, '--data-dir', dataDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(input ?? undefined);
  });
}

beforeAll(async () => {
  tmp = tempDir('tandem-cli-untrusted-');
  dataDir = join(tmp.dir, 'data');
  photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  const red = sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 210, g: 20, b: 20 } } });
  await red.clone().jpeg().withExif({ IFD0: { ImageDescription: EVIL_CAPTION } }).toFile(join(photos, 'sunset.jpg'));
  await red.clone().png().toFile(join(photos, EVIL_NAME));
  // Names that are not UTF-8 (Latin-1 'é' as the single byte 0xe9, a stray 0xff): a photo and a folder.
  const png = await red.clone().png().toBuffer();
  writeFileSync(Buffer.concat([Buffer.from(`${photos}/caf`), Buffer.from([0xe9]), Buffer.from('.png')]), png);
  mkdirSync(Buffer.concat([Buffer.from(`${photos}/trip-`), Buffer.from([0xff])]));
  server = await startEngineServer();
});
afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

describe('untrusted text on the terminal', () => {
  it('index reports names that are not valid UTF-8, in text and JSON', async () => {
    const r = await tandem(['index', photos]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Indexed: 2 files: 2 ok/);
    expect(r.stdout).toContain('2 files or folders skipped: names are not valid UTF-8');
    expect(r.stdout).toContain('  skipped: caf\\xe9.png');
    expect(r.stdout).toContain('  skipped: trip-\\xff/');
    expect(r.stdout + r.stderr).not.toMatch(UNSAFE);
    const again = await tandem(['index', photos, '--json']);
    const out = JSON.parse(again.stdout) as { counts: { invalidNames: number; invalidNameExamples: string[] } };
    expect(out.counts.invalidNames).toBe(2);
    expect(out.counts.invalidNameExamples.sort()).toEqual(['caf\\xe9.png', 'trip-\\xff/']);
  });

  it('search, show and status print captions and file names without escape sequences; --json keeps them exact', async () => {
    const s = await tandem(['search', 'sunset']);
    expect(s.stdout).toMatch(/sunset\.jpg {2}“Sunset \?\[2J\?\]0;owned\? over the bay/);
    expect(s.stdout).not.toMatch(UNSAFE);
    const json = JSON.parse((await tandem(['search', 'sunset', '--json'])).stdout) as { items: { id: number; caption: string }[] };
    expect(json.items[0]!.caption).toBe(EVIL_CAPTION);

    const show = await tandem(['show', String(json.items[0]!.id)]);
    expect(show.stdout).toContain('file');
    expect(show.stdout).not.toMatch(UNSAFE);
    const detail = JSON.parse((await tandem(['show', String(json.items[0]!.id), '--json'])).stdout) as { caption: string };
    expect(detail.caption).toBe(EVIL_CAPTION);

    const byName = await tandem(['search', 'harbour']);
    expect(byName.stdout).toContain('harbour ?[31mred?[0m ?gnp.png');
    expect(byName.stdout).not.toMatch(UNSAFE);
    const named = JSON.parse((await tandem(['search', 'harbour', '--json'])).stdout) as { items: { fileName: string }[] };
    expect(named.items[0]!.fileName).toBe(EVIL_NAME);

    const status = await tandem(['status']);
    expect(status.stdout).not.toMatch(UNSAFE);
  });

  it('error messages that quote a path are made safe too', async () => {
    const r = await tandem(['show', join(tmp.dir, 'elsewhere \x1b[2J.jpg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('elsewhere ?[2J.jpg');
    expect(r.stderr).not.toMatch(UNSAFE);
  });

  it('chat streams a model answer without its escape sequences; --json (NDJSON) keeps the exact answer', async () => {
    server.tokens = ['Clear \x1b[2J', 'sky\x1b]0;owned\x07', ' \u202Eevil\u2069', ' \x9b31m', '\r\nend'];
    const args = ['chat', join(photos, EVIL_NAME), '--backend', 'ollama', '--base-url', server.baseUrl, '--model', 'llava:7b', '--route', 'llava'];
    const r = await tandem(args, 'Tell me a story\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[LLaVA · ollama:llava:7b] Clear ?[2Jsky?]0;owned? ?evil? ?31m\nend');
    expect(r.stdout).not.toMatch(UNSAFE);
    expect(r.stderr).toContain('Talking about harbour ?[31mred?[0m ?gnp.png');
    expect(r.stderr).not.toMatch(UNSAFE);
    const json = await tandem([...args, '--json'], 'Tell me another\n');
    expect((JSON.parse(json.stdout) as { answer: string }).answer).toBe(server.tokens.join(''));
  });
});
