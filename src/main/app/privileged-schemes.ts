import { protocol, type CustomScheme } from 'electron';
import { APP_SCHEME } from './app-scheme';
import { MEDIA_SCHEME } from './media-protocol';

/**
 * Every custom scheme the app serves, with its privileges. Electron's `protocol.registerSchemesAsPrivileged`
 * may be called only once, before `app` is ready, so the page scheme and the media scheme are registered
 * together here; media-protocol.ts's own registerMediaSchemeAsPrivileged is therefore not called.
 * Standard + secure: a real origin (relative URLs, localStorage) that counts as a secure context;
 * supportFetchAPI: fetch() and module scripts may load from it.
 */
export const PRIVILEGED_SCHEMES: readonly CustomScheme[] = [
  // The page itself: app://tandem/index.html and its assets.
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  // Photos and thumbnails by id (media-protocol.ts); stream lets <img> and <video> read large files progressively.
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
];

export function registerPrivilegedSchemes(): void {
  protocol.registerSchemesAsPrivileged([...PRIVILEGED_SCHEMES]);
}
