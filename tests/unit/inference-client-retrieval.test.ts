import { describe, expect, it } from 'vitest';
import { InferenceClient, WorkerCrashedError } from '../../src/main/core/inference/inference-client';
import type { FromWorker, ToWorker } from '../../src/main/core/inference/protocol';
import type { WorkerHandle } from '../../src/main/core/inference/worker-handle';

/**
 * An in-memory inference process. `dieOnLoad`: a retrieval load kills it (a hostile pack); otherwise it loads and
 * answers embed-texts with one vector per text, and says no_model when nothing is loaded in this process.
 */
function fakeWorkers(log: ToWorker['type'][], dieOnLoad: () => boolean): () => WorkerHandle {
  let pid = 200;
  return () => {
    let onMessage: (m: FromWorker) => void = () => {};
    const exits: ((code: number | null, signal: string | null) => void)[] = [];
    const onExit = (code: number | null, signal: string | null) => exits.forEach((l) => l(code, signal));
    const me = ++pid;
    let loaded = false;
    queueMicrotask(() => onMessage({ type: 'ready', pid: me }));
    return {
      pid: me,
      send(m) {
        log.push(m.type);
        if (m.type === 'load-retrieval') {
          if (dieOnLoad()) queueMicrotask(() => onExit(null, 'SIGKILL'));
          else {
            loaded = true;
            queueMicrotask(() => onMessage({ type: 'retrieval-loaded', id: m.id, model: m.model, dimensions: 3, loadMs: 1, compiled: false }));
          }
        } else if (m.type === 'embed-texts') {
          queueMicrotask(() =>
            onMessage(loaded ? { type: 'texts-embedded', id: m.id, vectors: m.texts.map(() => [1, 0, 0]) } : { type: 'error', id: m.id, code: 'no_model', message: 'none' }),
          );
        } else if (m.type === 'shutdown') queueMicrotask(() => onExit(0, null));
      },
      onMessage: (l) => (onMessage = l),
      onExit: (l) => exits.push(l),
      kill: () => onExit(null, 'SIGKILL'),
    };
  };
}

describe('InferenceClient retrieval', () => {
  it('reloads the retrieval pack into a fresh process after a crash', async () => {
    const log: ToWorker['type'][] = [];
    const client = new InferenceClient(fakeWorkers(log, () => false), () => 1);
    await client.loadRetrieval({ model: 'm', modelDir: '/m', cacheDir: '/c', threads: 1 });
    client.kill();
    expect((await client.embedTexts({ texts: ['a', 'b'] })).vectors).toHaveLength(2);
    expect(log).toEqual(['load-retrieval', 'load-retrieval', 'embed-texts']);
    await client.close();
  });

  it('does not replay a retrieval load that killed the process', async () => {
    const log: ToWorker['type'][] = [];
    const client = new InferenceClient(fakeWorkers(log, () => true), () => 1);
    await expect(client.loadRetrieval({ model: 'hostile', modelDir: '/m', cacheDir: '/c', threads: 1 })).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(client.embedTexts({ texts: ['a'] })).rejects.toMatchObject({ code: 'no_model' });
    expect(log).toEqual(['load-retrieval', 'embed-texts']);
    await client.close();
  });
});
