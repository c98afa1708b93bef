import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MAX_PIXELS, probeImage } from '../../src/main/core/library/image-probe';
import { exifDate } from '../../src/main/core/library/photo-metadata';
import { sniffFormat } from '../../src/main/core/library/format-sniff';

describe('probeImage', () => {
  it('recognises AVIF by content', async () => {
    const avif = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c04020' } }).avif().toBuffer();
    expect(sniffFormat(avif)).toBe('avif');
    const r = await probeImage(avif, '.avif');
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect([r.width, r.height]).toEqual([64, 48]);
  });

  it('refuses a huge image from its header alone', async () => {
    // A small PNG whose header claims 20000×13000: refused before any pixel is decoded.
    const png = withPngSize(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer(), 20000, 13000);
    expect(20000 * 13000).toBeGreaterThan(MAX_PIXELS);
    const before = process.memoryUsage().rss;
    const r = await probeImage(png, '.png');
    expect(r.status).toBe('broken');
    if (r.status !== 'ok') expect(r.reason).toMatch(/20000×13000 \(260 MP\).*limit/);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('says what unknown content is', async () => {
    const r = await probeImage(Buffer.from('%PDF-1.7 hello'), '.jpg');
    expect(r.status).toBe('broken');
    if (r.status !== 'ok') expect(r.reason).toContain('starts with "%PDF-1.7 hel"');
  });
});

describe('exifDate', () => {
  it('keeps camera local time and an offset when present', () => {
    expect(exifDate('2021:03:02 08:15:00', undefined)).toBe('2021-03-02T08:15:00');
    expect(exifDate('2021:03:02 08:15:00', '+01:00')).toBe('2021-03-02T08:15:00+01:00');
    expect(exifDate('0000:00:00 00:00:00', undefined)).toBeNull();
    expect(exifDate('garbage', undefined)).toBeNull();
  });
});

/** Rewrites the IHDR width/height of a PNG (and its CRC). */
function withPngSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  // signature (8) + length (4) + "IHDR" (4) → width at 16, height at 20, CRC after the 13-byte body.
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}
