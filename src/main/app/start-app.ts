import { join } from 'node:path';
import { app, BrowserWindow, dialog, session } from 'electron';
import { openCore } from '../core/core';
import { defaultDataDir } from '../core/paths';
import { CONTENT_SECURITY_POLICY } from '../../shared/content-security-policy';
import { createAppHandlers } from './app-handlers';
import { handleAppProtocol } from './app-protocol';
import { APP_INDEX_URL } from './app-scheme';
import { forwardEvents, registerIpcHandlers } from './ipc-bridge';
import { createMainWindow } from './main-window';
import { handleMediaProtocol } from './media-protocol';
import { isPermissionAllowed } from './permission-policy';
import { registerPrivilegedSchemes } from './privileged-schemes';
import { spawnUtilityWorker } from './utility-worker';

/** Wires the core into Electron. Everything a user can do lives in the core; this only connects the pipes. */
export function startApp(): void {
  if (!app.requestSingleInstanceLock()) {
    // One process owns the database; a second launch just focuses the first.
    app.quit();
    return;
  }
  // Before `app` is ready, and only once: app:// (the page) and tandem:// (photos) together.
  registerPrivilegedSchemes();

  // electron-vite sets ELECTRON_RENDERER_URL to its dev server in `npm run dev`. A packaged app ignores it:
  // whatever page it names would be trusted with the whole API. The dev server sends the same CSP as a
  // header itself (electron.vite.config.ts); the built page comes from app://tandem with the header below.
  const devServer = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
  const appUrl = devServer || APP_INDEX_URL;
  const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
  const openWindow = (): BrowserWindow => createMainWindow({ appUrl, preloadPath });

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  void app.whenReady().then(() => {
    // Same folder as the CLI (TANDEM_HOME or the per-user "Tandem" folder), so both see one library.
    const inferenceEntry = join(import.meta.dirname, 'inference-process.js');
    const core = openCore({ dataDir: defaultDataDir(), spawnWorker: () => spawnUtilityWorker(inferenceEntry) });
    // Deny by default, both when the page asks (request) and when Chromium merely checks (check);
    // permission-policy.ts holds the short allow-list.
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
      callback(isPermissionAllowed({ permission, requestingOrigin: details.requestingUrl, isMainFrame: details.isMainFrame }, appUrl)),
    );
    session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) =>
      isPermissionAllowed({ permission, requestingOrigin, isMainFrame: details.isMainFrame }, appUrl),
    );
    session.defaultSession.setDevicePermissionHandler(() => false);
    if (!devServer) {
      handleAppProtocol({ rendererDir: join(import.meta.dirname, '../renderer'), contentSecurityPolicy: CONTENT_SECURITY_POLICY });
    }
    handleMediaProtocol(core.media);
    registerIpcHandlers(
      createAppHandlers(core, {
        pickFolder: async (purpose) => {
          const owner = BrowserWindow.getFocusedWindow();
          const title = purpose === 'model' ? 'Import a model folder' : purpose === 'export' ? 'Export into folder' : 'Add a photo folder';
          // An export usually goes into a new folder, so the picker offers to create one (macOS needs asking).
          const properties = purpose === 'export' ? (['openDirectory', 'createDirectory'] as const) : (['openDirectory'] as const);
          const options = { title, properties: [...properties] };
          const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
          return result.canceled ? null : (result.filePaths[0] ?? null);
        },
      }),
      appUrl,
    );
    forwardEvents(core.events);
    // Search by meaning (on by default once its pack is installed): photos are read after each scan.
    core.embeddings.embedAutomatically(() => ({ batchSize: core.settings.get().batchSize }));
    let closed = false;
    app.on('will-quit', (event) => {
      // Stop the inference process and close the database before the app goes.
      if (closed) return;
      event.preventDefault();
      void core.close().finally(() => {
        closed = true;
        app.quit();
      });
    });

    openWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });

  app.on('second-instance', () => {
    const win = BrowserWindow.getAllWindows()[0];
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
