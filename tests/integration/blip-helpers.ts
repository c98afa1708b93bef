/** Shared pieces for the BLIP engine tests: generated images and a reference-backed step model. */
import sharp from 'sharp';
import type { StepModel } from '../../src/main/core/blip/generate';
import type { BlipReference } from '../../test-models/blip-reference';

export function solidPng(rgb: readonly [number, number, number], width = 48, height = 40): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

/** A deterministic colourful pattern, so image embeds vary across tokens. */
export function patternPng(seed: number, width = 64, height = 48): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[i] = (x * 4 + seed * 37) % 256;
      raw[i + 1] = (y * 5 + seed * 91) % 256;
      raw[i + 2] = ((x ^ y) * 3 + seed * 53) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/**
 * A StepModel over the float64 reference: every step recomputes the whole row without a cache, so generation
 * run on it is what transformers' code computes (up to float32 rounding).
 */
export class ReferenceStepModel implements StepModel {
  private rows: number[][];
  constructor(
    private readonly ref: BlipReference,
    private encoders: Float64Array<ArrayBuffer>[],
    private encMasks: (number[] | undefined)[],
  ) {
    this.rows = encoders.map(() => []);
  }
  async step(tokens: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const V = this.ref.spec.text.vocabSize;
    return tokens.map((t, r) => {
      this.rows[r]!.push(...t);
      const row = this.rows[r]!;
      const all = this.ref.decoderLogits(row, this.encoders[r]!, this.encMasks[r]);
      return Float32Array.from(all.subarray((row.length - 1) * V, row.length * V));
    });
  }
  selectRows(rows: readonly number[]): void {
    this.rows = rows.map((r) => [...this.rows[r]!]);
    this.encoders = rows.map((r) => this.encoders[r]!);
    this.encMasks = rows.map((r) => this.encMasks[r]);
  }
}
