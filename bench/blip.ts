/**
 * `npm run bench -- blip [--threads N] [--images N] [--opt all|extended|basic|disabled] [--spin on|off]
 *    [--variants fp32,int8] [--keep-cache] [--thread-sweep]`
 *
 * Full-size random BLIP-base (the shapes of Salesforce/blip-image-captioning-base): load + compile time,
 * images/s for greedy 20-token captions at batch 1 and 8, the encoder/decoder split, peak RSS, and the int8
 * variant's speed and token agreement with fp32. Words are meaningless; compute and memory are real.
 */
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { BlipModel } from '../src/main/core/blip/blip-model';
import { loadBlipModel } from '../src/main/core/blip/blip-model';
import { preprocessBlipBatch } from '../src/main/core/blip/preprocess';
import type { GraphOptimization } from '../src/main/core/onnx/runtime';
import { ensureTestModel } from '../src/main/core/test-models/test-model-cache';

const ms = (t0: number): number => performance.now() - t0;
const fmt = (v: number, d = 1): string => v.toFixed(d);
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
/** peak resident set size of this process so far (ru_maxrss is in KB on Linux) */
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

async function photo(seed: number): Promise<Buffer> {
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      raw[i] = (x + seed * 37) % 256;
      raw[i + 1] = (y * 2 + seed * 91) % 256;
      raw[i + 2] = ((x ^ y) + seed * 53) % 256;
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

interface RunStats {
  imagesPerSec: number;
  totalMs: number;
  preprocessMs: number;
  encoderMs: number;
  decoderMs: number;
  tokens: number[][];
}

/** Greedy captions of exactly 20 tokens (min = max = 20), timing preprocessing, vision encoder, and the rest. */
async function captionRun(model: BlipModel, images: Buffer[], batch: number): Promise<RunStats> {
  let preprocessMs = 0;
  let encoderMs = 0;
  let totalMs = 0;
  const tokens: number[][] = [];
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    let t = performance.now();
    await preprocessBlipBatch(chunk, model.imageConfig);
    preprocessMs += ms(t);
    t = performance.now();
    await model.encodeImages(chunk);
    encoderMs += ms(t);
    t = performance.now();
    const out = await model.caption(chunk, { maxLength: 20, minLength: 20, batchSize: batch });
    totalMs += ms(t);
    tokens.push(...out.map((o) => o.tokenIds));
  }
  // caption() re-runs preprocessing and the encoder, so the decoder share is what remains.
  const decoderMs = totalMs - preprocessMs - encoderMs;
  return { imagesPerSec: (images.length / totalMs) * 1000, totalMs, preprocessMs, encoderMs, decoderMs, tokens };
}

function report(label: string, s: RunStats, n: number): void {
  console.log(
    `  ${label.padEnd(22)} ${fmt(s.imagesPerSec, 2).padStart(6)} img/s   ${fmt(s.totalMs / n, 0).padStart(6)} ms/img   ` +
      `preprocess ${fmt(s.preprocessMs / n, 0)} · encoder ${fmt(s.encoderMs / n, 0)} · decoder ${fmt(s.decoderMs / n, 0)} ms/img`,
  );
}

function agreement(a: number[][], b: number[][]): { exact: number; tokens: number } {
  let exact = 0;
  let same = 0;
  let total = 0;
  a.forEach((row, i) => {
    const other = b[i] ?? [];
    if (row.length === other.length && row.every((t, j) => t === other[j])) exact++;
    row.forEach((t, j) => {
      total++;
      if (other[j] === t) same++;
    });
  });
  return { exact: exact / a.length, tokens: same / total };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      threads: { type: 'string' },
      images: { type: 'string', default: '8' },
      opt: { type: 'string', default: 'all' },
      variants: { type: 'string', default: 'fp32,int8' },
      'keep-cache': { type: 'boolean', default: false },
      'thread-sweep': { type: 'boolean', default: false },
      spin: { type: 'string', default: 'on' },
    },
  });
  const spinWait = values.spin !== 'off';
  const threads = Number(values.threads ?? availableParallelism());
  const nImages = Number(values.images);
  const opt = values.opt as GraphOptimization;
  const variants = String(values.variants).split(',');
  const dataDir = join(process.cwd(), 'bench', '.data', 'blip');
  await mkdir(dataDir, { recursive: true });

  console.log(`BLIP-base benchmark: ${availableParallelism()} cores, ${threads} intra-op threads, graph optimization ${opt}, spin-wait ${spinWait ? 'on' : 'off'}, ${nImages} images`);
  let t = performance.now();
  const modelDir = await ensureTestModel('blip-base-random');
  console.log(`model files ready (${fmt(ms(t) / 1000)} s; generated once, cached in ${modelDir})`);

  const images = await Promise.all(Array.from({ length: nImages }, (_, i) => photo(i)));
  const fp32Tokens: Record<string, number[][]> = {};
  for (const variant of variants) {
    const cacheDir = join(dataDir, `cache-${variant}`);
    // a cold start compiles from scratch unless --keep-cache
    if (!values['keep-cache']) await rm(cacheDir, { recursive: true, force: true });
    console.log(`\n[${variant}]`);
    t = performance.now();
    const stages: string[] = [];
    const model = await loadBlipModel({
      modelDir,
      cacheDir,
      threads,
      graphOptimization: opt,
      spinWait,
      quantization: variant === 'int8' ? 'int8' : 'none',
      onProgress: (s) => stages.push(`${s}@${fmt(ms(t) / 1000)}s`),
    });
    console.log(`  load + compile (cold): ${fmt(ms(t) / 1000, 2)} s   [${stages.join(', ')}]   rss ${fmt(rssMb(), 0)} MB, peak ${fmt(peakRssMb(), 0)} MB`);
    await model.dispose();
    t = performance.now();
    const warm = await loadBlipModel({ modelDir, cacheDir, threads, graphOptimization: opt, spinWait, quantization: variant === 'int8' ? 'int8' : 'none' });
    console.log(`  load (compiled, cached): ${fmt(ms(t) / 1000, 2)} s   rss ${fmt(rssMb(), 0)} MB`);
    // one warm-up caption so first-run allocations do not count
    await warm.caption([images[0]!], { maxLength: 4 });
    const b1 = await captionRun(warm, images, 1);
    report('batch 1', b1, nImages);
    const b8 = await captionRun(warm, images, 8);
    report('batch 8', b8, nImages);
    if (variant === 'fp32') fp32Tokens.b1 = b1.tokens;
    else if (fp32Tokens.b1) {
      const a = agreement(b1.tokens, fp32Tokens.b1);
      console.log(`  agreement with fp32: ${fmt(a.exact * 100, 0)}% identical captions, ${fmt(a.tokens * 100, 1)}% identical tokens`);
    }
    if (values['thread-sweep']) {
      for (const n of [1, 2, 4].filter((x) => x !== threads && x <= availableParallelism())) {
        const m = await loadBlipModel({ modelDir, cacheDir, threads: n, graphOptimization: opt, spinWait, quantization: variant === 'int8' ? 'int8' : 'none' });
        report(`batch 1, ${n} thread(s)`, await captionRun(m, images.slice(0, 4), 1), 4);
        await m.dispose();
      }
    }
    await warm.dispose();
    console.log(`  peak RSS so far: ${fmt(peakRssMb(), 0)} MB`);
  }
}
