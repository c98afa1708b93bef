// Pure (no Node, no DOM beyond the WHATWG URL parser), so the renderer, the contract and the core judge an
// engine address the same way.

export type EngineUrlCheck =
  | { ok: true; url: URL; /** The host as the user should read it: `192.168.1.20:11434`, `[fd00::1]`. */ host: string; thisMachine: boolean }
  | { ok: false; reason: string };

const EXAMPLE = 'e.g. http://127.0.0.1:11434';

/**
 * An engine address is an http(s) base URL with a host and nothing else that would change where requests go or
 * leak: no user:password (it would travel with every request and sit in the settings file), no query or fragment
 * (Tandem appends paths like /api/chat, which would land inside them).
 */
export function checkEngineUrl(raw: string): EngineUrlCheck {
  const text = raw.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: `The engine address must be a full http:// or https:// URL (${EXAMPLE}).` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `The engine address must start with http:// or https://, not ${url.protocol}// (${EXAMPLE}).` };
  }
  if (url.hostname === '') return { ok: false, reason: `The engine address needs a host (${EXAMPLE}).` };
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'The engine address must not contain a user name or password.' };
  }
  if (url.search !== '' || url.hash !== '' || text.endsWith('?') || text.endsWith('#')) {
    return { ok: false, reason: `The engine address is a base URL without ? or # parts (${EXAMPLE}).` };
  }
  return { ok: true, url, host: url.host, thisMachine: isThisMachine(url.hostname) };
}

/**
 * Whether a hostname names this machine by definition: `localhost`, 127.0.0.0/8 (any spelling the URL parser
 * accepts: `127.1`, `0x7f.0.0.1`, `2130706433`), `::1`, and IPv4-mapped 127.x (`::ffff:127.0.0.1`).
 *
 * Deliberately not counted: `0.0.0.0` and `::` (unspecified addresses: Linux and macOS connect them to this
 * machine, Windows refuses, and browsers treat them as a network target), `*.localhost` names (only some
 * resolvers map them to loopback; others ask DNS), and this machine's own LAN names or addresses (knowing them
 * needs OS APIs). Each of those gets the "photos will be sent to" notice: a needless notice costs a glance, a
 * missing one costs photos.
 */
export function isThisMachine(hostname: string): boolean {
  let host = hostname.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1); // `localhost.` is the same name, fully qualified
  if (host === 'localhost') return true;
  const canonical = canonicalHost(host);
  if (canonical === null) return false;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(canonical)) return true;
  // The URL parser writes IPv6 compressed and lowercase, so each loopback form has one spelling.
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** The WHATWG URL parser's spelling of a host (IPv4 dotted-decimal, IPv6 bracketed), or null if it is no host. */
function canonicalHost(host: string): string | null {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  try {
    return new URL(`http://${bracketed}/`).hostname;
  } catch {
    return null;
  }
}
