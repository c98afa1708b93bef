import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL } from '../../src/main/app/app-scheme';
import { ALLOWED_PERMISSIONS, isPermissionAllowed } from '../../src/main/app/permission-policy';

const app = APP_INDEX_URL;
const ours = { requestingOrigin: 'app://tandem', isMainFrame: true };

describe('isPermissionAllowed', () => {
  it('denies every powerful feature, even to our own page', () => {
    const denied = [
      'media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'hid', 'usb', 'serial', 'fileSystem',
      'clipboard-read', 'deprecated-sync-clipboard-read', 'display-capture', 'openExternal', 'pointerLock',
      'fullscreen', 'idle-detection', 'local-fonts', 'storage-access', 'window-management', 'unknown', '',
    ];
    for (const permission of denied) expect(isPermissionAllowed({ ...ours, permission }, app), permission).toBe(false);
  });

  it('lets our top-level page write text to the clipboard (the chat copy button), and nothing more', () => {
    expect([...ALLOWED_PERMISSIONS]).toEqual(['clipboard-sanitized-write']);
    expect(isPermissionAllowed({ ...ours, permission: 'clipboard-sanitized-write' }, app)).toBe(true);
    // The request handler passes the full requesting URL rather than the origin.
    expect(isPermissionAllowed({ permission: 'clipboard-sanitized-write', requestingOrigin: `${app}#/chat`, isMainFrame: true }, app)).toBe(true);
  });

  it('denies an allowed permission to any other origin or to a subframe', () => {
    const permission = 'clipboard-sanitized-write';
    for (const requestingOrigin of ['app://evil', 'https://example.com', 'file://', 'tandem://photo', 'null', '']) {
      expect(isPermissionAllowed({ permission, requestingOrigin, isMainFrame: true }, app), requestingOrigin).toBe(false);
    }
    expect(isPermissionAllowed({ ...ours, permission, isMainFrame: false }, app)).toBe(false);
  });

  it('follows the app URL to the dev server', () => {
    const dev = 'http://localhost:5173';
    expect(isPermissionAllowed({ permission: 'clipboard-sanitized-write', requestingOrigin: dev, isMainFrame: true }, dev)).toBe(true);
    expect(isPermissionAllowed({ permission: 'clipboard-sanitized-write', requestingOrigin: 'app://tandem', isMainFrame: true }, dev)).toBe(false);
    expect(isPermissionAllowed({ permission: 'media', requestingOrigin: dev, isMainFrame: true }, dev)).toBe(false);
  });
});
