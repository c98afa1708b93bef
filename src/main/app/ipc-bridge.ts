import { BrowserWindow, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { channelNames, ipcChannel, ipcEvent, type Envelope } from '../../shared/api';
import { dispatch } from '../core/api-handlers';
import type { EventBus } from '../core/event-bus';
import type { AppHandlers } from './app-handlers';
import { isAppUrl } from './url-policy';

/**
 * Only the main frame of one of our windows, showing our page, may call the core:
 * not an iframe, not a page the window was somehow navigated to.
 */
export function isTrustedSender(event: IpcMainInvokeEvent, appUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  const win = BrowserWindow.fromWebContents(event.sender);
  if (!win || win.webContents.mainFrame !== frame) return false;
  return isAppUrl(frame.url, appUrl);
}

/** One `ipcMain.handle` per contract channel; each validates the sender, then hands over to `dispatch`. */
export function registerIpcHandlers(handlers: AppHandlers, appUrl: string): () => void {
  for (const name of channelNames) {
    ipcMain.handle(ipcChannel(name), async (event, payload: unknown): Promise<Envelope<unknown>> => {
      if (!isTrustedSender(event, appUrl)) {
        return { ok: false, error: { code: 'forbidden', message: 'This page may not talk to Tandem.' } };
      }
      return dispatch(handlers, name, payload);
    });
  }
  return () => {
    for (const name of channelNames) ipcMain.removeHandler(ipcChannel(name));
  };
}

/** Core events go to every window as `tandem-event:<name>`; the preload turns them back into `on(name)`. */
export function forwardEvents(events: EventBus): () => void {
  return events.onAny((name, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send(ipcEvent(name), payload);
    }
  });
}
