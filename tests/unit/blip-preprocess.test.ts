import { describe, expect, it } from 'vitest';
import { ModelFileError, TandemError } from '../../src/main/core/errors';
import { decodeImageRgb } from '../../src/main/core/blip/image-decode';
import { pilResize, precomputeCoefficients, type PilFilter } from '../../src/main/core/blip/pil-resize';
import {
  preprocessBlipBatch,
  preprocessBlipImage,
  readBlipImageConfig,
  type BlipImageConfig,
  type DecodedRgb,
} from '../../src/main/core/blip/preprocess';

const PHOTOS = new URL('../../../shared/fixtures/photos/', import.meta.url).pathname;

/** Salesforce/blip-image-captioning-base's preprocessor_config.json. */
const BLIP_BASE_CONFIG = {
  do_normalize: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'BlipImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  processor_class: 'BlipProcessor',
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { height: 384, width: 384 },
};

/** Raw uint8 in, raw uint8 out (as float): isolates the resize. */
function rawConfig(width: number, height: number): BlipImageConfig {
  return { ...readBlipImageConfig({ size: { height, width } }), doRescale: false, doNormalize: false };
}

function rgb(width: number, height: number, fill: (x: number, y: number) => [number, number, number]): DecodedRgb {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * 3);
  }
  return { width, height, data };
}

// --- Pillow's own accuracy fixtures (Tests/test_image_resample.py, TestImagingCoreResampleAccuracy) ---
// make_case: an L image of 255-0xE1 with the top-left and bottom-right quarters set to 0xE1.
function pillowCase(size: number, color = 0xe1): Uint8Array {
  const img = new Uint8Array(size * size).fill(255 - color);
  const h = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if ((x < h && y < h) || (x >= h && y >= h)) img[y * size + x] = color;
  }
  return img;
}
// make_sample: the top-left quarter given in hex, mirrored (diagonal → same value, off-diagonal → 255 - value).
function pillowSample(hex: string, size: number): Uint8Array {
  const vals = hex.split(/\s+/).filter(Boolean).map((v) => parseInt(v, 16));
  const out = new Uint8Array(size * size);
  const q = size / 2;
  for (let y = 0; y < q; y++) {
    for (let x = 0; x < q; x++) {
      const v = vals[y * q + x]!;
      out[y * size + x] = v;
      out[(size - y - 1) * size + (size - x - 1)] = v;
      out[(size - y - 1) * size + x] = 255 - v;
      out[y * size + (size - x - 1)] = 255 - v;
    }
  }
  return out;
}
const PILLOW_EXPECTED: Array<[PilFilter, number, number, string]> = [
  ['bicubic', 12, 6, 'e1 e3 d4  e3 e5 d6  d4 d6 c9'],
  ['bicubic', 4, 8, 'e1 e5 ee b9  e5 e9 f3 bc  ee f3 fd c1  b9 bc c1 a2'],
  ['bilinear', 8, 4, 'e1 c9  c9 b7'],
  ['bilinear', 2, 4, 'e1 b0  b0 98'],
  ['box', 8, 4, 'e1 e1  e1 e1'],
  ['hamming', 8, 4, 'e1 da  da d3'],
  ['lanczos', 16, 8, 'e1 e0 e4 d7  e0 df e3 d6  e4 e3 e7 da  d7 d6 d9 ce'],
];

