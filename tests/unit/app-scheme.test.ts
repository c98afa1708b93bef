import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_INDEX_URL, appFilePath, appResponse } from '../../src/main/app/app-scheme';

const CSP = "default-src 'self'";
let base: string;
let rendererDir: string;

beforeAll(() => {
  // <base>/renderer is served; <base>/secret.txt sits right beside it and must stay out of reach.
  base = mkdtempSync(join(tmpdir(), 'tandem-app-scheme-'));
  rendererDir = join(base, 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Tandem</title>');
  writeFileSync(join(rendererDir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(rendererDir, 'assets', 'my photo.svg'), '<svg/>');
  writeFileSync(join(base, 'secret.txt'), 'secret');
  mkdirSync(join(base, 'renderer-evil'));
  writeFileSync(join(base, 'renderer-evil', 'x.js'), 'evil');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('appFilePath', () => {
  it('maps app://tandem/<path> into the renderer folder', () => {
    expect(appFilePath(rendererDir, APP_INDEX_URL)).toBe(join(rendererDir, 'index.html'));
    expect(appFilePath(rendererDir, 'app://tandem/')).toBe(join(rendererDir, 'index.html'));
    expect(appFilePath(rendererDir, 'app://tandem/assets/index-abc.js?v=1#x')).toBe(join(rendererDir, 'assets', 'index-abc.js'));
    expect(appFilePath(rendererDir, 'app://tandem/assets/my%20photo.svg')).toBe(join(rendererDir, 'assets', 'my photo.svg'));
  });

  it('keeps dot segments inside the folder: URL parsing clamps them at the root, as Chromium does', () => {
    const clamped = ['app://tandem/../secret.txt', 'app://tandem/assets/../../secret.txt', 'app://tandem/%2e%2e/secret.txt', 'app://tandem/../renderer-evil/x.js'];
    for (const url of clamped) {
      const file = appFilePath(rendererDir, url);
      expect(file === null || file.startsWith(join(rendererDir, '/')), `${url} -> ${file}`).toBe(true);
    }
  });

  it('refuses what decoding would turn into a way out (encoded slashes, backslashes, NUL, bad escapes)', () => {
    const escapes = [
      'app://tandem/..%2fsecret.txt',
      'app://tandem/..%2Fsecret.txt',
      'app://tandem/assets%2f..%2f..%2fsecret.txt',
      'app://tandem/..%5csecret.txt',
      'app://tandem/assets\\..\\..\\secret.txt',
      'app://tandem/%2fetc%2fpasswd',
      'app://tandem//etc/passwd',
      'app://tandem/index.html%00.js',
      'app://tandem/%E0%A4%A',
    ];
    for (const url of escapes) expect(appFilePath(rendererDir, url), url).toBeNull();
  });

  it('refuses other hosts, schemes and garbage', () => {
    for (const url of ['app://evil/index.html', 'app://user@tandem/index.html', 'tandem://tandem/index.html', 'file:///index.html', 'nonsense']) {
      expect(appFilePath(rendererDir, url), url).toBeNull();
    }
  });
});

describe('appResponse', () => {
  const opts = (): { rendererDir: string; contentSecurityPolicy: string } => ({ rendererDir, contentSecurityPolicy: CSP });

  it('serves the page with its content type and the CSP as a response header', async () => {
    const res = await appResponse(opts(), APP_INDEX_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>Tandem</title>');

    const js = await appResponse(opts(), 'app://tandem/assets/index-abc.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('console.log(1)');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await appResponse(opts(), APP_INDEX_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await appResponse(opts(), APP_INDEX_URL, 'POST')).status).toBe(405);
  });

  it('answers 404, still with the CSP, for traversal, missing files and folders', async () => {
    for (const url of ['app://tandem/../secret.txt', 'app://tandem/%2e%2e/secret.txt', 'app://tandem/missing.js', 'app://tandem/assets']) {
      const res = await appResponse(opts(), url);
      expect(res.status, url).toBe(404);
      expect(res.headers.get('content-security-policy'), url).toBe(CSP);
      expect(await res.text(), url).not.toContain('secret');
    }
  });
});
