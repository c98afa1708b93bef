/**
 * BLIP image preprocessing, matching Hugging Face's (slow, PIL-based) BlipImageProcessor:
 * convert to RGB → PIL bicubic resize to height×width (aspect ratio ignored) → ×rescale_factor (computed in
 * float64, stored as float32) → (x − mean) / std in float32 → CHW.
 */
import { ModelFileError, TandemError } from '../errors';
import { decodeHeic, decodeImageRgb, type DecodedRgb } from './image-decode';
import { pilResize } from './pil-resize';

export type { DecodedRgb };
export { decodeHeic };

export interface BlipImageConfig {
  height: number;
  width: number;
  mean: [number, number, number];
  std: [number, number, number];
  rescaleFactor: number;
  doResize: boolean;
  doNormalize: boolean;
  doRescale: boolean;
  doConvertRgb: boolean;
}

/** transformers' OPENAI_CLIP_MEAN / OPENAI_CLIP_STD, BlipImageProcessor's defaults. */
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const PIL_BICUBIC = 3;
const CONFIG_FILE = 'preprocessor_config.json';

function bad(message: string): never {
  throw new ModelFileError(CONFIG_FILE, `${CONFIG_FILE}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return bad(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

function bool(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'boolean') return v;
  return bad(`${what} must be true or false, got ${JSON.stringify(v)}`);
}

/** A number broadcasts to all three channels, as BlipImageProcessor accepts. */
function triple(v: unknown, fallback: [number, number, number], what: string): [number, number, number] {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return [v[0] as number, v[1] as number, v[2] as number];
  }
  return bad(`${what} must be three numbers (one per RGB channel), got ${JSON.stringify(v)}`);
}

/** Reads the fields of a Hugging Face `preprocessor_config.json` that BlipImageProcessor uses. */
export function readBlipImageConfig(preprocessorConfigJson: unknown): BlipImageConfig {
  if (!isRecord(preprocessorConfigJson)) bad('expected a JSON object');
  const c = preprocessorConfigJson;
  let height = 384;
  let width = 384;
  const size = c.size;
  if (typeof size === 'number') {
    height = width = positiveInt(size, 'size');
  } else if (isRecord(size)) {
    if (size.height === undefined || size.width === undefined) {
      bad(`size must give height and width for BLIP (got ${JSON.stringify(size)})`);
    }
    height = positiveInt(size.height, 'size.height');
    width = positiveInt(size.width, 'size.width');
  } else if (size !== undefined && size !== null) {
    bad(`size must be a number or {height, width}, got ${JSON.stringify(size)}`);
  }
  // Only bicubic is implemented bit-exactly against Pillow; another filter would silently change the model's input.
  if (c.resample !== undefined && c.resample !== null && c.resample !== PIL_BICUBIC) {
    bad(`resample ${JSON.stringify(c.resample)} is not supported (only 3, bicubic, as every BLIP model uses)`);
  }
  const rescaleFactor = c.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor)) bad(`rescale_factor must be a number`);
  const std = triple(c.image_std, CLIP_STD, 'image_std');
  if (std.some((s) => s === 0)) bad('image_std must not contain 0');
  return {
    height,
    width,
    mean: triple(c.image_mean, CLIP_MEAN, 'image_mean'),
    std,
    rescaleFactor,
    doResize: bool(c.do_resize, true, 'do_resize'),
    doRescale: bool(c.do_rescale, true, 'do_rescale'),
    doNormalize: bool(c.do_normalize, true, 'do_normalize'),
    doConvertRgb: bool(c.do_convert_rgb, true, 'do_convert_rgb'),
  };
}

function isDecoded(input: string | Buffer | DecodedRgb): input is DecodedRgb {
  return typeof input !== 'string' && !Buffer.isBuffer(input);
}

/**
 * Decodes (if needed) and resizes one image to the model's input size, before any float conversion: lets a
 * caller catch a bad photo on its own before batching. Pixels are always RGB whatever `doConvertRgb` says: the
 * model only takes 3 channels (and for RGB photos that flag changes nothing in HF either).
 */
export async function modelPixels(input: string | Buffer | DecodedRgb, cfg: BlipImageConfig, options: { fastDecode?: boolean } = {}): Promise<DecodedRgb> {
  let img: DecodedRgb;
  if (isDecoded(input)) {
    const { width, height, data } = input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 3) {
      throw new TandemError('image_decode', `image: decoded pixels must be ${width}×${height}×3 RGB bytes, got ${data.length}`);
    }
    img = input;
  } else {
    // fastDecode: JPEG shrink-on-load before the exact resize (see DecodeOptions); not pixel-identical.
    img = await decodeImageRgb(input, options.fastDecode && cfg.doResize ? { shrinkOnLoadTo: { width: cfg.width, height: cfg.height } } : {});
  }
  if (!cfg.doResize || (img.width === cfg.width && img.height === cfg.height)) return img;
  return { width: cfg.width, height: cfg.height, data: pilResize(img.data, img.width, img.height, 3, cfg.width, cfg.height, 'bicubic') };
}

/** Writes one image as CHW float32 at `out[offset…]`, with numpy's rounding at each step. */
function normalizeInto(img: DecodedRgb, cfg: BlipImageConfig, out: Float32Array, offset: number): void {
  const plane = img.width * img.height;
  const { data } = img;
  for (let c = 0; c < 3; c++) {
    // normalize() casts mean/std to the image's dtype (float32) before subtracting/dividing.
    const mean = Math.fround(cfg.mean[c]!);
    const std = Math.fround(cfg.std[c]!);
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) {
      const v = data[i * 3 + c]!;
      // rescale(): uint8 → float64 × factor → float32.
      let x = cfg.doRescale ? Math.fround(v * cfg.rescaleFactor) : v;
      // float32 − float32 and float32 / float32: one double op then one rounding equals the float32 op.
      if (cfg.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      out[base + i] = x;
    }
  }
}

/** One image as `pixel_values[0]`: CHW float32, length 3·H·W (H×W = the config's size when doResize). */
export async function preprocessBlipImage(input: string | Buffer | DecodedRgb, cfg: BlipImageConfig): Promise<Float32Array> {
  const img = await modelPixels(input, cfg);
  const out = new Float32Array(3 * img.width * img.height);
  normalizeInto(img, cfg, out, 0);
  return out;
}

/** A batch as one NCHW float32 buffer `[N, 3, H, W]`. Without resizing, all images must share one size. */
export async function preprocessBlipBatch(
  inputs: ReadonlyArray<string | Buffer | DecodedRgb>,
  cfg: BlipImageConfig,
): Promise<Float32Array> {
  const images: DecodedRgb[] = [];
  // Sequential on purpose: decoded full-size photos are large, and sharp already uses its own threads.
  for (const input of inputs) images.push(await modelPixels(input, cfg));
  if (images.length === 0) return new Float32Array(0);
  const { width, height } = images[0]!;
  const size = 3 * width * height;
  const out = new Float32Array(images.length * size);
  images.forEach((img, n) => {
    if (img.width !== width || img.height !== height) {
      const label = typeof inputs[n] === 'string' ? (inputs[n] as string) : `image ${n}`;
      throw new TandemError('image_decode', `${label}: is ${img.width}×${img.height} but the batch is ${width}×${height} (resizing is off)`);
    }
    normalizeInto(img, cfg, out, n * size);
  });
  return out;
}
