/**
 * `npm run bench -- caption [--photos 200] [--batch 4] [--threads 2] [--precision fp32|int8] [--sweep-photos 16] [--no-sweep]`
 *
 * Bulk captioning end to end with the full-size random BLIP-base (the shapes of blip-image-captioning-base;
 * the words are noise, the compute and memory are real): a library of camera-sized JPEGs (4000×3000) is
 * indexed, then captioned through the real job queue and inference process (decode → caption → stored).
 * Compared side by side in one run with the engine's bare speed in-process on the same photos, so the
 * pipeline's overhead is a ratio on the same machine at the same moment. Then a batch-size × threads sweep.
 */
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBlipEngine } from '../src/main/core/blip/blip-engine';
import { modelPixels } from '../src/main/core/blip/preprocess';
import type { CaptionPrecision } from '../src/main/core/jobs/caption-settings';
import { isCaptionPrecision } from '../src/main/core/jobs/caption-settings';
import { openCore, type Core } from '../src/main/core/core';
import { ensureTestModel } from '../test-models/test-model-cache';
import { BENCH_DATA_DIR, ensurePhotoPool, libraryFolder } from './support/photo-library';

const MODEL = 'blip-base-random';
/** The targets (#10): end to end vs the engine alone, and the captioning process's memory vs the weights. */
const GOALS = { pipelineShare: 0.95, rssPerWeights: 1.3 } as const;
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

