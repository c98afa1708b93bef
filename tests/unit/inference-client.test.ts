import { describe, expect, it } from 'vitest';
import { InferenceClient, WorkerCrashedError } from '../../src/main/core/inference/inference-client';
import type { CaptionRequest, FromWorker, ToWorker } from '../../src/main/core/inference/protocol';
import type { WorkerHandle } from '../../src/main/core/inference/worker-handle';

/** An in-memory inference process: dies when asked to load, answers captions with an error naming what it got. */
function fakeWorkers(log: ToWorker['type'][]): () => WorkerHandle {
  let pid = 100;
  return () => {
    let onMessage: (m: FromWorker) => void = () => {};
    const exits: ((code: number | null, signal: string | null) => void)[] = [];
    const onExit = (code: number | null, signal: string | null) => exits.forEach((l) => l(code, signal));
    const me = ++pid;
    queueMicrotask(() => onMessage({ type: 'ready', pid: me }));
    return {
      pid: me,
      send(m) {
        log.push(m.type);
        if (m.type === 'load') queueMicrotask(() => onExit(null, 'SIGKILL'));
        else if (m.type === 'shutdown') queueMicrotask(() => onExit(0, null));
        else if ('id' in m) queueMicrotask(() => onMessage({ type: 'error', id: m.id, code: 'no_model', message: 'No model is loaded.' }));
      },
      onMessage: (l) => (onMessage = l),
      onExit: (l) => exits.push(l),
      kill: () => onExit(null, 'SIGTERM'),
    };
  };
}

describe('InferenceClient', () => {
  it('does not replay a load that killed the process (a hostile model would crash it on every retry)', async () => {
    const log: ToWorker['type'][] = [];
    const client = new InferenceClient(fakeWorkers(log), () => 1);
    await expect(client.load({ model: 'hostile', modelDir: '/nowhere', cacheDir: '/nowhere', threads: 1 })).rejects.toBeInstanceOf(WorkerCrashedError);
    // The next request starts a fresh process and goes straight to it, without loading the model again.
    await expect(client.caption({ items: [], settings: {} as CaptionRequest['settings'] })).rejects.toMatchObject({ code: 'no_model' });
    expect(log).toEqual(['load', 'caption']);
    await client.close();
    expect(log.at(-1)).toBe('shutdown');
  });
});
