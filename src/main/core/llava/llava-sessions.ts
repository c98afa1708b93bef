/**
 * The three ONNX graphs of a LLaVA pack as onnxruntime sessions (opened through onnx/runtime.ts), with typed
 * calls: encode an image, embed token ids, run the decoder over new positions on top of a KV cache. The graph
 * interface is the transformers.js layout, which Tandem's LLaVA compiler writes too.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../errors';
import { llavaOnnxPath, type LlavaDTypes } from '../models/known-packs';
import type { NdArray } from '../onnx/nd-array';
import { createInferenceSession, type InferenceRunner } from '../onnx/runtime';
import { KvCache, type KvLayer } from './llava-kv-cache';
import type { PixelValues } from './llava-preprocess';

export interface ImageFeatures {
  /** [positions, hidden], row-major. */
  data: Float32Array;
  positions: number;
  hidden: number;
}

export interface DecoderOutput {
  /** Next-token logits of the last fed position, or null when they were not asked for. */
  lastLogits: Float32Array | null;
  cache: KvCache;
}

/** The part of the sessions the decode loop uses; tests can stand in for it. */
export interface LlavaDecoder {
  embed(ids: readonly number[]): Promise<Float32Array>;
  /** Feeds `seqLen` new positions (their embeddings) after `past`; returns the extended cache. */
  decode(embeds: Float32Array, seqLen: number, past: KvCache, wantLogits: boolean): Promise<DecoderOutput>;
  emptyCache(): KvCache;
  /** A cache with room for `positions`, when the decoder keeps its cache in growing buffers (kv-append); else `past`. */
  reserve(past: KvCache, positions: number): KvCache;
}

export interface LlavaSessionOptions {
  threads: number;
  kvHeads: number;
  headDim: number;
  /** onnxruntime profiles each graph to `<prefix>-<component>_<date>.json` (benchmarks only) */
  profilePrefix?: string;
  /**
   * 'resident' keeps the vision tower loaded; 'on-demand' lets it go after each image is encoded and loads it
   * again for the next new photo (a second or so), so a chat's prefill and answer run without its weights.
   * Default 'on-demand'.
   */
  vision?: VisionResidency;
}

export type VisionResidency = 'resident' | 'on-demand';
/** 'auto': on demand when the vision tower's weights are smaller than the language model's (visionResidencyFor). */
export type VisionResidencyChoice = VisionResidency | 'auto';

/**
 * Loading the tower again costs about a second per GB of its weights, and a new photo's answer costs time in
 * proportion to the language model: where the tower is the smaller (LLaVA-1.5-7B: 1.2 vs 3.7 GB), a reload is a few
 * percent of the answer and saves its memory for the whole chat; where it is the larger (the 0.5B: 1.6 vs 0.3 GB),
 * a reload would add a fifth to every new photo to save little.
 */
export function visionResidencyFor(visionBytes: number, decoderBytes: number): VisionResidency {
  return visionBytes < decoderBytes ? 'on-demand' : 'resident';
}

/** The graph file and its external data, in bytes. */
async function graphBytes(path: string): Promise<number> {
  const sizes = await Promise.all([path, `${path}_data`].map((p) => stat(p).then((s) => s.size, () => 0)));
  return sizes[0]! + sizes[1]!;
}

export async function chooseVisionResidency(modelDir: string, dtypes: LlavaDTypes, choice: VisionResidencyChoice): Promise<VisionResidency> {
  if (choice !== 'auto') return choice;
  const [vision, decoder] = await Promise.all([
    graphBytes(join(modelDir, llavaOnnxPath('vision_encoder', dtypes.vision_encoder))),
    graphBytes(join(modelDir, llavaOnnxPath('decoder_model_merged', dtypes.decoder_model_merged))),
  ]);
  return visionResidencyFor(vision, decoder);
}

function int64(values: ArrayLike<number>, dims: number[]): NdArray {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return { type: 'int64', data, dims };
}

