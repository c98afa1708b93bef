import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pick, randInt, seededRng } from './rng';

/** Bump when the rendering changes, so an old cached library is not mistaken for the new one. */
export const LIBRARY_VERSION = 1;
export const PHOTO_WIDTH = 4000;
export const PHOTO_HEIGHT = 3000;
/** Noise that makes sizes camera-like: upscaled fixtures alone compress to a few hundred KB at quality 90. */
export const NOISE_SIGMA = 8;
export const NOISE_POOL_EXTRA = 4_000_000;

export const FIXTURES_DIR = fileURLToPath(new URL('../../../shared/fixtures/photos/', import.meta.url));

/** A 4000×3000 picture made once from a fixture and shared by many photos (cropping and resizing dominate cost). */
export interface BaseSpec {
  id: number;
  source: string;
  /** 1 = the largest 4:3 crop of the source; 1.6 = a tighter crop. */
  zoom: number;
  /** Crop centre, 0..1 of the source's width and height. */
  cx: number;
  cy: number;
  flop: boolean;
  flip: boolean;
  /** Where this base's sensor noise starts in the noise pool. */
  noiseOffset: number;
}

/**
 * One generated photo: a base with its own tint and brightness, and its own EXIF. The noise lives in the base,
 * rendered once, because adding it per photo in JS cost as much as the JPEG encode.
 */
export interface PhotoSpec {
  index: number;
  relPath: string;
  base: number;
  /** Per-channel gain, ~0.85..1.15. */
  gain: [number, number, number];
  /** Added to every channel after the gain, -12..12. */
  lift: number;
  orientation: 1 | 6;
  make: string;
  model: string;
  /** EXIF form, "YYYY:MM:DD HH:MM:SS". */
  takenAt: string;
  /** File mtime in seconds: cameras write the file when the shot is taken. */
  mtimeSec: number;
}

const CAMERAS: readonly { make: string; model: string; name: (n: number, d: Date) => string }[] = [
  { make: 'Canon', model: 'Canon EOS 80D', name: (n) => `IMG_${pad(n % 10000, 4)}.JPG` },
  { make: 'NIKON CORPORATION', model: 'NIKON D750', name: (n) => `DSC_${pad(n % 10000, 4)}.JPG` },
  { make: 'SONY', model: 'ILCE-7M3', name: (n) => `DSC${pad(n % 100000, 5)}.JPG` },
  { make: 'FUJIFILM', model: 'X-T3', name: (n) => `DSCF${pad(n % 10000, 4)}.JPG` },
  { make: 'Apple', model: 'iPhone 12 Pro', name: (_n, d) => `IMG_${ymd(d)}_${hms(d)}.jpg` },
  { make: 'Google', model: 'Pixel 6', name: (n, d) => `PXL_${ymd(d)}_${hms(d)}${pad(n % 1000, 3)}.jpg` },
];

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
function ymd(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}
function hms(d: Date): string {
  return `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
}

/** Fixture pictures that decode everywhere; broken/ and odd formats are left to the functional tests. */
export function sourcePhotos(): string[] {
  const real = readdirSync(join(FIXTURES_DIR, 'real')).map((f) => join(FIXTURES_DIR, 'real', f));
  return [...real, join(FIXTURES_DIR, 'formats', 'astronaut-12mp.jpg')].sort();
}

const VARIANTS_PER_SOURCE = 4;

export function baseSpecs(): BaseSpec[] {
  const out: BaseSpec[] = [];
  for (const source of sourcePhotos()) {
    for (let v = 0; v < VARIANTS_PER_SOURCE; v++) {
      const rng = seededRng(9000 + out.length);
      out.push({
        id: out.length,
        source,
        zoom: v === 0 ? 1 : 1 + rng() * 0.6,
        cx: 0.35 + rng() * 0.3,
        cy: 0.35 + rng() * 0.3,
        flop: v % 2 === 1,
        flip: v === 3,
        noiseOffset: Math.floor(rng() * NOISE_POOL_EXTRA),
      });
    }
  }
  return out;
}

const START = Date.UTC(2015, 0, 1);
const SPAN_MS = Date.UTC(2025, 0, 1) - START;

/** Photo i is the same whatever the library size, so a larger library reuses every file of a smaller one. */
export function photoSpec(index: number, baseCount: number): PhotoSpec {
  const rng = seededRng(index * 7919 + 17);
  const day = new Date(START + Math.floor(rng() * (SPAN_MS / 86_400_000)) * 86_400_000);
  const when = new Date(day.getTime() + randInt(rng, 7 * 3600, 21 * 3600) * 1000);
  const camera = pick(rng, CAMERAS);
  const y = when.getUTCFullYear();
  const m = pad(when.getUTCMonth() + 1, 2);
  // The index keeps names unique when two phones shoot in the same second.
  const name = camera.name(index + 1, when).replace(/(\.[A-Za-z]+)$/, index >= 10000 ? `_${index}$1` : '$1');
  const exifTime = `${y}:${m}:${pad(when.getUTCDate(), 2)} ${pad(when.getUTCHours(), 2)}:${pad(when.getUTCMinutes(), 2)}:${pad(when.getUTCSeconds(), 2)}`;
  return {
    index,
    relPath: `${y}/${y}-${m}/${name}`,
    base: Math.floor(rng() * baseCount),
    gain: [0.85 + rng() * 0.3, 0.85 + rng() * 0.3, 0.85 + rng() * 0.3],
    lift: Math.round(rng() * 24 - 12),
    orientation: rng() < 0.15 ? 6 : 1,
    make: camera.make,
    model: camera.model,
    takenAt: exifTime,
    mtimeSec: when.getTime() / 1000,
  };
}

/** Specs for photos 0..count-1, with any clashing path made unique (two phone shots in the same second). */
export function librarySpecs(count: number): PhotoSpec[] {
  const bases = baseSpecs().length;
  const seen = new Set<string>();
  const out: PhotoSpec[] = [];
  for (let i = 0; i < count; i++) {
    const spec = photoSpec(i, bases);
    if (seen.has(spec.relPath.toLowerCase())) spec.relPath = spec.relPath.replace(/(\.[A-Za-z]+)$/, `_${i}$1`);
    seen.add(spec.relPath.toLowerCase());
    out.push(spec);
  }
  return out;
}
