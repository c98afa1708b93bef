import sharp, { type Metadata, type Sharp } from 'sharp';
import decodeHeic from 'heic-decode';
import { describeBytes, FORMAT_LABEL, formatFromExtension, sniffFormat, type ImageFormat } from './format-sniff';

/** Refuse images above this many pixels before decoding them (decompression bombs). 250 MP covers medium-format cameras. */
export const MAX_PIXELS = 250_000_000;

/** Pixels ready to hand to sharp: the file itself, or raw RGBA where sharp's build cannot decode the codec (HEVC). */
export type PixelSource =
  | { kind: 'encoded'; buffer: Buffer }
  | { kind: 'raw'; data: Buffer; width: number; height: number; channels: 4 };

export type ProbeResult =
  | {
      status: 'ok';
      format: ImageFormat;
      /** As displayed, after EXIF orientation. */
      width: number;
      height: number;
      orientation: number | null;
      /** Something worth telling the user that does not stop indexing (e.g. a PNG named .jpg). */
      note: string | null;
      source: PixelSource;
    }
  | { status: 'broken' | 'unsupported'; format: ImageFormat | null; reason: string };

function megapixels(w: number, h: number): string {
  return `${Math.round((w * h) / 1e6)} MP`;
}

/**
 * Works out what a file is and whether it can be shown, reading headers only.
 * Never throws for bad content: every failure becomes a specific, human-readable reason.
 */
export async function probeImage(buffer: Buffer, extension: string): Promise<ProbeResult> {
  if (buffer.length === 0) return { status: 'broken', format: null, reason: 'File is empty (0 bytes).' };
  const format = sniffFormat(buffer.subarray(0, 64));
  if (!format) {
    return {
      status: 'broken',
      format: null,
      reason: `Not an image: the content is not JPEG, PNG, WebP, TIFF, GIF, AVIF or HEIC (${describeBytes(buffer)}, ${buffer.length} bytes).`,
    };
  }
  const expected = formatFromExtension(extension);
  const note =
    expected && expected !== format && !(expected === 'heic' && format === 'avif')
      ? `File is a ${FORMAT_LABEL[format]} image named ${extension}.`
      : null;

  if (format === 'heic') return probeHeic(buffer, note);

  let meta: Metadata;
  try {
    meta = await sharp(buffer, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (cause) {
    return { status: 'broken', format, reason: `${FORMAT_LABEL[format]} header is unreadable: ${cleanVipsMessage(cause)}.` };
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!w || !h) return { status: 'broken', format, reason: `${FORMAT_LABEL[format]} header has no image size.` };
  if (w * h > MAX_PIXELS) {
    return {
      status: 'broken',
      format,
      reason: `Image is ${w}×${h} (${megapixels(w, h)}), above the ${megapixels(MAX_PIXELS, 1)} limit: refused without decoding (possible decompression bomb).`,
    };
  }
  const orientation = meta.orientation ?? null;
  const swap = orientation !== null && orientation >= 5 && orientation <= 8;
  return {
    status: 'ok',
    format,
    width: swap ? h : w,
    height: swap ? w : h,
    orientation,
    note,
    source: { kind: 'encoded', buffer },
  };
}

async function probeHeic(buffer: Buffer, note: string | null): Promise<ProbeResult> {
  try {
    const images = await decodeHeic.all({ buffer });
    try {
      const first = images[0];
      if (!first) return { status: 'broken', format: 'heic', reason: 'HEIC file holds no image.' };
      if (first.width * first.height > MAX_PIXELS) {
        return {
          status: 'broken',
          format: 'heic',
          reason: `Image is ${first.width}×${first.height} (${megapixels(first.width, first.height)}), above the ${megapixels(MAX_PIXELS, 1)} limit: refused without decoding.`,
        };
      }
      const decoded = await first.decode();
      // libheif applies the container's rotation/mirror itself, so the pixels are already upright.
      return {
        status: 'ok',
        format: 'heic',
        width: decoded.width,
        height: decoded.height,
        orientation: null,
        note,
        source: {
          kind: 'raw',
          data: Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength),
          width: decoded.width,
          height: decoded.height,
          channels: 4,
        },
      };
    } finally {
      images.dispose();
    }
  } catch (cause) {
    return { status: 'broken', format: 'heic', reason: `HEIC image could not be decoded: ${cleanVipsMessage(cause)}.` };
  }
}

/**
 * Whether the file stops before its format's end marker. Checked from the bytes because libvips'
 * error text is not reliable when several decodes fail at once.
 */
export function looksTruncated(format: ImageFormat, buffer: Buffer): boolean {
  let end = buffer.length;
  while (end > 0 && buffer[end - 1] === 0) end--; // some cameras pad after the end marker
  if (format === 'jpeg') return !(end >= 2 && buffer[end - 2] === 0xff && buffer[end - 1] === 0xd9);
  if (format === 'png') return buffer.lastIndexOf('IEND', end, 'latin1') === -1;
  if (format === 'gif') return buffer[end - 1] !== 0x3b;
  return false;
}

/** Makes libvips' multi-line messages readable in one line. */
export function cleanVipsMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const lines = raw
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const text = lines.join('; ').replace(/\.$/, '');
  if (/premature end|truncated|end of (jpeg|file)|unexpected end|short read/i.test(text)) {
    return 'the file is truncated: its image data ends early';
  }
  return text || 'unknown decoder error';
}

/** A sharp pipeline on the pixel source, upright (EXIF orientation applied), with the pixel limit as a backstop. */
export function openPixels(source: PixelSource): Sharp {
  if (source.kind === 'raw') {
    return sharp(source.data, { raw: { width: source.width, height: source.height, channels: source.channels } });
  }
  return sharp(source.buffer, { limitInputPixels: MAX_PIXELS, failOn: 'error' }).rotate();
}
