/**
 * The inference process's side of BLIP retrieval (issue 11): loads a `BlipForImageTextRetrieval` pack beside the
 * captioner and answers 'load-retrieval', 'embed-images', 'embed-texts' and 'match'. Each message becomes one
 * piece of work for the process's single inference queue; photos are decoded as soon as a request arrives, so
 * decoding overlaps the inference in hand, and a photo that cannot be read fails alone with its reason.
 */
import { stat } from 'node:fs/promises';
import type { DecodedRgb } from '../blip/image-decode';
import { modelPixels } from '../blip/preprocess';
import { errorMessage, TandemError } from '../errors';
import type { NdFloat32 } from '../onnx/nd-array';
import type { BlipRetrievalEngine } from '../retrieval/blip-retrieval-engine';
import { loadRetrievalEngine } from '../retrieval/blip-retrieval-engine';
import { modelLoadTimeoutMs, withLoadDeadline } from './load-deadline';
import type { EmbedImagesRequest, EmbedItemResult, EmbedTextsRequest, FromWorker, LoadRetrievalRequest, MatchRequest } from './protocol';

export type RetrievalMessage = LoadRetrievalRequest | EmbedImagesRequest | EmbedTextsRequest | MatchRequest;

type Item = EmbedImagesRequest['items'][number];

/**
 * Image embeds kept for 'match': re-ranking the top hits of a query typed word by word matches the same photos
 * again and again, and the vision pass is nearly all of a match's cost. 32 photos are about 57 MB at BLIP base
 * (577 tokens × 768 floats each).
 */
const MATCH_CACHE_ENTRIES = 32;
type Decoded = { item: Item; pixels: DecodedRgb } | { item: Item; error: string };

export class RetrievalHandler {
  private engine: BlipRetrievalEngine | null = null;
  private key = '';
  /** Settles when the newest load does (with null if it failed): decoding waits for it to learn the input size. */
  private ready: Promise<BlipRetrievalEngine | null> = Promise.resolve(null);
  /** path, size and mtime → image embeds and ITC feature, least recently used first */
  private readonly embedsCache = new Map<string, { embeds: NdFloat32; feature: Float32Array }>();

  constructor(
    private readonly send: (m: FromWorker) => void,
    /** the weight file a load reads, for the load deadline's error message */
    private readonly checkpointFile: (modelDir: string) => Promise<string>,
  ) {}

  /** Returns the work to queue; decoding for 'embed-images' starts now. */
  handle(m: RetrievalMessage): () => Promise<void> {
    switch (m.type) {
      case 'load-retrieval': {
        let settle: (e: BlipRetrievalEngine | null) => void = () => {};
        this.ready = new Promise((resolve) => (settle = resolve));
        return async () => {
          try {
            await this.load(m);
          } finally {
            settle(this.engine);
          }
        };
      }
      case 'embed-images': {
        const t0 = performance.now();
        const decoded = this.decode(m.items);
        return async () => {
          const items = await decoded;
          const decodeMs = performance.now() - t0;
          const t1 = performance.now();
          const results = await this.embedDecoded(items);
          this.send({ type: 'images-embedded', id: m.id, results, decodeMs, inferMs: performance.now() - t1 });
        };
      }
      case 'embed-texts':
        return async () => {
          const vectors = await this.require().embedTexts(m.texts);
          this.send({ type: 'texts-embedded', id: m.id, vectors: vectors.map((v) => Array.from(v)) });
        };
      case 'match':
        return async () => {
          const image = await this.imageEmbeds(m.path);
          const probabilities = await this.require().matchEmbeds(image.embeds, m.texts);
          this.send({ type: 'matched', id: m.id, probabilities, vector: Array.from(image.feature) });
        };
    }
  }

  private async load(m: LoadRetrievalRequest): Promise<void> {
    const precision = m.precision ?? 'fp32';
    const key = `${m.model}\n${m.modelDir}\n${m.cacheDir}\n${m.threads}\n${precision}`;
    const t0 = performance.now();
    if (this.engine && this.key === key) {
      this.send({ type: 'retrieval-loaded', id: m.id, model: m.model, dimensions: this.engine.dimensions, loadMs: 0, compiled: false });
      return;
    }
    await this.engine?.dispose();
    this.engine = null;
    this.key = '';
    this.embedsCache.clear();
    // As for the captioner: a hostile checkpoint gets a deadline, and an engine arriving after it is thrown away.
    const engine = await withLoadDeadline(
      () =>
        loadRetrievalEngine({
          model: m.model,
          modelDir: m.modelDir,
          cacheDir: m.cacheDir,
          threads: m.threads,
          quantization: precision === 'int8' ? 'int8' : 'none',
        }),
      { ms: modelLoadTimeoutMs(), file: await this.checkpointFile(m.modelDir), onLate: (late) => void late.dispose() },
    );
    this.engine = engine;
    this.key = key;
    this.send({ type: 'retrieval-loaded', id: m.id, model: m.model, dimensions: engine.dimensions, loadMs: performance.now() - t0, compiled: engine.compiled });
  }

  /** A changed file (size or mtime) is a new key, so a stale entry is never used; it just ages out. */
  private async imageEmbeds(path: string): Promise<{ embeds: NdFloat32; feature: Float32Array }> {
    const engine = this.require();
    const info = await stat(path).catch(() => undefined);
    const key = info ? `${path}\n${info.size}\n${info.mtimeMs}` : undefined;
    const hit = key === undefined ? undefined : this.embedsCache.get(key);
    if (hit && key !== undefined) {
      this.embedsCache.delete(key);
      this.embedsCache.set(key, hit);
      return hit;
    }
    const { embeds, features } = await engine.encodeImages([path]);
    const image = { embeds, feature: features[0]! };
    if (key !== undefined) {
      this.embedsCache.set(key, image);
      if (this.embedsCache.size > MATCH_CACHE_ENTRIES) this.embedsCache.delete(this.embedsCache.keys().next().value as string);
    }
    return image;
  }

  private require(): BlipRetrievalEngine {
    if (!this.engine) throw new TandemError('no_model', 'No retrieval model is loaded in the inference process.');
    return this.engine;
  }

  private async decode(items: readonly Item[]): Promise<Decoded[] | undefined> {
    const engine = await this.ready;
    if (!engine) return undefined;
    const out: Decoded[] = [];
    for (const item of items) {
      try {
        out.push({ item, pixels: await modelPixels(item.path, engine.imageConfig) });
      } catch (err) {
        out.push({ item, error: errorMessage(err) });
      }
    }
    return out;
  }

  private async embedDecoded(items: Decoded[] | undefined): Promise<EmbedItemResult[]> {
    const engine = this.require();
    if (!items) throw new TandemError('no_model', 'No retrieval model is loaded in the inference process.');
    const good = items.filter((d): d is Extract<Decoded, { pixels: DecodedRgb }> => 'pixels' in d);
    const vectors = good.length ? await engine.embedImages(good.map((g) => g.pixels)) : [];
    // By position, not by jobId: a caller may send the same job twice and each row gets its own answer.
    let next = 0;
    return items.map((d): EmbedItemResult =>
      'error' in d
        ? { jobId: d.item.jobId, photoId: d.item.photoId, ok: false, error: d.error }
        : { jobId: d.item.jobId, photoId: d.item.photoId, ok: true, vector: Array.from(vectors[next++]!) },
    );
  }

  async dispose(): Promise<void> {
    await this.engine?.dispose();
    this.engine = null;
  }
}
