import type { CoreHandlers } from '../api-handlers';
import type { Core } from '../core';

type MeaningChannel = Extract<keyof CoreHandlers, `embeddings.${string}` | 'search.query' | 'search.similar'>;

/** Search (words and meaning fused) and search by meaning's own channels, bound to the core's services. */
export function createEmbeddingHandlers(core: Core): Pick<CoreHandlers, MeaningChannel> {
  return {
    'search.query': ({ query, filters, page, wordsOnly, rerank }) =>
      core.hybrid.search(query, filters, page.offset, page.limit, { wordsOnly: wordsOnly ?? false, rerank: rerank ?? false }),
    'search.similar': ({ photoId, filters, page }) => core.hybrid.similar(photoId, filters, page.offset, page.limit),
    'embeddings.status': () => core.embeddings.status(),
    'embeddings.start': () => ({ queued: core.embeddings.embedNewInBackground({ batchSize: core.settings.get().batchSize }) }),
    'embeddings.pause': () => {
      core.embeddings.pause();
      return { ok: true } as const;
    },
    'embeddings.resume': () => {
      core.embeddings.resume();
      return { ok: true } as const;
    },
    'embeddings.cancel': () => {
      core.embeddings.cancel();
      return { ok: true } as const;
    },
  };
}
