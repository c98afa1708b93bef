/**
 * The onnxruntime sessions of a compiled BLIP (graphs in compile-blip.ts, generation in generate.ts, the public
 * face in blip-engine.ts). Runs the compiled BLIP graphs: image → embeds, question → states, and a decoder with
 * its KV cache that the generator steps through, reading the embeds (or states) in its cross-attention.
 */
import { join } from 'node:path';
import type { NdArray, NdFloat32 } from '../onnx/nd-array';
import { float32, int64 } from '../onnx/nd-array';
import type { InferenceRunner, RuntimeOptions } from '../onnx/runtime';
import { createInferenceSession } from '../onnx/runtime';
import { transposeMatrix } from '../onnx/blocks';
import type { BlipSpec } from './blip-config';
import type { CompiledBlip } from './compile-blip';
import type { StepModel } from './generate';
import {
  DECODER_ENCODER_MASK,
  DECODER_ENCODER_STATES,
  DECODER_ENCODER_STATES_T,
  DECODER_INPUT_IDS,
  DECODER_LOGITS,
  pastKey,
  pastValue,
  presentKey,
  presentValue,
} from './text-decoder-graph';
import { ENCODER_ATTENTION_MASK, ENCODER_IMAGE_EMBEDS, ENCODER_INPUT_IDS, ENCODER_OUTPUT } from './text-encoder-graph';
import { VISION_INPUT, VISION_OUTPUT } from './vision-graph';

/** What the decoder's cross-attention reads: encoder states [rows, encSeq, width], the same transposed [rows, width, encSeq], and the encoder mask. */
export interface CrossAttentionInputs {
  states: Float32Array;
  statesT: Float32Array;
  mask: BigInt64Array;
  rows: number;
  encSeq: number;
  width: number;
}

/** Copies rows (outer-axis slices of `rowSize` elements) into a new array in the order given. */
export function gatherRows<T extends Float32Array | BigInt64Array>(data: T, rowSize: number, rows: readonly number[]): T {
  const out = new (data.constructor as { new (n: number): T })(rows.length * rowSize);
  rows.forEach((r, i) => out.set(data.subarray(r * rowSize, (r + 1) * rowSize) as never, i * rowSize));
  return out;
}

/**
 * Moves rows (outer-axis slices of `rowSize` elements) to the front of `data` in the order given and returns
 * a view of them: no new array. Only for arrays nobody else reads, and only when `rows` is strictly increasing
 * (each row then moves down or stays, so none is overwritten before it is read).
 */
export function compactRows<T extends Float32Array | BigInt64Array>(data: T, rowSize: number, rows: readonly number[]): T {
  rows.forEach((r, i) => {
    if (r !== i) data.copyWithin(i * rowSize, r * rowSize, (r + 1) * rowSize);
  });
  return data.subarray(0, rows.length * rowSize) as T;
}

function strictlyIncreasing(rows: readonly number[]): boolean {
  return rows.every((r, i) => i === 0 || r > (rows[i - 1] as number));
}

/** Runs `runner` with its outputs written into the arrays given (see InferenceRunner.runInto). */
async function runInto(runner: InferenceRunner, feeds: Record<string, NdArray>, outputs: Record<string, NdFloat32>): Promise<void> {
  if (runner.runInto) return runner.runInto(feeds, outputs);
  const out = await runner.run(feeds, Object.keys(outputs));
  for (const [name, t] of Object.entries(outputs)) t.data.set((out[name] as NdFloat32).data);
}

/**
 * Images per vision-encoder run. A batch is encoded this many at a time straight into the batch's output array:
 * onnxruntime's activations then exist for one image at a time (vision encoder at batch 8: +734 MiB over the
 * weights at once, +129 MiB one image at a time), and it runs no slower. Every row is computed on its own anyway
 * (same kernels, same order), so outputs are bit-identical with one run over the whole batch.
 */
const ROWS_PER_RUN = 1;

