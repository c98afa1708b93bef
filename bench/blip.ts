/**
 * `npm run bench -- blip [--threads N] [--images N] [--opt all|extended|basic|disabled] [--spin on|off]
 *    [--variants fp32,int8] [--keep-cache] [--thread-sweep]`
 *
 * Full-size random BLIP-base (the shapes of Salesforce/blip-image-captioning-base): load + compile time,
 * images/s for greedy 20-token captions at batch 1 and 8, the encoder/decoder split, peak RSS, and the int8
 * variant's speed and token agreement with fp32. Words are meaningless; compute and memory are real.
 */
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { BlipSessions } from '../src/main/core/blip/blip-sessions';
import type { BlipEngine } from '../src/main/core/blip/blip-engine';
import { loadBlipEngine } from '../src/main/core/blip/blip-engine';
import { compileBlip } from '../src/main/core/blip/compile-blip';
import type { GenerationSettings } from '../src/main/core/blip/generate';
import { generate } from '../src/main/core/blip/generate';
import { preprocessBlipBatch } from '../src/main/core/blip/preprocess';
import type { GraphOptimization } from '../src/main/core/onnx/runtime';
import { ensureTestModel } from '../test-models/test-model-cache';

const ms = (t0: number): number => performance.now() - t0;
const fmt = (v: number, d = 1): string => v.toFixed(d);
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
/** peak resident set size of this process so far (ru_maxrss is in KB on Linux) */
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
/** this process's CPU time (all threads), ms: on a machine shared with other work it moves far less than wall time */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** The targets (#10), printed next to the measurements. */
const GOALS = { fp32Batch8: 1.4, int8Batch8: 3.5 } as const;

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
  /** process CPU time over the run */
  cpuMs: number;
  preprocessMs: number;
  encoderMs: number;
  statesMs: number;
  decoderMs: number;
  tokens: number[][];
  firstLogits: Float32Array[];
}

/**
 * Greedy captions of exactly 20 tokens (min = max = 20) through the same steps caption() takes, timing each:
 * preprocessing, vision encoder, the encoder states transposed for the decoder, decoding.
 */
async function captionRun(engine: BlipSessions, model: BlipEngine, images: Buffer[], batch: number): Promise<RunStats> {
  const s = { preprocessMs: 0, encoderMs: 0, statesMs: 0, decoderMs: 0 };
  const tokens: number[][] = [];
  const firstLogits: Float32Array[] = [];
  const settings: GenerationSettings = {
    maxLength: 20,
    minLength: 20,
    numBeams: 1,
    lengthPenalty: 1,
    earlyStopping: false,
    repetitionPenalty: 1,
    noRepeatNgramSize: 0,
    eosTokenId: model.spec.text.sepTokenId,
    padTokenId: model.spec.text.padTokenId,
  };
  const t0 = performance.now();
  const c0 = cpuMs();
  for (let i = 0; i < images.length; i += batch) {
    const chunk = images.slice(i, i + batch);
    let t = performance.now();
    const pixels = await preprocessBlipBatch(chunk, model.imageConfig);
    s.preprocessMs += ms(t);
    t = performance.now();
    const embeds = await engine.encodeImages(pixels, chunk.length);
    s.encoderMs += ms(t);
    t = performance.now();
    const cross = engine.crossAttention(embeds);
    s.statesMs += ms(t);
    t = performance.now();
    const out = await generate(engine.decoderState(cross), chunk.map(() => [model.spec.text.bosTokenId]), settings, { recordLogits: true });
    s.decoderMs += ms(t);
    for (const o of out) {
      tokens.push(o.tokenIds);
      firstLogits.push(o.stepLogits![0]!);
    }
  }
  const totalMs = ms(t0);
  return { imagesPerSec: (images.length / totalMs) * 1000, totalMs, cpuMs: cpuMs() - c0, ...s, tokens, firstLogits };
}

function report(label: string, s: RunStats, n: number): void {
  console.log(
    `  ${label.padEnd(22)} ${fmt(s.imagesPerSec, 2).padStart(6)} img/s   ${fmt(s.totalMs / n, 0).padStart(6)} ms/img   ` +
      `preprocess ${fmt(s.preprocessMs / n, 0)} · vision ${fmt(s.encoderMs / n, 0)} · states transposed ${fmt(s.statesMs / n, 0)} · decode 19 steps ${fmt(s.decoderMs / n, 0)} ms/img   ` +
      `cpu ${fmt(s.cpuMs / n, 0)} ms/img (${fmt(s.totalMs / s.cpuMs, 2)} wall/cpu)`,
  );
}

