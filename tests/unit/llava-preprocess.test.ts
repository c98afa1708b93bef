import { describe, expect, it } from 'vitest';
import type { DecodedRgb } from '../../src/main/core/blip/image-decode';
import { pilResize } from '../../src/main/core/blip/pil-resize';
import { ModelFileError } from '../../src/main/core/errors';
import { imageTokenCount } from '../../src/main/core/llava/llava-pack-config';
import {
  centerCrop,
  fixedImageSize,
  preprocessLlavaImage,
  readLlavaImageConfig,
  shortestEdgeSize,
} from '../../src/main/core/llava/llava-preprocess';
import { clipPreprocessorConfig, siglipPreprocessorConfig } from '../../test-models/preprocessor-configs';

/** llava-hf/llava-1.5-7b-hf's preprocessor_config.json. */
const LLAVA_15 = clipPreprocessorConfig(336);

/** llava-hf/llava-interleave-qwen-0.5b-hf's preprocessor_config.json. */
const INTERLEAVE = siglipPreprocessorConfig(384);

function noise(width: number, height: number, seed = 7): DecodedRgb {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { width, height, data };
}

/** float32 (x·factor − mean) / std, written out step by step as numpy does it. */
function expectedValue(v: number, c: number, mean: number[], std: number[], factor = 1 / 255): number {
  const x = Math.fround(v * factor);
  return Math.fround(Math.fround(x - Math.fround(mean[c]!)) / Math.fround(std[c]!));
}

describe('LLaVA preprocessing config', () => {
  it('reads llava-1.5 as CLIP (shortest edge 336, crop 336) and interleave as SigLIP (384×384, no crop)', () => {
    const clip = readLlavaImageConfig(LLAVA_15);
    expect(clip).toMatchObject({ kind: 'clip', resize: { shortestEdge: 336 }, crop: { height: 336, width: 336 }, filter: 'bicubic', doResize: true, doNormalize: true });
    expect(fixedImageSize(clip)).toEqual({ height: 336, width: 336 });
    const siglip = readLlavaImageConfig(INTERLEAVE);
    expect(siglip).toMatchObject({ kind: 'siglip', resize: { height: 384, width: 384 }, crop: null, mean: [0.5, 0.5, 0.5] });
    expect(fixedImageSize(siglip)).toEqual({ height: 384, width: 384 });
  });

  it('honours the do_* flags and rejects what it cannot do exactly', () => {
    const cfg = readLlavaImageConfig({ ...LLAVA_15, do_center_crop: false, do_normalize: false });
    expect(cfg.crop).toBeNull();
    expect(cfg.doNormalize).toBe(false);
    expect(fixedImageSize(cfg)).toBeNull();
    expect(() => readLlavaImageConfig({ ...LLAVA_15, resample: 0 })).toThrow(ModelFileError);
    expect(() => readLlavaImageConfig({ ...LLAVA_15, image_std: [1, 0, 1] })).toThrow(/image_std/);
  });

  it('counts image tokens as LlavaProcessor: CLIP-336/14 with CLS and the default strategy is 576, SigLIP-384/14 is 729', () => {
    expect(imageTokenCount({ height: 336, width: 336, patchSize: 14, additionalTokens: 1, strategy: 'default' })).toBe(576);
    expect(imageTokenCount({ height: 384, width: 384, patchSize: 14, additionalTokens: 0, strategy: 'full' })).toBe(729);
    expect(imageTokenCount({ height: 336, width: 336, patchSize: 14, additionalTokens: 1, strategy: 'full' })).toBe(577);
  });
});

describe('CLIP shortest-edge resize and center crop', () => {
  it('resizes the short side to the edge and truncates the long one, as get_resize_output_image_size', () => {
    expect(shortestEdgeSize(640, 480, 336)).toEqual({ width: 448, height: 336 });
    expect(shortestEdgeSize(480, 640, 336)).toEqual({ width: 336, height: 448 });
    // 336 · 500 / 333 = 504.5… → 504
    expect(shortestEdgeSize(333, 500, 336)).toEqual({ width: 336, height: 504 });
    expect(shortestEdgeSize(300, 300, 336)).toEqual({ width: 336, height: 336 });
  });

  it('crops the window starting at floor((size − crop) / 2), and zero-pads a smaller image the same way', () => {
    const img = noise(11, 8);
    const out = centerCrop(img, 5, 6);
    const top = Math.floor((8 - 5) / 2);
    const left = Math.floor((11 - 6) / 2);
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 6; x++) {
        for (let c = 0; c < 3; c++) expect(out.data[(y * 6 + x) * 3 + c]).toBe(img.data[((y + top) * 11 + x + left) * 3 + c]);
      }
    }
    // 3 wide into 6: numpy pads ceil(3/2) = 2 on the left, 1 on the right.
    const small = noise(3, 2);
    const padded = centerCrop(small, 2, 6);
    for (let x = 0; x < 6; x++) {
      const inside = x >= 2 && x < 5;
      expect(padded.data[x * 3]).toBe(inside ? small.data[(x - 2) * 3] : 0);
    }
  });

  it('gives pixel_values equal to a direct computation: bicubic shortest edge, crop, rescale, normalize', async () => {
    const cfg = readLlavaImageConfig({ ...LLAVA_15, size: { shortest_edge: 24 }, crop_size: { height: 24, width: 24 } });
    const img = noise(45, 30);
    const px = await preprocessLlavaImage(img, cfg);
    expect(px.dims).toEqual([1, 3, 24, 24]);
    // 45×30 → 36×24, then the 24-wide window starting at x = 6.
    const resized = pilResize(img.data, 45, 30, 3, 36, 24, 'bicubic');
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 24; x++) {
          const v = resized[(y * 36 + x + 6) * 3 + c]!;
          expect(px.data[c * 576 + y * 24 + x]).toBe(expectedValue(v, c, LLAVA_15.image_mean, LLAVA_15.image_std));
        }
      }
    }
  });
});

describe('SigLIP resize', () => {
  it('resizes to height × width ignoring the aspect ratio, then rescales and normalizes', async () => {
    const cfg = readLlavaImageConfig({ ...INTERLEAVE, size: { height: 16, width: 20 } });
    const img = noise(31, 9, 3);
    const px = await preprocessLlavaImage(img, cfg);
    expect(px.dims).toEqual([1, 3, 16, 20]);
    const resized = pilResize(img.data, 31, 9, 3, 20, 16, 'bicubic');
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 320; i++) expect(px.data[c * 320 + i]).toBe(expectedValue(resized[i * 3 + c]!, c, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]));
    }
  });

  it('without resize or normalize, keeps the size and gives x / 255', async () => {
    const cfg = readLlavaImageConfig({ ...INTERLEAVE, do_resize: false, do_normalize: false });
    const img = noise(5, 4);
    const px = await preprocessLlavaImage(img, cfg);
    expect(px.dims).toEqual([1, 3, 4, 5]);
    expect(px.data[0]).toBe(Math.fround(img.data[0]! / 255));
    expect(px.data[20 + 1]).toBe(Math.fround(img.data[1 * 3 + 1]! / 255));
  });
});
