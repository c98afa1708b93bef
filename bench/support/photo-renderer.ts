/**
 * Child process that renders camera-sized JPEGs for the index benchmark (see photo-library.ts).
 * A separate process rather than a worker thread so its memory never shows up in the benchmark's maxRSS.
 */
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { NOISE_POOL_EXTRA, NOISE_SIGMA, PHOTO_HEIGHT, PHOTO_WIDTH, type BaseSpec, type PhotoSpec } from './photo-spec';
import { seededRng } from './rng';

export type RendererRequest = { type: 'group'; base: BaseSpec; photos: PhotoSpec[]; outDir: string } | { type: 'exit' };
export type RendererReply =
  | { type: 'photo'; index: number; bytes: number; ms: number }
  | { type: 'ready' }
  | { type: 'group-done'; baseMs: number }
  | { type: 'error'; message: string };

const PIXELS = PHOTO_WIDTH * PHOTO_HEIGHT * 3;

/** Roughly Gaussian (sum of two uniforms) noise, made once: JS is far faster at adding it than libvips is at making it. */
function noisePool(): Int8Array {
  const pool = new Int8Array(PIXELS + NOISE_POOL_EXTRA);
  const rng = seededRng(424242 + process.pid);
  const scale = NOISE_SIGMA * 2.45;
  for (let i = 0; i < pool.length; i++) pool[i] = Math.round((rng() + rng() - 1) * scale);
  return pool;
}

async function renderBase(b: BaseSpec, pool: Int8Array): Promise<Buffer> {
  const upright = sharp(b.source).rotate().flatten({ background: '#ffffff' });
  const meta = await upright.metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const sw = (swap ? meta.height : meta.width) ?? 0;
  const sh = (swap ? meta.width : meta.height) ?? 0;
  const cropW = Math.min(sw, (sh * 4) / 3) / b.zoom;
  const cropH = (cropW * 3) / 4;
  const left = Math.round(Math.min(Math.max(b.cx * sw - cropW / 2, 0), sw - cropW));
  const top = Math.round(Math.min(Math.max(b.cy * sh - cropH / 2, 0), sh - cropH));
  let pipe = sharp(await upright.toBuffer())
    .extract({ left, top, width: Math.floor(cropW), height: Math.floor(cropH) })
    .resize(PHOTO_WIDTH, PHOTO_HEIGHT, { fit: 'fill', kernel: 'lanczos3' })
    .toColourspace('srgb')
    .removeAlpha();
  if (b.flop) pipe = pipe.flop();
  if (b.flip) pipe = pipe.flip();
  const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== PHOTO_WIDTH || info.height !== PHOTO_HEIGHT) {
    throw new Error(`${b.source}: base came out ${info.width}×${info.height}×${info.channels}`);
  }
  const noisy = new Uint8ClampedArray(PIXELS);
  const off = b.noiseOffset;
  for (let i = 0; i < PIXELS; i++) noisy[i] = data[i]! + pool[off + i]!;
  return Buffer.from(noisy.buffer, noisy.byteOffset, noisy.byteLength);
}

async function renderPhoto(base: Buffer, p: PhotoSpec, outDir: string): Promise<number> {
  const jpeg = await sharp(base, { raw: { width: PHOTO_WIDTH, height: PHOTO_HEIGHT, channels: 3 } })
    .linear(p.gain, [p.lift, p.lift, p.lift])
    // Cameras use their standard Huffman tables, and skipping the optimisation pass saves ~15% here.
    .jpeg({ quality: 90, optimiseCoding: false })
    .withExif({
      IFD0: { Make: p.make, Model: p.model, DateTime: p.takenAt, Software: 'tandem-bench' },
      IFD2: { DateTimeOriginal: p.takenAt, DateTimeDigitized: p.takenAt },
    })
    .withMetadata({ orientation: p.orientation })
    .toBuffer();
  const file = join(outDir, p.relPath);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, jpeg);
  await utimes(tmp, p.mtimeSec, p.mtimeSec);
  await rename(tmp, file);
  return jpeg.length;
}

async function main(): Promise<void> {
  sharp.cache(false);
  const pool = noisePool();
  const send = (m: RendererReply): void => void process.send!(m);
  process.on('message', (msg: RendererRequest) => {
    void (async () => {
      if (msg.type === 'exit') process.exit(0);
      try {
        const t0 = performance.now();
        const base = await renderBase(msg.base, pool);
        const baseMs = performance.now() - t0;
        for (const p of msg.photos) {
          const t = performance.now();
          const bytes = await renderPhoto(base, p, msg.outDir);
          send({ type: 'photo', index: p.index, bytes, ms: performance.now() - t });
        }
        send({ type: 'group-done', baseMs });
      } catch (err) {
        send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  send({ type: 'ready' });
}

await main();
