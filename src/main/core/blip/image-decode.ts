/**
 * Decodes a photo to 8-bit RGB the way `PIL.ImageOps.exif_transpose(Image.open(f)).convert("RGB")` does, which is
 * what Hugging Face pipelines feed BlipImageProcessor:
 *  - EXIF orientation applied (a pure pixel permutation in both sharp and Pillow);
 *  - embedded ICC profiles ignored (Pillow never colour-manages on open);
 *  - alpha dropped, not composited (Pillow's RGBA→RGB and LA→RGB conversions just discard it);
 *  - grey replicated to R=G=B.
 * sharp's prebuilt libvips has no HEVC decoder, so HEIC goes through libheif (wasm) in `heic-decode`.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import decodeHeicImage from 'heic-decode';
import { TandemError } from '../errors';

/** 8-bit RGB pixels, row-major, 3 bytes per pixel (`data.length === width * height * 3`). */
export interface DecodedRgb {
  width: number;
  height: number;
  data: Uint8Array;
}

/** HEIF major brands whose images are HEVC-coded (AVIF's `avif`/`avis` stay with sharp). */
const HEVC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis']);

function decodeError(label: string, reason: string, cause?: unknown): TandemError {
  return new TandemError('image_decode', `${label}: ${reason}`, { cause });
}

/** Major brand of an ISO-BMFF (HEIF/AVIF) file, or undefined for anything else. */
function heifBrand(buf: Uint8Array): string | undefined {
  if (buf.length < 12) return undefined;
  if (String.fromCharCode(buf[4]!, buf[5]!, buf[6]!, buf[7]!) !== 'ftyp') return undefined;
  return String.fromCharCode(buf[8]!, buf[9]!, buf[10]!, buf[11]!);
}

/** Interleaved 1–4 channel pixels → RGB, as Pillow's convert("RGB") treats L, LA, RGB and RGBA. */
export function toRgb(data: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const n = width * height;
  if (data.length !== n * channels) throw new RangeError(`pixel buffer has ${data.length} bytes, expected ${n}×${channels}`);
  if (channels === 3) return data;
  const out = new Uint8Array(n * 3);
  if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const g = data[i * channels]!;
      out[i * 3] = g;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = g;
    }
  } else if (channels === 4) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = data[i * 4]!;
      out[i * 3 + 1] = data[i * 4 + 1]!;
      out[i * 3 + 2] = data[i * 4 + 2]!;
    }
  } else {
    throw new RangeError(`cannot convert ${channels}-channel pixels to RGB`);
  }
  return out;
}

/** sharp/libvips messages, made readable: no "VipsJpeg:" prefixes or trailing newlines. */
function sharpReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) return 'not an image in a supported format (JPEG, PNG, WebP, TIFF, GIF, AVIF, HEIC)';
  if (/pixel limit/i.test(msg)) return 'image is too large to decode (over the 268-megapixel safety limit)';
  if (/premature end|truncated|unexpected end|not enough data/i.test(msg)) return 'the file is truncated or damaged';
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? msg;
  return first.replace(/^Vips\w*:\s*/, '').replace(/^\w+load(_buffer)?:\s*/, '').trim();
}

/** Decodes HEIC/HEIF (HEVC) with libheif; irot/imir transforms are applied by libheif itself. */
export async function decodeHeic(buffer: Uint8Array, label = 'image'): Promise<DecodedRgb> {
  let decoded: { width: number; height: number; data: Uint8ClampedArray };
  try {
    decoded = await decodeHeicImage({ buffer });
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    throw decodeError(label, `HEIC image could not be decoded (${msg})`, cause);
  }
  const { width, height } = decoded;
  const rgba = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
  return { width, height, data: toRgb(rgba, width, height, 4) };
}

export interface DecodeOptions {
  /**
   * Decode a JPEG at libjpeg's 1/2, 1/4 or 1/8 scale (DCT scaling, "shrink-on-load"), the smallest that keeps
   * both sides at least this size, instead of at full size. A 12 MP photo then decodes in about a quarter of the
   * CPU time, but its pixels after the model's resize differ from Pillow's full-size path by about 1 level on
   * average (up to ~35 of 255 on edges), so it is only for the Fast (int8) precision, whose captions may differ
   * anyway. Other formats decode at full size.
   */
  shrinkOnLoadTo?: { width: number; height: number };
}

/** The largest JPEG DCT scale-down factor keeping both sides ≥ the target (1 when none does). */
export function jpegShrinkFactor(width: number, height: number, target: { width: number; height: number }): number {
  const need = Math.max(target.width, target.height);
  return [8, 4, 2].find((k) => Math.floor(Math.min(width, height) / k) >= need) ?? 1;
}

async function decodeWithSharp(buffer: Buffer, options: DecodeOptions = {}): Promise<DecodedRgb> {
  let pipeline = sharp(buffer, { ignoreIcc: true, pages: 1 }).autoOrient();
  if (options.shrinkOnLoadTo) {
    const meta = await sharp(buffer).metadata();
    const factor = meta.format === 'jpeg' && meta.width && meta.height ? jpegShrinkFactor(meta.width, meta.height, options.shrinkOnLoadTo) : 1;
    if (factor > 1) {
      // Sizes after autoOrient: orientations 5–8 swap the sides. Asking for exactly the DCT-scaled size makes
      // sharp decode at that scale and resample nothing afterwards.
      const swap = (meta.orientation ?? 1) >= 5;
      const w = Math.ceil((swap ? meta.height : meta.width)! / factor);
      const h = Math.ceil((swap ? meta.width : meta.height)! / factor);
      pipeline = pipeline.resize({ width: w, height: h, fit: 'fill', fastShrinkOnLoad: true, kernel: 'nearest' });
    }
  }
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { width: info.width, height: info.height, data: toRgb(bytes, info.width, info.height, info.channels) };
}

/**
 * Turns off libvips' operation cache (by default up to 50 MB of recent results, decoded photos included) for this
 * process. A photo is decoded once and never again, so the cache only held memory; the inference process calls
 * this at start.
 */
export function disableDecodeCache(): void {
  sharp.cache(false);
}

/** Reads and decodes a photo file or an encoded image buffer to RGB. Errors are TandemError('image_decode'). */
export async function decodeImageRgb(input: string | Buffer, options: DecodeOptions = {}): Promise<DecodedRgb> {
  const label = typeof input === 'string' ? input : 'image';
  let buffer: Buffer;
  if (typeof input === 'string') {
    try {
      buffer = await readFile(input);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw decodeError(label, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(cause)})`, cause);
    }
  } else {
    buffer = input;
  }
  if (buffer.length === 0) throw decodeError(label, 'the file is empty');

  const brand = heifBrand(buffer);
  if (brand !== undefined && HEVC_BRANDS.has(brand)) return decodeHeic(buffer, label);
  try {
    return await decodeWithSharp(buffer, options);
  } catch (cause) {
    // Generic HEIF brands (mif1/msf1) may hold HEVC, which sharp's libheif build cannot decode.
    if (brand !== undefined) return decodeHeic(buffer, label);
    throw decodeError(label, sharpReason(cause), cause);
  }
}