describe('pilResize (Pillow Resample.c, 8-bit)', () => {
  it.each(PILLOW_EXPECTED)('%s %i→%i matches Pillow’s own test expectations', (filter, from, to, hex) => {
    // Pillow resamples each band with the same weights; run it as RGB (grey in all three) like the RGB mode case.
    const grey = pillowCase(from);
    const rgbIn = new Uint8Array(grey.length * 3).map((_, i) => grey[Math.floor(i / 3)]!);
    const out = pilResize(rgbIn, from, from, 3, to, to, filter);
    const expected = pillowSample(hex, to);
    for (let c = 0; c < 3; c++) expect(Array.from(out.filter((_, i) => i % 3 === c))).toEqual(Array.from(expected));
  });

  it('downscale 4→2, derived by hand from the algorithm', () => {
    // scale 2 → kernel support 2·2 = 4, taps at distance (x + 0.5 − center)/2 from the output centre (1.0 and 3.0).
    // Output 0 sees inputs 0..3 at ¼, ¼, ¾, 1¼ → bicubic(a=-0.5) 0.8671875, 0.8671875, 0.2265625, −0.0703125;
    // normalised by their sum 1.890625 and ×2^22 = 1923833.65…, 1923833.65…, 502623.21…, −155986.51…,
    // rounded half away from zero: 1923834, 1923834, 502623, −155987.
    const c = precomputeCoefficients(4, 2, 'bicubic');
    expect(Array.from(c.bounds)).toEqual([0, 4, 0, 4]);
    expect(Array.from(c.kk.subarray(0, 4))).toEqual([1923834, 1923834, 502623, -155987]);
    expect(Array.from(c.kk.subarray(c.ksize, c.ksize + 4))).toEqual([-155987, 502623, 1923834, 1923834]);
    // Row [0, 255, 0, 255]: (2^21 + 255·(1923834 − 155987)) >> 22 = 452898137 >> 22 = 107 (107.98, floored);
    //                       (2^21 + 255·(502623 + 1923834)) >> 22 = 620843687 >> 22 = 148.
    expect(Array.from(pilResize(Uint8Array.from([0, 255, 0, 255]), 4, 1, 1, 2, 1))).toEqual([107, 148]);
  });

  it('upscale 2→4, derived by hand: negative lobes clip to 0 and 255', () => {
    // scale ½ → support 2, centres 0.25, 0.75, 1.25, 1.75; taps clamp to the 2 inputs.
    // Output 0: bicubic(¼)=0.8671875, bicubic(1¼)=−0.0703125 → /0.796875 ×2^22 → 4564390, −370086
    //   → (2^21 + 255·(−370086)) >> 22 = −23 → clipped to 0.
    // Output 1: bicubic(¾)=0.2265625, bicubic(¼) → /1.09375 ×2^22 → 868820, 3325484
    //   → (2^21 + 255·868820) >> 22 = 223646252 >> 22 = 53.
    // Output 2 mirrors it: (2^21 + 255·3325484) >> 22 = 850095572 >> 22 = 202.
    // Output 3 mirrors output 0: (2^21 + 255·4564390) >> 22 = 278 → clipped to 255.
    expect(Array.from(pilResize(Uint8Array.from([0, 255]), 2, 1, 1, 4, 1))).toEqual([0, 53, 202, 255]);
  });

  it('keeps a flat colour flat over a large reduction (Pillow test_non_zero_coefficients)', () => {
    const src = new Uint8Array(1280 * 1280 * 3);
    for (let i = 0; i < src.length; i += 3) src.set([0x20, 0x40, 0x60], i);
    const out = pilResize(src, 1280, 1280, 3, 256, 256);
    for (let i = 0; i < out.length; i += 3) {
      if (out[i] !== 0x20 || out[i + 1] !== 0x40 || out[i + 2] !== 0x60) throw new Error(`pixel ${i / 3} is ${out.subarray(i, i + 3)}`);
    }
  });

  it('halves a half-lit 400000-pixel row to exactly 127 in the middle (Pillow test_reduce)', () => {
    for (const size of [400000, 400004, 400008]) {
      const row = new Uint8Array(size);
      row.fill(254, 0, size / 2);
      expect(pilResize(row, size, 1, 1, 5, 1)[2], String(size)).toBe(127);
    }
  });
});

