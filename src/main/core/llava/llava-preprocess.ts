/**
 * LLaVA image preprocessing from the pack's preprocessor_config.json, matching transformers' slow (PIL)
 * processors, the ones llava-hf's checkpoints were evaluated with:
 *  - CLIPImageProcessor (LLaVA-1.5): resize the shortest edge to size.shortest_edge (aspect kept), center crop
 *    crop_size, rescale, normalize;
 *  - SiglipImageProcessor (interleave): resize to size.height × size.width, rescale, normalize.
 * Each step honours its do_* flag. Pixels are always RGB (the vision towers take three channels).
 */
import { decodeImageRgb, type DecodedRgb } from '../blip/image-decode';
import { pilResize, type PilFilter } from '../blip/pil-resize';
import { ModelFileError, TandemError } from '../errors';
import { isJsonObject } from './llava-pack-config';

export interface LlavaImageConfig {
  kind: 'clip' | 'siglip';
  /** Resize target: the shortest edge (aspect kept) or an exact size. */
  resize: { shortestEdge: number } | { height: number; width: number };
  crop: { height: number; width: number } | null;
  filter: PilFilter;
  rescaleFactor: number;
  mean: [number, number, number];
  std: [number, number, number];
  doResize: boolean;
  doRescale: boolean;
  doNormalize: boolean;
}

const CONFIG_FILE = 'preprocessor_config.json';
const OPENAI_CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
/** PIL's resample numbers; nearest (0) is not implemented bit-exactly here. */
const PIL_FILTERS: Record<number, PilFilter> = { 1: 'lanczos', 2: 'bilinear', 3: 'bicubic', 4: 'box', 5: 'hamming' };

function bad(message: string): never {
  throw new ModelFileError(CONFIG_FILE, `${CONFIG_FILE}: ${message}`);
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  return bad(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
}

function flag(v: unknown, fallback: boolean): boolean {
  return typeof v === 'boolean' ? v : fallback;
}

function triple(v: unknown, fallback: [number, number, number], what: string): [number, number, number] {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number, v[2] as number];
  return bad(`${what} must be three numbers, got ${JSON.stringify(v)}`);
}

/** `size` in any of the shapes transformers accepts: a number, {shortest_edge}, {height, width}. */
function readSize(v: unknown, squareWhenNumber: boolean, what: string): LlavaImageConfig['resize'] {
  if (typeof v === 'number') return squareWhenNumber ? { height: positiveInt(v, what), width: v } : { shortestEdge: positiveInt(v, what) };
  if (!isJsonObject(v)) return bad(`${what} must be a number or an object, got ${JSON.stringify(v)}`);
  if (v.shortest_edge !== undefined) return { shortestEdge: positiveInt(v.shortest_edge, `${what}.shortest_edge`) };
  return { height: positiveInt(v.height, `${what}.height`), width: positiveInt(v.width, `${what}.width`) };
}

export function readLlavaImageConfig(json: unknown): LlavaImageConfig {
  if (!isJsonObject(json)) bad('expected a JSON object');
  const type = typeof json.image_processor_type === 'string' ? json.image_processor_type : '';
  const kind = /siglip/i.test(type) ? 'siglip' : 'clip';
  const resample = json.resample ?? 3;
  const filter = typeof resample === 'number' ? PIL_FILTERS[resample] : undefined;
  if (!filter) bad(`resample ${JSON.stringify(resample)} is not supported (use 1–5; LLaVA packs use 3, bicubic)`);
  const resize = json.size === undefined || json.size === null ? (kind === 'clip' ? { shortestEdge: 224 } : { height: 224, width: 224 }) : readSize(json.size, kind === 'siglip', 'size');
  const doCrop = flag(json.do_center_crop, kind === 'clip');
  let crop: LlavaImageConfig['crop'] = null;
  if (doCrop) {
    const c = json.crop_size === undefined || json.crop_size === null ? { height: 224, width: 224 } : readSize(json.crop_size, true, 'crop_size');
    if ('shortestEdge' in c) bad('crop_size must give height and width');
    crop = c;
  }
  const rescaleFactor = json.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number') bad('rescale_factor must be a number');
  const std = triple(json.image_std, kind === 'clip' ? OPENAI_CLIP_STD : [0.5, 0.5, 0.5], 'image_std');
  if (std.includes(0)) bad('image_std must not contain 0');
  return {
    kind,
    resize,
    crop,
    filter,
    rescaleFactor,
    mean: triple(json.image_mean, kind === 'clip' ? OPENAI_CLIP_MEAN : [0.5, 0.5, 0.5], 'image_mean'),
    std,
    doResize: flag(json.do_resize, true),
    doRescale: flag(json.do_rescale, true),
    doNormalize: flag(json.do_normalize, true),
  };
}

