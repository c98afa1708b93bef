/**
 * Pillow's `Image.resize` for 8-bit images (libImaging/Resample.c), reproduced so that BLIP sees the same pixels
 * it saw in training and in Hugging Face's BlipImageProcessor. The parts that make results differ from other
 * resizers (sharp/libvips, canvas, torchvision) are all here on purpose:
 *  - the kernel is widened by the scale factor when shrinking (antialiasing, "support" scaling);
 *  - per-output coefficients are normalised in double, then rounded to 22-bit fixed point;
 *  - each pass (horizontal, then vertical) rounds and clips to uint8 before the next one;
 *  - a pass is skipped when that dimension keeps its size.
 * Integer accumulation is exact in JS doubles (|sum| < 2^31 by Pillow's design), so results are bit-identical.
 */

export type PilFilter = 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

interface Filter {
  fn: (x: number) => number;
  support: number;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Kernels as Pillow writes them, operation for operation, so the doubles come out the same. */
const FILTERS: Readonly<Record<PilFilter, Filter>> = {
  box: { support: 0.5, fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    fn: (x) => {
      const ax = x < 0 ? -x : x;
      return ax < 1 ? 1 - ax : 0;
    },
  },
  hamming: {
    support: 1,
    fn: (x) => {
      let ax = x < 0 ? -x : x;
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      ax = ax * Math.PI;
      // 0.54f / 0.46f are float literals in C: their float32 values take part in the double expression.
      return (Math.sin(ax) / ax) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(ax));
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const ax = x < 0 ? -x : x;
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, fn: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index and tap count. */
  bounds: Int32Array;
  /** outSize × ksize fixed-point weights. */
  kk: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the full box [0, inSize). */
export function precomputeCoefficients(inSize: number, outSize: number, filter: PilFilter): Coefficients {
  const { fn, support: baseSupport } = FILTERS[filter];
  const in0 = 0;
  const scale = (inSize - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = baseSupport * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let ww = 0;
    // C's (int) cast truncates toward zero.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x]! / ww : k[x]!;
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(
  src: Uint8Array,
  srcWidth: number,
  channels: number,
  rowFirst: number,
  rows: number,
  outWidth: number,
  c: Coefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * channels);
  const { ksize, bounds, kk } = c;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + rowFirst) * srcWidth * channels;
    const rowOut = y * outWidth * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = bounds[xx * 2]!;
      const xmax = bounds[xx * 2 + 1]!;
      const kOff = xx * ksize;
      if (channels === 3) {
        // The common case, unrolled: one pass over the taps feeds all three sums (~2× faster on 12 MP photos).
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let p = rowIn + xmin * 3;
        for (let x = 0; x < xmax; x++, p += 3) {
          const k = kk[kOff + x]!;
          s0 += src[p]! * k;
          s1 += src[p + 1]! * k;
          s2 += src[p + 2]! * k;
        }
        const o = rowOut + xx * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
        continue;
      }
      for (let ch = 0; ch < channels; ch++) {
        let ss = HALF;
        let p = rowIn + xmin * channels + ch;
        for (let x = 0; x < xmax; x++, p += channels) ss += src[p]! * kk[kOff + x]!;
        out[rowOut + xx * channels + ch] = clip8(ss);
      }
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, width: number, channels: number, outHeight: number, c: Coefficients, rowShift: number): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(outHeight * stride);
  const { ksize, bounds, kk } = c;
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = bounds[yy * 2]! - rowShift;
    const ymax = bounds[yy * 2 + 1]!;
    const kOff = yy * ksize;
    const rowOut = yy * stride;
    for (let i = 0; i < stride; i++) {
      let ss = HALF;
      let p = ymin * stride + i;
      for (let y = 0; y < ymax; y++, p += stride) ss += src[p]! * kk[kOff + y]!;
      out[rowOut + i] = clip8(ss);
    }
  }
  return out;
}

/**
 * `Image.resize((outWidth, outHeight), filter)` on interleaved 8-bit pixels (any channel count; Pillow resamples
 * RGB/RGBX/L bands independently with the same weights). Returns a new buffer.
 */
export function pilResize(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  filter: PilFilter = 'bicubic',
): Uint8Array {
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new RangeError(`resize target ${outWidth}×${outHeight} is not a positive integer size`);
  }
  if (src.length !== width * height * channels) {
    throw new RangeError(`pixel buffer has ${src.length} bytes, expected ${width}×${height}×${channels}`);
  }
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  if (!needHorizontal && !needVertical) return src.slice();

  const vert = precomputeCoefficients(height, outHeight, filter);
  // Only the source rows the vertical pass will read get resampled horizontally.
  const rowFirst = vert.bounds[0]!;
  const rowLast = vert.bounds[outHeight * 2 - 2]! + vert.bounds[outHeight * 2 - 1]!;

  let img = src;
  let rowShift = 0;
  if (needHorizontal) {
    const horiz = precomputeCoefficients(width, outWidth, filter);
    if (needVertical) {
      img = resampleHorizontal(src, width, channels, rowFirst, rowLast - rowFirst, outWidth, horiz);
      rowShift = rowFirst;
    } else {
      img = resampleHorizontal(src, width, channels, 0, height, outWidth, horiz);
    }
  }
  if (!needVertical) return img;
  return resampleVertical(img, outWidth, channels, outHeight, vert, rowShift);
}