/**
 * How the decoder graph returns keys/values: 'present' (transformers.js: past ⧺ new, logits of every position)
 * or 'appended' (Tandem's kv-append graphs: the new positions only, the last position's logits).
 */
export type DecoderCacheIo = 'present' | 'appended';

/** The last position's row of logits [b, s, vocab] (a kv-append graph gives s = 1). */
function lastRow(logits: NdArray | undefined): Float32Array {
  if (logits?.type !== 'float32') throw new ModelFileError('decoder_model_merged', 'The decoder gave no float logits.');
  const vocab = logits.dims[2]!;
  const rows = logits.data.length / vocab;
  return logits.data.subarray((rows - 1) * vocab, rows * vocab);
}

export class LlavaSessions implements LlavaDecoder {
  private constructor(
    private vision: InferenceRunner | null,
    private readonly openVision: () => Promise<InferenceRunner>,
    private readonly embedder: InferenceRunner,
    private readonly decoder: InferenceRunner,
    readonly layers: number,
    private readonly options: LlavaSessionOptions,
    readonly cacheIo: DecoderCacheIo,
  ) {}

  static async open(modelDir: string, dtypes: LlavaDTypes, options: LlavaSessionOptions): Promise<LlavaSessions> {
    // CPU, as the transformers.js path ran: the decoder's shapes change every step, and the packs' q4/int8
    // operators (MatMulNBits) are CPU kernels.
    const open = (c: keyof LlavaDTypes) =>
      createInferenceSession(join(modelDir, llavaOnnxPath(c, dtypes[c])), {
        executionProvider: 'cpu',
        intraOpThreads: options.threads,
        interOpThreads: 1,
        // Without the arena a prefill chunk's activations go back to the allocator when the run ends rather than
        // staying reserved: 0.17 GiB less peak at 7B (6.78 vs 6.95 GiB over a chat), no measurable slowdown.
        cpuMemArena: false,
        ...(options.profilePrefix ? { profileFilePrefix: `${options.profilePrefix}-${c}` } : {}),
      });
    // Opened now even when on demand, so a broken vision graph is refused at load, not at the first photo.
    const vision = await open('vision_encoder');
    const embedder = await open('embed_tokens');
    const decoder = await open('decoder_model_merged');
    // The layer count comes from the graph itself: compiled Llama configs leave num_hidden_layers at its default.
    const layers = decoder.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
    if (layers === 0) {
      await Promise.all([vision.dispose(), embedder.dispose(), decoder.dispose()]);
      throw new ModelFileError(llavaOnnxPath('decoder_model_merged', dtypes.decoder_model_merged), `${modelDir}: the decoder graph has no past_key_values inputs.`);
    }
    const cacheIo = decoder.outputNames.includes('appended.0.key') ? 'appended' : 'present';
    return new LlavaSessions(vision, () => open('vision_encoder'), embedder, decoder, layers, options, cacheIo);
  }

  emptyCache(): KvCache {
    return KvCache.empty(this.layers, this.options.kvHeads, this.options.headDim);
  }

  reserve(past: KvCache, positions: number): KvCache {
    // A 'present' decoder is fed past tensors of exactly the past length: its cache cannot hold spare room.
    return this.cacheIo === 'appended' ? past.reserve(positions) : past;
  }

  /** Whether the vision tower's weights are in memory now. */
  get visionLoaded(): boolean {
    return this.vision !== null;
  }

  async encodeImage(pixels: PixelValues): Promise<ImageFeatures> {
    const vision = this.vision ?? (this.vision = await this.openVision());
    let out: NdArray | undefined;
    try {
      out = (await vision.run({ pixel_values: { type: 'float32', data: pixels.data, dims: pixels.dims } }, ['image_features']))['image_features'];
    } finally {
      if (this.options.vision !== 'resident') {
        this.vision = null;
        await vision.dispose();
      }
    }
    if (!out || out.type !== 'float32' || out.dims.length !== 3) throw new ModelFileError('vision_encoder', 'The vision encoder gave no [batch, positions, hidden] image_features.');
    return { data: out.data, positions: out.dims[1]!, hidden: out.dims[2]! };
  }