/**
 * The size of `pixel_values` for this config, when it does not depend on the photo (resize to a fixed size,
 * or any crop); null when it does (no resize, or shortest-edge resize without a crop).
 */
export function fixedImageSize(cfg: LlavaImageConfig): { height: number; width: number } | null {
  if (cfg.crop) return cfg.crop;
  if (cfg.doResize && 'height' in cfg.resize) return cfg.resize;
  return null;
}

/** transformers' get_resize_output_image_size(default_to_square=False): the short side to `edge`, the long one truncated. */
export function shortestEdgeSize(width: number, height: number, edge: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const newLong = Math.trunc((edge * long) / short);
  return width <= height ? { width: edge, height: newLong } : { width: newLong, height: edge };
}

/** transformers' center_crop: the window starts at floor((size − crop) / 2); outside the image it is zero padding. */
export function centerCrop(img: DecodedRgb, height: number, width: number): DecodedRgb {
  if (img.width === width && img.height === height) return img;
  const top = Math.floor((img.height - height) / 2);
  const left = Math.floor((img.width - width) / 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + left;
      if (sx < 0 || sx >= img.width) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * width + x) * 3;
      out[d] = img.data[s]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s + 2]!;
    }
  }
  return { width, height, data: out };
}

/** Resize and crop, still 8-bit RGB (what the PIL-based processor holds before rescaling). */
export function llavaModelPixels(img: DecodedRgb, cfg: LlavaImageConfig): DecodedRgb {
  let out = img;
  if (cfg.doResize) {
    const target = 'shortestEdge' in cfg.resize ? shortestEdgeSize(img.width, img.height, cfg.resize.shortestEdge) : cfg.resize;
    if (target.width !== img.width || target.height !== img.height) {
      out = { ...target, data: pilResize(img.data, img.width, img.height, 3, target.width, target.height, cfg.filter) };
    }
  }
  if (cfg.crop) out = centerCrop(out, cfg.crop.height, cfg.crop.width);
  return out;
}

export interface PixelValues {
  data: Float32Array;
  /** [1, 3, H, W] */
  dims: number[];
}

/** CHW float32 with numpy's rounding: uint8 → float64 × factor → float32, then float32 (x − mean) / std. */
export function normalizePixels(img: DecodedRgb, cfg: LlavaImageConfig): PixelValues {
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(cfg.mean[c]!);
    const std = Math.fround(cfg.std[c]!);
    for (let i = 0; i < plane; i++) {
      let x = img.data[i * 3 + c]!;
      if (cfg.doRescale) x = Math.fround(x * cfg.rescaleFactor);
      if (cfg.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      out[c * plane + i] = x;
    }
  }
  return { data: out, dims: [1, 3, img.height, img.width] };
}

export async function preprocessLlavaImage(input: string | Buffer | DecodedRgb, cfg: LlavaImageConfig): Promise<PixelValues> {
  const img = typeof input === 'string' || Buffer.isBuffer(input) ? await decodeImageRgb(input) : input;
  if (img.data.length !== img.width * img.height * 3) throw new TandemError('image_decode', `image: expected ${img.width}×${img.height} RGB pixels`);
  return normalizePixels(llavaModelPixels(img, cfg), cfg);
}
