import { describe, expect, it } from 'vitest';
import { createTandemApi, TandemCallError, type TandemTransport } from '../../src/preload/create-tandem-api';
import type { Envelope } from '../../src/shared/api';

function fakeTransport(reply: Envelope<unknown>) {
  const sent: [string, unknown][] = [];
  const listeners = new Map<string, (payload: unknown) => void>();
  const transport: TandemTransport = {
    invoke: async (channel, payload) => {
      sent.push([channel, payload]);
      return reply;
    },
    on: (event, listener) => {
      listeners.set(event, listener);
      return () => listeners.delete(event);
    },
  };
  return { transport, sent, listeners };
}

describe('createTandemApi (what the preload and the E2E harness both expose as window.tandem)', () => {
  it('sends calls on the contract channel and unwraps the reply', async () => {
    const { transport, sent } = fakeTransport({ ok: true, value: [] });
    const api = createTandemApi(transport, 'tandem://');
    expect(await api.invoke('library.listRoots', {})).toEqual([]);
    expect(sent).toEqual([['tandem:library.listRoots', {}]]);
    expect(api.mediaBase).toBe('tandem://');
  });

  it('throws the readable message, with the code alongside', async () => {
    const { transport } = fakeTransport({ ok: false, error: { code: 'invalid_input', message: 'Folder not found: /x' } });
    const err = await createTandemApi(transport, 'tandem://').invoke('library.addRoot', { grant: 'g'.repeat(43) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TandemCallError);
    expect(err).toMatchObject({ message: 'Folder not found: /x', code: 'invalid_input' });
  });

  it('subscribes to events on their IPC name and unsubscribes', () => {
    const { transport, listeners } = fakeTransport({ ok: true, value: null });
    const seen: unknown[] = [];
    const off = createTandemApi(transport, 'tandem://').on('library.changed', (p) => seen.push(p));
    listeners.get('tandem-event:library.changed')?.({ reason: 'scanned' });
    expect(seen).toEqual([{ reason: 'scanned' }]);
    off();
    expect(listeners.size).toBe(0);
  });
});
