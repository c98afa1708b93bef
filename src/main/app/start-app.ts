import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, session } from 'electron';
import { openCore } from '../core/core';
import { defaultDataDir } from '../core/paths';
import { createAppHandlers } from './app-handlers';
import { forwardEvents, registerIpcHandlers } from './ipc-bridge';
import { createMainWindow } from './main-window';
import { spawnUtilityWorker } from './utility-worker';
import { handleMediaProtocol, registerMediaSchemeAsPrivileged } from './media-protocol';

/** Wires the core into Electron. Everything a user can do lives in the core; this only connects the pipes. */
export function startApp(): void {
  if (!app.requestSingleInstanceLock()) {
    // One process owns the database; a second launch just focuses the first.
    app.quit();
    return;
  }
  registerMediaSchemeAsPrivileged();

  // electron-vite sets ELECTRON_RENDERER_URL to its dev server in `npm run dev`. A packaged app ignores it:
  // whatever page it names would be trusted with the whole API.
  const devServer = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
  const appUrl = devServer || pathToFileURL(join(import.meta.dirname, '../renderer/index.html')).href;
  const preloadPath = join(import.meta.dirname, '../preload/index.cjs');
  const openWindow = (): BrowserWindow => createMainWindow({ appUrl, preloadPath });

  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  void app.whenReady().then(() => {
    // Same folder as the CLI (TANDEM_HOME or the per-user "Tandem" folder), so both see one library.
    const inferenceEntry = join(import.meta.dirname, 'inference-process.js');
    const core = openCore({ dataDir: defaultDataDir(), spawnWorker: () => spawnUtilityWorker(inferenceEntry) });
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    handleMediaProtocol(core.media);
    registerIpcHandlers(
      createAppHandlers(core, {
        pickFolder: async () => {
          const owner = BrowserWindow.getFocusedWindow();
          const options = { title: 'Add a photo folder', properties: ['openDirectory' as const] };
          const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
          return result.canceled ? null : (result.filePaths[0] ?? null);
        },
      }),
      appUrl,
    );
    forwardEvents(core.events);
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
