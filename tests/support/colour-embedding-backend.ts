/**
 * A stand-in retrieval model for the library side's tests (the real one runs in the inference process): it
 * really looks at the pixels, so searches behave like the hand-set colour model's. An image's embedding is its
 * mean colour with the grey taken out; a text's is the colour words it names. Red photo · "red" ≈ 1, red · "blue" ≈ 0.
 */
import sharp from 'sharp';
import { WorkerCrashedError } from '../../src/main/core/inference/inference-client';
import type { EmbedOutcome, EmbeddingBackend } from '../../src/main/core/retrieval/embedding-backend';

export const COLOUR_DIMS = 4;

const WORDS: Record<string, [number, number, number]> = {
  red: [1, 0, 0],
  green: [0, 1, 0],
  blue: [0, 0, 1],
  yellow: [1, 1, 0],
  purple: [1, 0, 1],
};

function normalise(v: number[]): Float32Array {
  const n = Math.hypot(...v) || 1;
  return Float32Array.from(v.map((x) => x / n));
}

export function textVector(text: string): Float32Array {
  const v = [0, 0, 0, 0.05];
  for (const w of text.toLowerCase().split(/\W+/)) {
    const c = WORDS[w];
    if (c) c.forEach((x, i) => (v[i]! += x));
  }
  return normalise(v);
}

export async function imageVector(path: string): Promise<Float32Array> {
  const { data } = await sharp(path).removeAlpha().resize(8, 8, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 3) for (let c = 0; c < 3; c++) sum[c]! += data[i + c]! / 255;
  const mean = sum.map((s) => s / (data.length / 3));
  const grey = Math.min(...mean);
  return normalise([...mean.map((m) => m - grey), 0.05]);
}

export interface ColourBackend extends EmbeddingBackend {
  /** Every photo path sent to embedImages, in order. */
  embedded: string[];
  loads: number;
  /** The next embedImages call rejects as if the inference process had been killed. */
  crashNext: () => void;
  /** Every embedImages call waits until the returned function is called (a run caught in the middle). */
  hold: () => () => void;
}

export function colourEmbeddingBackend(): ColourBackend {
  let crash = false;
  let held: Promise<void> | null = null;
  const backend: ColourBackend = {
    embedded: [],
    loads: 0,
    crashNext: () => {
      crash = true;
    },
    hold: () => {
      let release = (): void => {};
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = null;
        release();
      };
    },
    async load() {
      backend.loads++;
      return { dimensions: COLOUR_DIMS };
    },
    async embedImages(items) {
      if (held) await held;
      if (crash) {
        crash = false;
        throw new WorkerCrashedError('killed by SIGKILL');
      }
      const out: EmbedOutcome[] = [];
      for (const item of items) {
        try {
          const vector = await imageVector(item.path);
          backend.embedded.push(item.path);
          out.push({ jobId: item.jobId, photoId: item.photoId, ok: true, vector });
        } catch (err) {
          out.push({ jobId: item.jobId, photoId: item.photoId, ok: false, error: err instanceof Error ? err.message : String(err) });
        }
      }
      return out;
    },
    async embedTexts(texts) {
      return texts.map(textVector);
    },
    async match(path, texts) {
      const image = await imageVector(path);
      return texts.map((t) => {
        const v = textVector(t);
        const cos = v.reduce((s, x, i) => s + x * image[i]!, 0);
        return 1 / (1 + Math.exp(-8 * (cos - 0.5)));
      });
    },
  };
  return backend;
}