describe('readBlipImageConfig', () => {
  it('reads BLIP’s preprocessor_config.json', () => {
    expect(readBlipImageConfig(BLIP_BASE_CONFIG)).toEqual({
      height: 384,
      width: 384,
      mean: [0.48145466, 0.4578275, 0.40821073],
      std: [0.26862954, 0.26130258, 0.27577711],
      rescaleFactor: 0.00392156862745098,
      doResize: true,
      doNormalize: true,
      doRescale: true,
      doConvertRgb: true,
    });
  });

  it('fills BlipImageProcessor defaults and accepts an int size and scalar mean/std', () => {
    const d = readBlipImageConfig({});
    expect(d.height).toBe(384);
    expect(d.mean).toEqual([0.48145466, 0.4578275, 0.40821073]);
    expect(d.rescaleFactor).toBe(1 / 255);
    const c = readBlipImageConfig({ size: 224, image_mean: 0.5, image_std: 0.5, do_normalize: false });
    expect([c.height, c.width, c.mean, c.std, c.doNormalize]).toEqual([224, 224, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], false]);
  });

  it('refuses what it cannot honour, naming the file', () => {
    expect(() => readBlipImageConfig({ resample: 2 })).toThrow(ModelFileError);
    expect(() => readBlipImageConfig({ resample: 2 })).toThrow(/preprocessor_config\.json: resample 2 is not supported/);
    expect(() => readBlipImageConfig({ size: { shortest_edge: 384 } })).toThrow(/size must give height and width/);
    expect(() => readBlipImageConfig({ image_mean: [0.5, 0.5] })).toThrow(/image_mean must be three numbers/);
    expect(() => readBlipImageConfig('nope')).toThrow(/expected a JSON object/);
  });
});

