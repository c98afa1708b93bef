import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * The built renderer is served from `app://tandem/…`, a privileged standard scheme, instead of file:.
 * A file: page shares its origin with every file on disk and cannot carry response headers; our own
 * scheme gives the page one origin of its own, serves only the renderer folder, and sends the CSP as
 * a header. Kept free of `electron` so path handling and responses are unit-tested under Node.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'tandem';
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file under `rendererDir` that an `app://tandem/<path>` URL names, or null when the URL is not ours
 * or would leave the folder (`..`, encoded slashes or backslashes, NUL, an absolute path after decoding).
 */
export function appFilePath(rendererDir: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST || u.username !== '' || u.password !== '') return null;
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (path === '/' || path === '') path = '/index.html';
  // Decoding can reintroduce what URL parsing normalised away (`%2e%2e%2f`); refuse rather than repair.
  if (path.includes('\\') || path.includes('\0')) return null;
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.' || s === '')) return null;
  const root = resolve(rendererDir);
  const file = resolve(root, ...segments);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || !file.startsWith(root + sep)) return null;
  return file;
}

export interface AppResponseOptions {
  /** The built renderer folder (`out/renderer`, inside app.asar when packaged). */
  rendererDir: string;
  /** Sent on every response, so it applies whichever document the frame ends up on. */
  contentSecurityPolicy: string;
}

function textResponse(status: number, message: string, csp: string): Response {
  return new Response(message, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-security-policy': csp, 'x-content-type-options': 'nosniff' },
  });
}

/** Answers one request on the app scheme: a file of the renderer folder with the CSP header, or an error. */
export async function appResponse(opts: AppResponseOptions, url: string, method = 'GET'): Promise<Response> {
  const csp = opts.contentSecurityPolicy;
  if (method !== 'GET' && method !== 'HEAD') return textResponse(405, 'Method not allowed', csp);
  const file = appFilePath(opts.rendererDir, url);
  if (!file) return textResponse(404, 'Not found', csp);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return textResponse(404, 'Not found', csp);
  }
  return new Response(method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      // The files change only with an app update, which restarts the app; no caching subtleties needed.
      'cache-control': 'no-cache',
    },
  });
}