export class BlipSessions {
  private constructor(
    readonly spec: BlipSpec,
    private readonly vision: InferenceRunner,
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
      const decoder = await openOne(graphs.textDecoder);
      const textEncoder = graphs.textEncoder ? await openOne(graphs.textEncoder) : undefined;
      return new BlipSessions(spec, vision, decoder, textEncoder);
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
    const { imageSize: S, patchSize: P, numChannels: C, hiddenSize: D } = this.spec.vision;
    const tokens = (Math.floor(S / P) ** 2) + 1;
    const inRow = C * S * S;
    const outRow = tokens * D;
    if (pixels.length !== n * inRow) throw new RangeError(`pixels hold ${pixels.length} values, ${n} images need ${n * inRow}`);
    const out = new Float32Array(n * outRow);
    for (let i = 0; i < n; i += ROWS_PER_RUN) {
      const k = Math.min(ROWS_PER_RUN, n - i);
      await runInto(
        this.vision,
        { [VISION_INPUT]: float32(pixels.subarray(i * inRow, (i + k) * inRow), [k, C, S, S]) },
        { [VISION_OUTPUT]: float32(out.subarray(i * outRow, (i + k) * outRow), [k, tokens, D]) },
      );
    }
    return float32(out, [n, tokens, D]);
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

  /**
   * The decoder's cross-attention inputs for `states` ([rows, encSeq, De]): the states and their transpose, made
   * once per batch (the decoder reads both at every step). `mask` defaults to every position visible.
   */
  crossAttention(states: NdFloat32, mask?: BigInt64Array): CrossAttentionInputs {
    const [rows, encSeq, width] = states.dims as [number, number, number];
    const row = encSeq * width;
    const statesT = new Float32Array(rows * row);
    for (let r = 0; r < rows; r++) transposeMatrix(states.data.subarray(r * row, (r + 1) * row), encSeq, width, statesT.subarray(r * row, (r + 1) * row));
    return { states: states.data, statesT, mask: mask ?? new BigInt64Array(rows * encSeq).fill(1n), rows, encSeq, width };
  }

  /** A fresh decoder (empty cache) over these encoder states, one row per encoder row; it takes the arrays over. */
  decoderState(cross: CrossAttentionInputs): DecoderState {
    return new DecoderState(this.decoder, this.spec, cross);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.vision, this.decoder, this.textEncoder].map((r) => r?.dispose()));
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
  private states: Float32Array;
  private statesT: Float32Array;
  private encMask: BigInt64Array;
  /** which original encoder row each current row comes from; encoder states are regathered only when it changes */
  private source: number[];
  private readonly heads: number;
  private readonly hd: number;
  private readonly layers: number;
  private readonly encSeq: number;
  private readonly width: number;
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
    this.width = cross.width;
    this.pastKeys = Array.from({ length: this.layers }, () => new Float32Array(0));
    this.pastValues = Array.from({ length: this.layers }, () => new Float32Array(0));
    this.states = cross.states;
    this.statesT = cross.statesT;
    this.encMask = cross.mask;
    this.source = Array.from({ length: cross.rows }, (_, i) => i);
  }

  get rowCount(): number {
    return this.rows;
  }

  async step(tokens: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (tokens.length !== this.rows) throw new RangeError(`decoder has ${this.rows} rows but got tokens for ${tokens.length}`);
    const T = tokens[0]?.length ?? 0;
    const { heads, hd, encSeq, width, rows } = this;
    const feeds: Record<string, NdArray> = {
      [DECODER_INPUT_IDS]: int64(tokens.flat(), [rows, T]),
      [DECODER_ENCODER_STATES]: float32(this.states, [rows, encSeq, width]),
      [DECODER_ENCODER_STATES_T]: float32(this.statesT, [rows, width, encSeq]),
      [DECODER_ENCODER_MASK]: { type: 'int64', data: this.encMask, dims: [rows, encSeq] },
    };
    for (let i = 0; i < this.layers; i++) {
      feeds[pastKey(i)] = float32(this.pastKeys[i] as Float32Array, [rows, heads, this.pastLen, hd]);
      feeds[pastValue(i)] = float32(this.pastValues[i] as Float32Array, [rows, heads, this.pastLen, hd]);
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
    const stateRow = encSeq * this.width;
    // Dropping finished rows (greedy search) compacts the arrays in place: a gathered copy would sit next to
    // the old ones until the next collection.
    const pick = strictlyIncreasing(rows) && rows.length <= this.rows ? compactRows : gatherRows;
    for (let i = 0; i < this.layers; i++) {
      this.pastKeys[i] = pick(this.pastKeys[i] as Float32Array, pastRow, rows);
      this.pastValues[i] = pick(this.pastValues[i] as Float32Array, pastRow, rows);
    }
    const nextSource = rows.map((r) => this.source[r] as number);
    const sameSource = nextSource.length === this.source.length && nextSource.every((s, i) => s === this.source[i]);
    if (!sameSource) {
      this.states = pick(this.states, stateRow, rows);
      this.statesT = pick(this.statesT, stateRow, rows);
      this.encMask = pick(this.encMask, encSeq, rows);
    }
    this.source = nextSource;
    this.rows = rows.length;
  }
}
