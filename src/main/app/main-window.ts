import { BrowserWindow, shell } from 'electron';
import { isAppUrl, isExternalWebUrl } from './url-policy';

export interface MainWindowOptions {
  /** The page to load: the dev server URL, or app://tandem/index.html for the built renderer (app-scheme.ts). */
  appUrl: string;
  preloadPath: string;
}

/** The one window, locked down per DESIGN.md §1: isolated, sandboxed, no Node, no popups, no navigation away. */
export function createMainWindow({ appUrl, preloadPath }: MainWindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 720,
    minHeight: 480,
    title: 'Tandem',
    backgroundColor: '#f6f5f2',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });

  win.once('ready-to-show', () => win.show());

  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (isAppUrl(url, appUrl)) return;
    event.preventDefault();
    if (isExternalWebUrl(url)) void shell.openExternal(url);
  });
  win.webContents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, appUrl)) event.preventDefault();
  });

  void win.loadURL(appUrl);
  return win;
}
