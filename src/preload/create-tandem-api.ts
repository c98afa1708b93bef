import {
  ipcChannel,
  ipcEvent,
  type ApiError,
  type ChannelName,
  type Envelope,
  type EventName,
  type EventOf,
  type ReplyOf,
  type RequestOf,
  type TandemApi,
  type Unsubscribe,
} from '../shared/api';

/**
 * How `window.tandem` reaches the other side. In the app this is `ipcRenderer`; in the E2E harness it is a
 * Playwright binding to a core in the test process. Both build the API with `createTandemApi`, so the page
 * under test talks to exactly the code the app ships.
 */
export interface TandemTransport {
  invoke(channel: string, payload: unknown): Promise<Envelope<unknown>>;
  on(event: string, listener: (payload: unknown) => void): Unsubscribe;
}

/**
 * A failed call, with the readable message the core wrote. Note: Electron's contextBridge copies only the
 * message of an Error into the page, so renderer code must rely on `message`, not on `code`.
 */
export class TandemCallError extends Error {
  readonly code: string;
  constructor(error: ApiError) {
    super(error.message);
    this.name = 'TandemCallError';
    this.code = error.code;
  }
}

export function createTandemApi(transport: TandemTransport, mediaBase: string): TandemApi {
  return {
    async invoke<C extends ChannelName>(channel: C, request: RequestOf<C>): Promise<ReplyOf<C>> {
      const envelope = await transport.invoke(ipcChannel(channel), request);
      if (envelope.ok) return envelope.value as ReplyOf<C>;
      throw new TandemCallError(envelope.error);
    },
    on<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): Unsubscribe {
      return transport.on(ipcEvent(event), (payload) => listener(payload as EventOf<E>));
    },
    mediaBase,
  };
}
