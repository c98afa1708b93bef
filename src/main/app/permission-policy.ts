import { isAppOrigin } from './url-policy';

/**
 * What the page may use of the web platform's permission-gated features. Deny by default: the photo
 * annotator needs no camera, microphone, location, notifications, MIDI, HID, USB, serial or file-system
 * handles. The one exception is writing plain text to the clipboard (the chat panel's "copy" button).
 * Kept free of `electron` so it is unit-tested under Node; the shell wires it into both
 * `session.setPermissionRequestHandler` and `session.setPermissionCheckHandler`.
 */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export interface PermissionQuery {
  /** Electron's permission name, e.g. 'media', 'clipboard-sanitized-write'. */
  permission: string;
  /** The origin (check handler) or URL (request handler) asking; empty when Electron does not say. */
  requestingOrigin: string;
  /** False for iframes: only our own top-level page is ever granted anything. */
  isMainFrame: boolean;
}

export function isPermissionAllowed(query: PermissionQuery, appUrl: string): boolean {
  return ALLOWED_PERMISSIONS.has(query.permission) && query.isMainFrame && isAppOrigin(query.requestingOrigin, appUrl);
}
