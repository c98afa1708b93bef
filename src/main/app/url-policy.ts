/**
 * URL checks the shell applies to navigation, new windows and IPC senders.
 * Kept free of `electron` so they are unit-tested under Node.
 */

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * True when `candidate` is our page: the same index.html for a file: app URL (query and hash ignored),
 * the same origin for the dev server.
 */
export function isAppUrl(candidate: string, appUrl: string): boolean {
  const c = parse(candidate);
  const a = parse(appUrl);
  if (!c || !a) return false;
  if (a.protocol === 'file:') return c.protocol === 'file:' && c.pathname === a.pathname;
  return c.origin === a.origin;
}

/** Only web links may leave the app for the user's browser; never file:, javascript:, custom schemes. */
export function isExternalWebUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && (u.protocol === 'https:' || u.protocol === 'http:');
}
