import { HubError, type HubRequestContext } from './hub-errors';

/**
 * Redirect rules for hub requests, followed by hand so they hold whatever `fetch` is plugged in:
 * the token goes only to the configured endpoint's origin (huggingface_hub likewise drops `authorization`
 * when a redirect leaves the hub's host, e.g. for the LFS storage CDN), and an https request is never
 * continued over plain http, where the URL, and any token a later hop would add, travel in clear.
 */

/** Redirect statuses that carry a `location` to follow (300, 304 and 305 do not). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export const MAX_REDIRECTS = 10;

/** The origin of an endpoint URL, or null when it is not one (then no request carries the token). */
export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** Whether a request to `url` may carry the token meant for `tokenOrigin`. */
export function mayCarryToken(url: string, tokenOrigin: string | null): boolean {
  return tokenOrigin !== null && originOf(url) === tokenOrigin;
}

/** Where a redirect from `from` leads; refuses non-http(s) targets and https→http downgrades. */
export function redirectTarget(from: string, location: string, ctx: HubRequestContext): string {
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new HubError('hub_http', `${ctx.endpoint} redirected ${ctx.path} to an address that is not a URL (${location.slice(0, 200)}).`);
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new HubError('hub_insecure_redirect', `${ctx.endpoint} redirected ${ctx.path} to a ${target.protocol} address; Tandem only follows http(s) redirects.`);
  }
  if (new URL(from).protocol === 'https:' && target.protocol === 'http:') {
    throw new HubError(
      'hub_insecure_redirect',
      `${ctx.endpoint} redirected ${ctx.path} from https to plain http (${target.host}), so Tandem stopped: the download would no longer be encrypted. If you use a mirror, check its address (HF_ENDPOINT / --endpoint).`,
    );
  }
  return target.toString();
}
