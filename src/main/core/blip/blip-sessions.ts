/**
 * The onnxruntime sessions of a compiled BLIP (graphs in compile-blip.ts, generation in generate.ts, the public
 * face in blip-engine.ts). Runs the compiled BLIP graphs: image → embeds, embeds → cross keys/values, question → states, and a
 * decoder with its KV cache that the generator steps through.
 */
import { join } from 'node:path';
import type { NdFloat32 } from '../onnx/nd-array';
import { float32, int64 } from '../onnx/nd-array';
import type { InferenceRunner, RuntimeOptions } from '../onnx/runtime';
import { createInferenceSession } from '../onnx/runtime';
import type { BlipSpec } from './blip-config';
import type { CompiledBlip } from './compile-blip';
import { CROSS_KV_INPUT } from './cross-kv-graph';
import type { StepModel } from './generate';
import {
  crossKey,
  crossValue,
  DECODER_ENCODER_MASK,
  DECODER_INPUT_IDS,
  DECODER_LOGITS,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
} from './text-decoder-graph';
import { ENCODER_ATTENTION_MASK, ENCODER_IMAGE_EMBEDS, ENCODER_INPUT_IDS, ENCODER_OUTPUT } from './text-encoder-graph';
import { VISION_INPUT, VISION_OUTPUT } from './vision-graph';

/** Encoder keys [rows, heads, hd, encSeq] (pre-scaled by 1/√hd) and values [rows, heads, encSeq, hd] for every decoder layer, plus the encoder mask. */
export interface CrossAttentionInputs {
  keys: Float32Array[];
  values: Float32Array[];
  mask: BigInt64Array;
  rows: number;
  encSeq: number;
}

/** Copies rows (outer-axis slices of `rowSize` elements) into a new array in the order given. */
export function gatherRows<T extends Float32Array | BigInt64Array>(data: T, rowSize: number, rows: readonly number[]): T {
  const out = new (data.constructor as { new (n: number): T })(rows.length * rowSize);
  rows.forEach((r, i) => out.set(data.subarray(r * rowSize, (r + 1) * rowSize) as never, i * rowSize));
  return out;
}

export class BlipSessions {
  private constructor(
    readonly spec: BlipSpec,
    private readonly vision: InferenceRunner,
    private readonly crossKv: InferenceRunner,
    private readonly decoder: InferenceRunner,
    private readonly textEncoder: InferenceRunner | undefined,
  ) {}

  static async open(compiled: CompiledBlip, runtime: RuntimeOptions = {}): Promise<BlipSessions> {
    const { graphs, spec } = compiled.manifest;
    const opened: InferenceRunner[] = [];
    const openOne = async (file: string): Promise<InferenceRunner> => {
      // No memory arena: it kept batch 8's largest activations for good (peak RSS 2.29 GB vs 1.97 GB without it
      // for 0.85 GB of fp32 weights), and measured no slower without it.
      const r = await createInferenceSession(join(compiled.dir, file), { cpuMemArena: false, ...runtime });
      opened.push(r);
      return r;
    };
    try {
      const vision = await openOne(graphs.vision);
      const crossKv = await openOne(graphs.crossKv);
      const decoder = await openOne(graphs.textDecoder);
      const textEncoder = graphs.textEncoder ? await openOne(graphs.textEncoder) : undefined;
      return new BlipSessions(spec, vision, crossKv, decoder, textEncoder);
    } catch (err) {
      await Promise.all(opened.map((r) => r.dispose()));
      throw err;
    }
  }

  get executionProvider(): string {
    return this.vision.executionProvider;
  }

  /** pixels: n images as [3, H, W] float32 each, concatenated. */
  async encodeImages(pixels: Float32Array, n: number): Promise<NdFloat32> {
    const S = this.spec.vision.imageSize;
    const out = await this.vision.run({ [VISION_INPUT]: float32(pixels, [n, this.spec.vision.numChannels, S, S]) });
    return out[VISION_OUTPUT] as NdFloat32;
  }

  /** Question states for VQA: ids/mask are [rows, seq] (padded), image embeds [rows, tokens, D]. */
  async encodeQuestions(ids: readonly (readonly number[])[], mask: readonly (readonly number[])[], imageEmbeds: NdFloat32): Promise<NdFloat32> {
    if (!this.textEncoder) throw new Error('this BLIP model has no question encoder');
    const rows = ids.length;
    const seq = ids[0]?.length ?? 0;
    const out = await this.textEncoder.run({
      [ENCODER_INPUT_IDS]: int64(ids.flat(), [rows, seq]),
      [ENCODER_ATTENTION_MASK]: int64(mask.flat(), [rows, seq]),
      [ENCODER_IMAGE_EMBEDS]: imageEmbeds,
    });
    return out[ENCODER_OUTPUT] as NdFloat32;
  }