/** Resident memory of a process by pid (Linux VmHWM: peak, VmRSS: now), in MiB. */
function rssOf(pid: number | undefined, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number | null {
  if (!pid) return null;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}
const peakRssOf = (pid: number | undefined): number | null => rssOf(pid, 'VmHWM');

async function freshCore(name: string, modelDir: string, libraryDir: string, modelCacheDir: string): Promise<Core> {
  const dataDir = join(BENCH_DATA_DIR, 'caption', name);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const core = openCore({ dataDir, modelCacheDir });
  await core.models.import(modelDir, { name: MODEL });
  await core.library.addRoot(libraryDir);
  await core.library.scan();
  return core;
}

/** Captions every photo of the library through the queue; returns photos/s and both processes' peak RSS. */
async function pipelineRun(core: Core, batchSize: number, threads: number, precision: CaptionPrecision) {
  core.captioning.enqueue({ kind: 'all' }, MODEL, core.captioning.settings(), { regenerate: true });
  const client = core.captioning.ensureClient();
  // Load first so the timed window starts at the first photo, as a long run amortises loading.
  const ref = core.captioning.resolveModel({ model: MODEL });
  await client.load({ model: MODEL, modelDir: ref.dir, cacheDir: core.paths.modelCacheDir, threads, precision });
  // What the process holds with the model loaded and nothing run yet: the floor under the captioning peak.
  const workerLoadedMb = rssOf(client.pid, 'VmRSS') ?? 0;
  let workerPeak = 0;
  const sampler = setInterval(() => {
    workerPeak = Math.max(workerPeak, peakRssOf(client.pid) ?? 0);
  }, 200);
  const t0 = performance.now();
  const result = await core.captioning.run({
    model: MODEL,
    batchSize,
    threads,
    precision,
    onProgress: (p) => {
      if (process.stderr.isTTY) process.stderr.write(`\r  ${p.done + p.failed}/${p.total} ${p.photosPerSec.toFixed(2)} photos/s   `);
    },
  });
  const sec = (performance.now() - t0) / 1000;
  workerPeak = Math.max(workerPeak, peakRssOf(client.pid) ?? 0);
  clearInterval(sampler);
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  await core.captioning.close();
  return { photos: result.done, failed: result.failed, sec, photosPerSec: result.done / sec, workerPeakMb: workerPeak, workerLoadedMb };
}

/** The engine alone, in this process: decode + resize + caption, sequential, no queue, no database. */
async function bareRun(modelDir: string, cacheDir: string, paths: string[], batchSize: number, threads: number, precision: CaptionPrecision) {
  const model = await loadBlipEngine({ modelDir, cacheDir, threads, quantization: precision === 'int8' ? 'int8' : 'none' });
  try {
    const t0 = performance.now();
    let decodeMs = 0;
    for (let i = 0; i < paths.length; i += batchSize) {
      const td = performance.now();
      const pixels = [];
      for (const p of paths.slice(i, i + batchSize)) pixels.push(await modelPixels(p, model.imageConfig, { fastDecode: precision === 'int8' }));
      decodeMs += performance.now() - td;
      await model.caption(pixels, { batchSize });
    }
    const sec = (performance.now() - t0) / 1000;
    return { sec, imagesPerSec: paths.length / sec, decodeShare: decodeMs / 1000 / sec };
  } finally {
    await model.dispose();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      photos: { type: 'string', default: '200' },
      batch: { type: 'string', default: '4' },
      threads: { type: 'string', default: '2' },
      'sweep-photos': { type: 'string', default: '16' },
      'no-sweep': { type: 'boolean', default: false },
      precision: { type: 'string', default: 'fp32' },
    },
  });
  const precision = values.precision;
  if (!isCaptionPrecision(precision)) throw new Error(`--precision must be fp32 or int8, got ${precision}`);
  const count = Number(values.photos);
  const batch = Number(values.batch);
  const threads = Number(values.threads);
  console.log(`caption benchmark: ${count} photos (4000×3000 JPEG), random BLIP-base, ${precision}, batch ${batch}, ${threads} threads`);
  console.log(`load average at start: ${load()}`);

  const modelDir = await ensureTestModel('blip-base-random');
  await ensurePhotoPool(count);
  const lib = await libraryFolder(count);
  const cacheDir = join(BENCH_DATA_DIR, 'caption', 'model-cache');
  await mkdir(cacheDir, { recursive: true });

  // Compiled graphs are shared by every run: compile time is the BLIP benchmark's subject, not this one's.
  const core = await freshCore('main', modelDir, lib.dir, cacheDir);
  const photoPaths = core.search.list({}, 'name', 0, count).items.map((p) => p.path);

  // Bare first on a sample (the same photos the pipeline starts with), then the full pipeline.
  const sample = photoPaths.slice(0, Math.min(count, 24));
  const bare = await bareRun(modelDir, cacheDir, sample, batch, threads, precision);
  const pipe = await pipelineRun(core, batch, threads, precision);
  const mainPeak = process.resourceUsage().maxRSS / 1024;
  await core.close();

  console.log('');
  console.log(`engine alone (in-process, ${sample.length} photos):  ${bare.imagesPerSec.toFixed(3)} images/s  (decode+resize ${(bare.decodeShare * 100).toFixed(0)}% of its time)`);
  console.log(`pipeline (queue → inference process → SQLite, ${pipe.photos} photos): ${pipe.photosPerSec.toFixed(3)} photos/s in ${pipe.sec.toFixed(1)} s`);
  console.log(`pipeline vs engine: ${((pipe.photosPerSec / bare.imagesPerSec) * 100).toFixed(1)}%  (loss ${((1 - pipe.photosPerSec / bare.imagesPerSec) * 100).toFixed(1)}%)`);
  console.log(
    `peak RSS: main/bench process ${mainPeak.toFixed(0)} MiB (includes the in-process engine run), inference process ${pipe.workerPeakMb.toFixed(0)} MiB ` +
      `(${pipe.workerLoadedMb.toFixed(0)} MiB with the model loaded, before the first photo)`,
  );
  const share = pipe.photosPerSec / bare.imagesPerSec;
  console.log(`goal end to end ≥ ${GOALS.pipelineShare * 100}% of engine alone: ${(share * 100).toFixed(1)}% → ${share >= GOALS.pipelineShare ? 'met' : 'not met'}`);
  const weightsMb = statSync(join(modelDir, 'model.safetensors')).size / 2 ** 20;
  const rssShare = pipe.workerPeakMb / weightsMb;
  console.log(
    `goal inference process peak RSS ≤ ${GOALS.rssPerWeights}× weights (${weightsMb.toFixed(0)} MiB fp32 checkpoint): ${rssShare.toFixed(2)}×` +
      (precision === 'fp32' ? ` → ${rssShare <= GOALS.rssPerWeights ? 'met' : 'not met'}` : ' (the goal is for fp32)'),
  );
  console.log(`load average at end: ${load()}`);

  if (values['no-sweep']) return;
  const n = Number(values['sweep-photos']);
  const sweepLib = await libraryFolder(n);
  console.log(`\nsweep on ${n} photos (photos/s end to end):`);
  console.log('batch \\ threads |   1    |   2');
  for (const b of [1, 4, 8]) {
    const cells: string[] = [];
    for (const t of [1, 2]) {
      const c = await freshCore(`sweep-${b}-${t}`, modelDir, sweepLib.dir, cacheDir);
      const r = await pipelineRun(c, b, t, precision);
      await c.close();
      cells.push(r.photosPerSec.toFixed(3));
    }
    console.log(`${String(b).padStart(15)} | ${cells.join(' | ')}`);
  }
}
