import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { openPixels, probeImage } from '../../src/main/core/library/image-probe';
import { THUMB_EDGE } from '../../src/main/core/library/thumbnails';

export interface EncoderResult {
  name: string;
  meanMs: number;
  meanBytes: number;
}

type Raw = { data: Buffer; info: { width: number; height: number; channels: number } };

/** Encoders for the large (1280 px) thumbnail; "(current)" marks what thumbnails.ts does today. */
const LARGE: Record<string, (r: Raw) => Promise<Buffer>> = {
  'webp q82 effort 4': (r) => fromRaw(r).webp({ quality: 82 }).toBuffer(),
  'webp q82 effort 2 (current)': (r) => fromRaw(r).webp({ quality: 82, effort: 2 }).toBuffer(),
  'webp q82 effort 0': (r) => fromRaw(r).webp({ quality: 82, effort: 0 }).toBuffer(),
  'jpeg q82': (r) => fromRaw(r).jpeg({ quality: 82 }).toBuffer(),
  'jpeg q82 mozjpeg': (r) => fromRaw(r).jpeg({ quality: 82, mozjpeg: true }).toBuffer(),
};

const SMALL: Record<string, (r: Raw) => Promise<Buffer>> = {
  'small webp q78 effort 4': (r) =>
    fromRaw(r).resize(THUMB_EDGE.small, THUMB_EDGE.small, { fit: 'inside' }).webp({ quality: 78 }).toBuffer(),
  'small webp q78 effort 2 (current)': (r) =>
    fromRaw(r).resize(THUMB_EDGE.small, THUMB_EDGE.small, { fit: 'inside' }).webp({ quality: 78, effort: 2 }).toBuffer(),
};

function fromRaw(r: Raw): Sharp {
  return sharp(r.data, { raw: { width: r.info.width, height: r.info.height, channels: r.info.channels as 3 } });
}

/** Times each thumbnail encoder on the same decoded pixels, one photo at a time. */
export async function compareThumbnailEncoders(files: string[]): Promise<EncoderResult[]> {
  const all = { ...LARGE, ...SMALL };
  const sums = new Map<string, { ms: number; bytes: number }>(Object.keys(all).map((k) => [k, { ms: 0, bytes: 0 }]));
  for (const file of files) {
    const buffer = await readFile(file);
    const probe = await probeImage(buffer, extname(file));
    if (probe.status !== 'ok') continue;
    const raw = (await openPixels(probe.source)
      .resize(THUMB_EDGE.large, THUMB_EDGE.large, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true })) as Raw;
    for (const [name, encode] of Object.entries(all)) {
      const t = performance.now();
      const out = await encode(raw);
      const s = sums.get(name)!;
      s.ms += performance.now() - t;
      s.bytes += out.length;
    }
  }
  return [...sums].map(([name, s]) => ({ name, meanMs: s.ms / files.length, meanBytes: s.bytes / files.length }));
}
