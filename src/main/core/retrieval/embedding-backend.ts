/**
 * What the library side of search by meaning needs from the retrieval model, whatever runs it: the inference
 * process in the app and the CLI (inference-backend.ts), a fake in unit tests. Vectors are L2-normalised ITC
 * embeddings (retrieval-engine.ts).
 */
export interface RetrievalModelRef {
  /** pack name stored beside every embedding, e.g. 'blip-itm-base-coco' */
  name: string;
  /** the pack folder (Hugging Face layout) */
  dir: string;
}

export interface EmbedItem {
  jobId: number;
  photoId: number;
  path: string;
}

export type EmbedOutcome =
  | { jobId: number; photoId: number; ok: true; vector: Float32Array }
  | { jobId: number; photoId: number; ok: false; error: string };

export interface EmbeddingBackend {
  /** Opens the pack (compiling it once); returns the embedding length. Calling it again with the same pack is cheap. */
  load(model: RetrievalModelRef, opts?: { threads?: number }): Promise<{ dimensions: number }>;
  /** One image embedding per item, in order; a photo that cannot be read fails alone. */
  embedImages(items: readonly EmbedItem[]): Promise<EmbedOutcome[]>;
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
  /** ITM match probability of each text against the image at `path`. */
  match(path: string, texts: readonly string[]): Promise<number[]>;
}