  /** Cross-attention keys/values of `states` ([rows, encSeq, De]) for every decoder layer, computed once. */
  async crossAttention(states: NdFloat32, mask?: BigInt64Array): Promise<CrossAttentionInputs> {
    const [rows, encSeq] = states.dims as [number, number, number];
    const out = await this.crossKv.run({ [CROSS_KV_INPUT]: states });
    const L = this.spec.text.numHiddenLayers;
    const keys: Float32Array[] = [];
    const values: Float32Array[] = [];
    for (let i = 0; i < L; i++) {
      keys.push((out[crossKey(i)] as NdFloat32).data);
      values.push((out[crossValue(i)] as NdFloat32).data);
    }
    return { keys, values, mask: mask ?? new BigInt64Array(rows * encSeq).fill(1n), rows, encSeq };
  }

  /** A fresh decoder (empty cache) over these encoder keys/values, one row per encoder row. */
  decoderState(cross: CrossAttentionInputs): DecoderState {
    return new DecoderState(this.decoder, this.spec, cross);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.vision, this.crossKv, this.decoder, this.textEncoder].map((r) => r?.dispose()));
  }
}

/**
 * The decoder's KV cache for a set of rows. `step` runs the decoder on new tokens and keeps the grown
 * cache; `selectRows` reorders/duplicates/drops rows (beam search, finished captions).
 */
export class DecoderState implements StepModel {
  private rows: number;
  private pastLen = 0;
  private pastKeys: Float32Array[];
  private pastValues: Float32Array[];
  private crossKeys: Float32Array[];
  private crossValues: Float32Array[];
  private encMask: BigInt64Array;
  /** which original encoder row each current row comes from; cross tensors are regathered only when it changes */
  private source: number[];
  private readonly heads: number;
  private readonly hd: number;
  private readonly layers: number;
  private readonly encSeq: number;
  /** full logits [rows, seq, vocab] of the last step, for verification */
  lastLogits: NdFloat32 | undefined;

  constructor(
    private readonly runner: InferenceRunner,
    private readonly spec: BlipSpec,
    cross: CrossAttentionInputs,
  ) {
    this.rows = cross.rows;
    this.heads = spec.text.numAttentionHeads;
    this.hd = spec.text.hiddenSize / this.heads;
    this.layers = spec.text.numHiddenLayers;
    this.encSeq = cross.encSeq;
    this.pastKeys = Array.from({ length: this.layers }, () => new Float32Array(0));
    this.pastValues = Array.from({ length: this.layers }, () => new Float32Array(0));
    this.crossKeys = cross.keys;
    this.crossValues = cross.values;
    this.encMask = cross.mask;
    this.source = Array.from({ length: cross.rows }, (_, i) => i);
  }

  get rowCount(): number {
    return this.rows;
  }

  async step(tokens: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (tokens.length !== this.rows) throw new RangeError(`decoder has ${this.rows} rows but got tokens for ${tokens.length}`);
    const T = tokens[0]?.length ?? 0;
    const { heads, hd, encSeq, rows } = this;
    const feeds: Record<string, import('../onnx/nd-array').NdArray> = {
      [DECODER_INPUT_IDS]: int64(tokens.flat(), [rows, T]),
      [DECODER_ENCODER_MASK]: { type: 'int64', data: this.encMask, dims: [rows, encSeq] },
    };
    for (let i = 0; i < this.layers; i++) {
      feeds[pastKey(i)] = float32(this.pastKeys[i] as Float32Array, [rows, heads, this.pastLen, hd]);
      feeds[pastValue(i)] = float32(this.pastValues[i] as Float32Array, [rows, heads, this.pastLen, hd]);
      feeds[crossKey(i)] = float32(this.crossKeys[i] as Float32Array, [rows, heads, hd, encSeq]);
      feeds[crossValue(i)] = float32(this.crossValues[i] as Float32Array, [rows, heads, encSeq, hd]);
    }
    const out = await this.runner.run(feeds);
    for (let i = 0; i < this.layers; i++) {
      this.pastKeys[i] = (out[presentKey(i)] as NdFloat32).data;
      this.pastValues[i] = (out[presentValue(i)] as NdFloat32).data;
    }
    this.pastLen += T;
    const logits = out[DECODER_LOGITS] as NdFloat32;
    this.lastLogits = logits;
    const V = this.spec.text.vocabSize;
    return Array.from({ length: rows }, (_, r) => logits.data.subarray((r * T + T - 1) * V, (r * T + T) * V));
  }

  selectRows(rows: readonly number[]): void {
    const { heads, hd, encSeq } = this;
    const pastRow = heads * this.pastLen * hd;
    const crossRow = heads * encSeq * hd;
    for (let i = 0; i < this.layers; i++) {
      this.pastKeys[i] = gatherRows(this.pastKeys[i] as Float32Array, pastRow, rows);
      this.pastValues[i] = gatherRows(this.pastValues[i] as Float32Array, pastRow, rows);
    }
    const nextSource = rows.map((r) => this.source[r] as number);
    const sameSource = nextSource.length === this.source.length && nextSource.every((s, i) => s === this.source[i]);
    if (!sameSource) {
      for (let i = 0; i < this.layers; i++) {
        this.crossKeys[i] = gatherRows(this.crossKeys[i] as Float32Array, crossRow, rows);
        this.crossValues[i] = gatherRows(this.crossValues[i] as Float32Array, crossRow, rows);
      }
      this.encMask = gatherRows(this.encMask, encSeq, rows);
    }
    this.source = nextSource;
    this.rows = rows.length;
  }
}
