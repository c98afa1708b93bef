/**
 * Runs inside the page under test, before the renderer's own scripts (Playwright init script).
 * It builds `window.tandem` with the preload's `createTandemApi`, over a transport that reaches the test
 * process through the `__tandemInvoke` binding; events arrive through `__tandemEmit`.
 * Written against `globalThis` because this file is type-checked with the Node config (no DOM lib).
 */
import type { Envelope } from '../../src/shared/api';
import { createTandemApi, type TandemTransport } from '../../src/preload/create-tandem-api';

type PageGlobal = {
  location: { origin: string };
  __tandemInvoke(channel: string, payload: unknown): Promise<Envelope<unknown>>;
  __tandemEmit?: (event: string, payload: unknown) => void;
  tandem?: unknown;
};

const page = globalThis as unknown as PageGlobal;
const listeners = new Map<string, Set<(payload: unknown) => void>>();

const transport: TandemTransport = {
  invoke: (channel, payload) => page.__tandemInvoke(channel, payload),
  on: (event, listener) => {
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
};

page.__tandemEmit = (event, payload) => {
  for (const listener of listeners.get(event) ?? []) listener(payload);
};

// contextBridge hands the page a frozen, non-writable object; mirror that so the renderer cannot rely on more.
Object.defineProperty(page, 'tandem', {
  value: Object.freeze(createTandemApi(transport, `${page.location.origin}/media/`)),
  writable: false,
  configurable: false,
  enumerable: true,
});