/** Relative error of first-step logits and whether their argmax agrees. */
function logitError(a: Float32Array[], b: Float32Array[]): { rel: number; top1: number } {
  let num = 0;
  let den = 0;
  let top1 = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    let ax = 0;
    let ay = 0;
    for (let j = 0; j < x.length; j++) {
      num += (x[j]! - y[j]!) ** 2;
      den += x[j]! ** 2;
      if (x[j]! > x[ax]!) ax = j;
      if (y[j]! > y[ay]!) ay = j;
    }
    if (ax === ay) top1++;
  });
  return { rel: Math.sqrt(num / den), top1: top1 / a.length };
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
  console.log(`load average at start: ${load()}`);
  let t = performance.now();
  const modelDir = await ensureTestModel('blip-base-random');
  console.log(`model files ready (${fmt(ms(t) / 1000)} s; generated once, cached in ${modelDir})`);

  const images = await Promise.all(Array.from({ length: nImages }, (_, i) => photo(i)));
  const fp32Tokens: Record<string, number[][]> = {};
  let fp32Logits: Float32Array[] = [];
  for (const variant of variants) {
    const cacheDir = join(dataDir, `cache-${variant}`);
    // a cold start compiles from scratch unless --keep-cache
    if (!values['keep-cache']) await rm(cacheDir, { recursive: true, force: true });
    console.log(`\n[${variant}]`);
    t = performance.now();
    const stages: string[] = [];
    const model = await loadBlipEngine({
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
    const quantization = variant === 'int8' ? 'int8' : 'none';
    const warm = await loadBlipEngine({ modelDir, cacheDir, threads, graphOptimization: opt, spinWait, quantization });
    console.log(`  load (compiled, cached): ${fmt(ms(t) / 1000, 2)} s   rss ${fmt(rssMb(), 0)} MB`);
    // The same compiled entry opened as a bare engine, for per-phase timing.
    const engine = await BlipSessions.open(await compileBlip(modelDir, cacheDir, { quantization }), { intraOpThreads: threads, graphOptimization: opt, spinWait });
    // one warm-up caption so first-run allocations do not count
    await warm.caption([images[0]!], { maxLength: 4 });
    await warm.dispose();
    const b1 = await captionRun(engine, warm, images, 1);
    report('batch 1', b1, nImages);
    const b8 = await captionRun(engine, warm, images, 8);
    report('batch 8', b8, nImages);
    const goal = variant === 'int8' ? GOALS.int8Batch8 : GOALS.fp32Batch8;
    console.log(`  goal ${variant} batch 8 ≥ ${goal} img/s: ${fmt(b8.imagesPerSec, 2)} → ${b8.imagesPerSec >= goal ? 'met' : 'not met'} (load average ${load()})`);
    if (variant === 'fp32') {
      fp32Tokens.b1 = b1.tokens;
      fp32Logits = b1.firstLogits;
    } else if (fp32Tokens.b1) {
      const a = agreement(b1.tokens, fp32Tokens.b1);
      const e = logitError(b1.firstLogits, fp32Logits);
      console.log(
        `  vs fp32: first-step logits relative error ${fmt(e.rel * 100, 2)}%, top-1 agreement ${fmt(e.top1 * 100, 0)}%; ` +
          `${fmt(a.exact * 100, 0)}% identical captions, ${fmt(a.tokens * 100, 1)}% identical tokens (random weights have tiny logit margins)`,
      );
    }
    if (values['thread-sweep']) {
      for (const n of [1, 2, 4].filter((x) => x !== threads && x <= availableParallelism())) {
        const e = await BlipSessions.open(await compileBlip(modelDir, cacheDir, { quantization }), { intraOpThreads: n, graphOptimization: opt, spinWait });
        report(`batch 1, ${n} thread(s)`, await captionRun(e, warm, images.slice(0, 4), 1), 4);
        await e.dispose();
      }
    }
    await engine.dispose();
    console.log(`  peak RSS so far: ${fmt(peakRssMb(), 0)} MB`);
  }
  console.log(`\nload average at end: ${load()}`);
}
