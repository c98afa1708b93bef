/**
 * URL checks the shell applies to navigation, new windows, IPC senders and permission checks.
 * Kept free of `electron` so they are unit-tested under Node.
 */

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** A dev server is trusted as a whole origin; every other page is trusted down to its exact file. */
function isWebOrigin(u: URL): boolean {
  return u.protocol === 'http:' || u.protocol === 'https:';
}

/**
 * Scheme, host and port, compared field by field: Node's URL gives every non-web scheme (app:, file:,
 * tandem:) the opaque origin "null", so comparing `origin` would make all of them equal to each other.
 */
function sameSite(c: URL, a: URL): boolean {
  return c.protocol === a.protocol && c.host === a.host && c.username === '' && c.password === '';
}

/**
 * True when `candidate` is our page. For the dev server (http/https) any path of its origin; otherwise
 * (`app://tandem/index.html`, or a file: URL) the same scheme, host and path, query and hash ignored.
 */
export function isAppUrl(candidate: string, appUrl: string): boolean {
  const c = parse(candidate);
  const a = parse(appUrl);
  if (!c || !a || !sameSite(c, a)) return false;
  return isWebOrigin(a) || c.pathname === a.pathname;
}

/**
 * True when `origin` (as Chromium reports it to permission handlers: `app://tandem`, `http://localhost:5173`)
 * is the origin our page is served from. A full URL is accepted too and judged by its origin.
 */
export function isAppOrigin(origin: string, appUrl: string): boolean {
  const c = parse(origin);
  const a = parse(appUrl);
  return c !== null && a !== null && sameSite(c, a) && c.host !== '';
}

/** Only web links may leave the app for the user's browser; never file:, javascript:, custom schemes. */
export function isExternalWebUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && isWebOrigin(u);
}
