import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Envelope } from '../shared/api';
import { createTandemApi, type TandemTransport } from './create-tandem-api';

// The page gets the payload only: handing it the IpcRendererEvent would leak `sender` (ipcRenderer itself).
const transport: TandemTransport = {
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload) as Promise<Envelope<unknown>>,
  on: (event, listener) => {
    const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    ipcRenderer.on(event, forward);
    return () => {
      ipcRenderer.removeListener(event, forward);
    };
  },
};

contextBridge.exposeInMainWorld('tandem', createTandemApi(transport, 'tandem://'));
