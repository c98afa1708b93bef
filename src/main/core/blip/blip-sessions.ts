/**
 * The onnxruntime sessions of a compiled BLIP (graphs in compile-blip.ts, generation in generate.ts, the public
 * face in blip-engine.ts). Runs the compiled BLIP graphs: image → embeds, embeds → cross keys/values, question → states, and a
 * decoder with its KV cache that the generator steps through.
 */
import { join } from 'node:path';
import type { NdArray, NdFloat32 } from '../onnx/nd-array';
import { float32, int64 } from '../onnx/nd-array';
import type { InferenceRunner, RuntimeOptions } from '../onnx/runtime';
import { createInferenceSession } from '../onnx/runtime';
import { collectGarbage } from '../system/collect-garbage';
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
    private readonly crossKv: InferenceRunner,
    private readonly decoder: InferenceRunner,
    private readonly textEncoder: InferenceRunner | undefined,
    /** Encoder rows per cross-keys/values run (see crossAttention). */
    private readonly crossRowsPerRun: number,
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
      // Exact (fp32) captioning is the one with a memory goal; fast (int8) captioning is the one with a speed goal.
      const crossRowsPerRun = compiled.manifest.quantization === 'int8' ? Number.POSITIVE_INFINITY : 1;
      return new BlipSessions(spec, vision, crossKv, decoder, textEncoder, crossRowsPerRun);
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

  /** Cross-attention keys/values of `states` ([rows, encSeq, De]) for every decoder layer, computed once. */
  async crossAttention(states: NdFloat32, mask?: BigInt64Array): Promise<CrossAttentionInputs> {
    const [rows, encSeq, De] = states.dims as [number, number, number];
    const L = this.spec.text.numHiddenLayers;
    const heads = this.spec.text.numAttentionHeads;
    const hd = this.spec.text.hiddenSize / heads;
    const rowSize = heads * hd * encSeq;
    // One allocation for all layers (40 MiB per row): glibc maps a block this large on its own and unmaps it when
    // the batch is collected, instead of leaving 24 freed pieces in the heap next to the next batch's decoding.
    const all = new Float32Array(2 * L * rows * rowSize);
    const part = (j: number) => all.subarray(j * rows * rowSize, (j + 1) * rows * rowSize);
    const keys = Array.from({ length: L }, (_, i) => part(2 * i));
    const values = Array.from({ length: L }, (_, i) => part(2 * i + 1));
    // Row by row, onnxruntime's own copy of the outputs is one row's (40 MiB) rather than the batch's (324 MiB at
    // batch 8: fp32's peak went 1.84 → 1.60 GiB); it costs the extra runs and collections (fp32 +15 ms an image,
    // int8 +35 ms, 9% of its time), so int8 runs the batch at once.
    for (let r = 0; r < rows; r += this.crossRowsPerRun) {
      const k = Math.min(this.crossRowsPerRun, rows - r);
      const outputs: Record<string, NdFloat32> = {};
      const view = (a: Float32Array) => a.subarray(r * rowSize, (r + k) * rowSize);
      for (let i = 0; i < L; i++) {
        outputs[crossKey(i)] = float32(view(keys[i]!), [k, heads, hd, encSeq]);
        outputs[crossValue(i)] = float32(view(values[i]!), [k, heads, encSeq, hd]);
      }
      await runInto(this.crossKv, { [CROSS_KV_INPUT]: float32(states.data.subarray(r * encSeq * De, (r + k) * encSeq * De), [k, encSeq, De]) }, outputs);
      // onnxruntime-node still returns a JS copy of every output it wrote into ours (unused): collect it now, or
      // V8 lets several runs' worth pile up beside the batch's keys/values.
      collectGarbage();
    }
    return { keys, values, mask: mask ?? new BigInt64Array(rows * encSeq).fill(1n), rows, encSeq };
  }

  /** A fresh decoder (empty cache) over these encoder keys/values, one row per encoder row; it takes the arrays over. */
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
    // Dropping finished rows (greedy search) compacts the arrays in place: a gathered copy would sit next to
    // the old cross keys/values (40 MiB per row) until the next collection.
    const pick = strictlyIncreasing(rows) && rows.length <= this.rows ? compactRows : gatherRows;
    for (let i = 0; i < this.layers; i++) {
      this.pastKeys[i] = pick(this.pastKeys[i] as Float32Array, pastRow, rows);
      this.pastValues[i] = pick(this.pastValues[i] as Float32Array, pastRow, rows);
    }
    const nextSource = rows.map((r) => this.source[r] as number);
    const sameSource = nextSource.length === this.source.length && nextSource.every((s, i) => s === this.source[i]);
    if (!sameSource) {
      for (let i = 0; i < this.layers; i++) {
        this.crossKeys[i] = pick(this.crossKeys[i] as Float32Array, crossRow, rows);
        this.crossValues[i] = pick(this.crossValues[i] as Float32Array, crossRow, rows);
      }
      this.encMask = pick(this.encMask, encSeq, rows);
    }
    this.source = nextSource;
    this.rows = rows.length;
  }
}
