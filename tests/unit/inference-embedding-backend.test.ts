/** The main process's side of search by meaning: the retrieval pack is loaded at the captioning precision. */
import { describe, expect, it } from 'vitest';
import type { CaptionPrecision } from '../../src/main/core/jobs/caption-settings';
import type { LoadRetrievalRequest } from '../../src/main/core/inference/protocol';
import { inferenceEmbeddingBackend, type RetrievalClient } from '../../src/main/core/retrieval/inference-embedding-backend';

function fakeClient(): RetrievalClient & { loads: Omit<LoadRetrievalRequest, 'id' | 'type'>[] } {
  const loads: Omit<LoadRetrievalRequest, 'id' | 'type'>[] = [];
  return {
    loads,
    loadRetrieval: async (req) => {
      loads.push(req);
      return { dimensions: 4 };
    },
    embedImages: async () => ({ results: [] }),
    embedTexts: async () => ({ vectors: [] }),
    match: async () => ({ probabilities: [] }),
  };
}

describe('inferenceEmbeddingBackend', () => {
  it('loads the retrieval pack at the caption precision setting, and again only when that setting changes', async () => {
    const client = fakeClient();
    let precision: CaptionPrecision = 'fp32';
    const backend = inferenceEmbeddingBackend(() => client, { cacheDir: '/cache', threads: () => 2, precision: () => precision });
    const model = { name: 'blip-itm-base-coco', dir: '/models/blip-itm-base-coco' };
    await backend.load(model);
    await backend.load(model);
    expect(client.loads).toEqual([{ model: 'blip-itm-base-coco', modelDir: '/models/blip-itm-base-coco', cacheDir: '/cache', threads: 2, precision: 'fp32' }]);
    precision = 'int8';
    await backend.load(model);
    expect(client.loads.map((l) => l.precision)).toEqual(['fp32', 'int8']);
  });
});
