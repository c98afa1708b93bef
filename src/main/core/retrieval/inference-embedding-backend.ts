import type { CaptionPrecision } from '../jobs/caption-settings';
import type { EmbedImagesRequest, EmbedItemResult, EmbedTextsRequest, LoadRetrievalRequest, MatchRequest } from '../inference/protocol';
import type { EmbedOutcome, EmbeddingBackend, RetrievalModelRef } from './embedding-backend';

type Args<T> = Omit<T, 'id' | 'type'>;

/** The retrieval half of the inference client (inference-client.ts), as this side uses it. */
export interface RetrievalClient {
  loadRetrieval(req: Args<LoadRetrievalRequest>): Promise<{ dimensions: number }>;
  embedImages(req: Args<EmbedImagesRequest>): Promise<{ results: EmbedItemResult[] }>;
  embedTexts(req: Args<EmbedTextsRequest>): Promise<{ vectors: number[][] }>;
  match(req: Args<MatchRequest>): Promise<{ probabilities: number[] }>;
}

export interface InferenceBackendOptions {
  cacheDir: string;
  threads: () => number;
  precision?: () => CaptionPrecision;
}

/**
 * Search by meaning through the inference process: the retrieval pack is loaded beside the captioner in the same
 * process (protocol.ts), pixels never reach the main process, and a crash rejects with WorkerCrashedError, which the
 * embed runner turns into re-queued jobs.
 */
export function inferenceEmbeddingBackend(client: () => RetrievalClient, opts: InferenceBackendOptions): EmbeddingBackend {
  let loaded: { name: string; dir: string; precision: CaptionPrecision | undefined; dimensions: number } | null = null;
  return {
    async load(model: RetrievalModelRef, loadOpts: { threads?: number } = {}) {
      // The captioning precision setting ("Exact" / "Fast") applies to reading photos for search too.
      const precision = opts.precision?.();
      if (loaded && loaded.name === model.name && loaded.dir === model.dir && loaded.precision === precision) return { dimensions: loaded.dimensions };
      const reply = await client().loadRetrieval({
        model: model.name,
        modelDir: model.dir,
        cacheDir: opts.cacheDir,
        threads: loadOpts.threads ?? opts.threads(),
        ...(precision ? { precision } : {}),
      });
      loaded = { name: model.name, dir: model.dir, precision, dimensions: reply.dimensions };
      return { dimensions: reply.dimensions };
    },
    async embedImages(items) {
      const reply = await client().embedImages({ items: items.map((i) => ({ jobId: i.jobId, photoId: i.photoId, path: i.path })) });
      return reply.results.map((r): EmbedOutcome => (r.ok ? { ...r, vector: Float32Array.from(r.vector) } : r));
    },
    async embedTexts(texts) {
      const reply = await client().embedTexts({ texts: [...texts] });
      return reply.vectors.map((v) => Float32Array.from(v));
    },
    async match(path, texts) {
      return (await client().match({ path, texts: [...texts] })).probabilities;
    },
  };
}
