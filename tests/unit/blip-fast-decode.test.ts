/** Fast (int8) captioning's JPEG shrink-on-load: the scale it picks, and how far its pixels are from the exact path. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImageRgb, jpegShrinkFactor } from '../../src/main/core/blip/image-decode';
import { modelPixels, readBlipImageConfig } from '../../src/main/core/blip/preprocess';

const cfg = readBlipImageConfig({ size: { height: 384, width: 384 } });

function gradient(width: number, height: number): Buffer {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set([(x * 255) / width, (y * 255) / height, ((x + y) * 127) / (width + height)], (y * width + x) * 3);
  }
  return raw;
}

describe('JPEG shrink-on-load for fast decoding', () => {
  it('picks the largest 1/2, 1/4, 1/8 scale that keeps both sides ≥ the model size', () => {
    expect(jpegShrinkFactor(4000, 3000, { width: 384, height: 384 })).toBe(4);
    expect(jpegShrinkFactor(3072, 3072, { width: 384, height: 384 })).toBe(8);
    expect(jpegShrinkFactor(800, 600, { width: 384, height: 384 })).toBe(1);
    expect(jpegShrinkFactor(1600, 800, { width: 384, height: 384 })).toBe(2);
  });

  it('decodes a large JPEG at reduced scale, close to the exact path after the resize', async () => {
    const [w, h] = [1800, 1200];
    const jpeg = await sharp(gradient(w, h), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
    const small = await decodeImageRgb(jpeg, { shrinkOnLoadTo: { width: 384, height: 384 } });
    expect([small.width, small.height]).toEqual([900, 600]);
    const exact = await modelPixels(jpeg, cfg);
    const fast = await modelPixels(jpeg, cfg, { fastDecode: true });
    expect([fast.width, fast.height]).toEqual([384, 384]);
    let sum = 0;
    for (let i = 0; i < exact.data.length; i++) sum += Math.abs(exact.data[i]! - fast.data[i]!);
    expect(sum / exact.data.length).toBeLessThan(2);
  });

  it('leaves other formats and exact decoding alone', async () => {
    const [w, h] = [1800, 1200];
    const png = await sharp(gradient(w, h), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    expect(await modelPixels(png, cfg, { fastDecode: true })).toEqual(await modelPixels(png, cfg));
  });
});