describe('preprocessBlipImage', () => {
  const cfg = readBlipImageConfig(BLIP_BASE_CONFIG);

  it('rescales in float64 and normalises in float32, bit-exact with numpy', async () => {
    // Expected values from numpy: ((uint8.astype(float64) * 0.00392156862745098).astype(float32) - mean32) / std32.
    const img = { width: 2, height: 1, data: Uint8Array.from([255, 0, 128, 1, 254, 37]) };
    const out = await preprocessBlipImage(img, { ...cfg, width: 2, height: 1 });
    expect(Array.from(out)).toEqual([
      1.9303361177444458, -1.777664065361023, // R plane: 255, 1
      -1.7520971298217773, 2.059875965118408, // G plane: 0, 254
      0.33994877338409424, -0.9540772438049316, // B plane: 128, 37
    ]);
  });

  it('resizes down and up with PIL bicubic on the way in (CHW layout)', async () => {
    const down = await preprocessBlipImage(rgb(4, 1, (x) => [x % 2 ? 255 : 0, 7, 9]), rawConfig(2, 1));
    expect(Array.from(down)).toEqual([107, 148, 7, 7, 9, 9]);
    const up = await preprocessBlipImage(rgb(2, 1, (x) => [x ? 255 : 0, 0, 0]), rawConfig(4, 1));
    expect(Array.from(up.subarray(0, 4))).toEqual([0, 53, 202, 255]);
  });

  it('decodes a photo to 3×384×384 values in the normalised range', async () => {
    const out = await preprocessBlipImage(`${PHOTOS}real/chelsea.png`, cfg);
    expect(out.length).toBe(3 * 384 * 384);
    let min = Infinity;
    let max = -Infinity;
    for (const v of out) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // (0 − 0.48)/0.27 … (1 − 0.41)/0.28
    expect(min).toBeGreaterThanOrEqual(-1.8);
    expect(max).toBeLessThanOrEqual(2.15);
    expect(max - min).toBeGreaterThan(2);
  });

  it('drops alpha like PIL convert("RGB") instead of compositing it', async () => {
    // chelsea-alpha.png is chelsea.png plus an alpha channel (154…255): same RGB, so same model input.
    const withAlpha = await preprocessBlipImage(`${PHOTOS}formats/chelsea-alpha.png`, cfg);
    const opaque = await preprocessBlipImage(`${PHOTOS}real/chelsea.png`, cfg);
    expect(withAlpha.length).toBe(opaque.length);
    // Byte comparison: deep-equality on 442k floats is needlessly slow.
    expect(Buffer.from(withAlpha.buffer).equals(Buffer.from(opaque.buffer))).toBe(true);
  });

  it('replicates grey into R, G and B', async () => {
    const out = await preprocessBlipImage(`${PHOTOS}formats/coffee-gray.jpg`, rawConfig(32, 24));
    const plane = 32 * 24;
    expect(out.subarray(0, plane)).toEqual(out.subarray(plane, 2 * plane));
    expect(out.subarray(0, plane)).toEqual(out.subarray(2 * plane));
  });

  it('applies EXIF orientation before anything else', async () => {
    // Stored landscape 451×300 with orientation 6: shown (and fed to the model) as portrait 300×451,
    // i.e. chelsea.png turned 90° clockwise; JPEG noise aside, pixels must line up.
    const shown = await decodeImageRgb(`${PHOTOS}exif/chelsea-rotated-90cw.jpg`);
    expect([shown.width, shown.height]).toEqual([300, 451]);
    const png = await decodeImageRgb(`${PHOTOS}real/chelsea.png`);
    let diff = 0;
    for (let y = 0; y < 451; y++) {
      for (let x = 0; x < 300; x++) {
        const src = ((299 - x) * 451 + y) * 3;
        const dst = (y * 300 + x) * 3;
        for (let c = 0; c < 3; c++) diff += Math.abs(shown.data[dst + c]! - png.data[src + c]!);
      }
    }
    expect(diff / (451 * 300 * 3)).toBeLessThan(4);
  });

  it('decodes HEIC (HEVC) through libheif', async () => {
    const img = await decodeImageRgb(`${PHOTOS}formats/astronaut.heic`);
    expect([img.width, img.height]).toEqual([512, 512]);
    const out = await preprocessBlipImage(`${PHOTOS}formats/astronaut.heic`, cfg);
    expect(out.length).toBe(3 * 384 * 384);
    expect(new Set(out.subarray(0, 1000)).size).toBeGreaterThan(10);
  });

  it('reports undecodable input as image_decode with the file and a specific reason', async () => {
    const cases: Array<[string, RegExp]> = [
      ['broken/not-an-image.jpg', /not an image in a supported format/],
      ['broken/empty.jpg', /the file is empty/],
      ['broken/truncated.jpg', /truncated or damaged/],
      ['broken/bomb-60000x60000.png', /too large/],
      ['missing.jpg', /file not found/],
    ];
    for (const [name, reason] of cases) {
      const err = await preprocessBlipImage(`${PHOTOS}${name}`, cfg).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(TandemError);
      expect((err as TandemError).code, name).toBe('image_decode');
      expect((err as TandemError).message, name).toContain(`${PHOTOS}${name}: `);
      expect((err as TandemError).message, name).toMatch(reason);
    }
  });
});

describe('preprocessBlipBatch', () => {
  it('stacks images as [N, 3, H, W] in input order', async () => {
    const cfg = rawConfig(2, 2);
    const red = rgb(3, 3, () => [200, 0, 0]);
    const blue = rgb(5, 4, () => [0, 0, 90]);
    const out = await preprocessBlipBatch([red, blue], cfg);
    expect(out.length).toBe(2 * 3 * 4);
    expect(Array.from(out)).toEqual([200, 200, 200, 200, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 90, 90, 90, 90]);
    expect(await preprocessBlipBatch([], cfg)).toEqual(new Float32Array(0));
  });

  it('refuses mixed sizes when resizing is off', async () => {
    const cfg = { ...rawConfig(2, 2), doResize: false };
    await expect(preprocessBlipBatch([rgb(2, 2, () => [1, 2, 3]), rgb(3, 2, () => [1, 2, 3])], cfg)).rejects.toThrow(/image 1: is 3×2/);
  });
});