  async embed(ids: readonly number[]): Promise<Float32Array> {
    const out = (await this.embedder.run({ input_ids: int64(ids, [1, ids.length]) }, ['inputs_embeds']))['inputs_embeds'];
    if (!out || out.type !== 'float32') throw new ModelFileError('embed_tokens', 'The embedding graph gave no float inputs_embeds.');
    return out.data;
  }

  async decode(embeds: Float32Array, seqLen: number, past: KvCache, wantLogits: boolean): Promise<DecoderOutput> {
    return this.cacheIo === 'appended' ? this.decodeAppending(embeds, seqLen, past, wantLogits) : this.decodePresent(embeds, seqLen, past, wantLogits);
  }

  private async decodePresent(embeds: Float32Array, seqLen: number, past: KvCache, wantLogits: boolean): Promise<DecoderOutput> {
    const total = past.length + seqLen;
    const feeds = this.stepFeeds(embeds, seqLen, past, new BigInt64Array(total).fill(1n));
    const outputs: string[] = wantLogits ? ['logits'] : [];
    for (let i = 0; i < this.layers; i++) outputs.push(`present.${i}.key`, `present.${i}.value`);
    const out = await this.decoder.run(feeds, outputs);
    return { lastLogits: wantLogits ? lastRow(out['logits']) : null, cache: new KvCache(this.layerOutputs(out, 'present'), total) };
  }

  /** The past buffers go in whole, their unfilled tail masked out; only the new positions come back. */
  private async decodeAppending(embeds: Float32Array, seqLen: number, past: KvCache, wantLogits: boolean): Promise<DecoderOutput> {
    const capacity = past.capacity;
    const mask = new BigInt64Array(capacity + seqLen);
    mask.fill(1n, 0, past.length);
    mask.fill(1n, capacity);
    const feeds = this.stepFeeds(embeds, seqLen, past, mask);
    // The logits are computed either way (for the last position only); leaving them out saves their copy.
    const outputs: string[] = wantLogits ? ['logits'] : [];
    for (let i = 0; i < this.layers; i++) outputs.push(`appended.${i}.key`, `appended.${i}.value`);
    const out = await this.decoder.run(feeds, outputs);
    return { lastLogits: wantLogits ? lastRow(out['logits']) : null, cache: past.append(this.layerOutputs(out, 'appended'), seqLen) };
  }

  private stepFeeds(embeds: Float32Array, seqLen: number, past: KvCache, mask: BigInt64Array): Record<string, NdArray> {
    const hidden = embeds.length / seqLen;
    const positions = new Array<number>(seqLen);
    for (let i = 0; i < seqLen; i++) positions[i] = past.length + i;
    const feeds: Record<string, NdArray> = {
      inputs_embeds: { type: 'float32', data: embeds, dims: [1, seqLen, hidden] },
      attention_mask: { type: 'int64', data: mask, dims: [1, mask.length] },
      position_ids: int64(positions, [1, seqLen]),
    };
    past.layers.forEach((l, i) => {
      feeds[`past_key_values.${i}.key`] = l.key;
      feeds[`past_key_values.${i}.value`] = l.value;
    });
    return feeds;
  }

  private layerOutputs(out: Record<string, NdArray>, prefix: 'present' | 'appended'): KvLayer[] {
    const layers: KvLayer[] = [];
    for (let i = 0; i < this.layers; i++) {
      const key = out[`${prefix}.${i}.key`];
      const value = out[`${prefix}.${i}.value`];
      if (key?.type !== 'float32' || value?.type !== 'float32') throw new ModelFileError('decoder_model_merged', `The decoder gave no float ${prefix}.${i} keys/values.`);
      layers.push({ key, value });
    }
    return layers;
  }

  async dispose(): Promise<void> {
    const vision = this.vision;
    this.vision = null;
    await Promise.all([vision?.dispose(), this.embedder.dispose(), this.decoder.dispose()]);
  }
}
