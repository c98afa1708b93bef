/**
 * `npm run bench -- retrieval-engine [--threads N] [--images N] [--variants fp32,int8] [--keep-cache]`
 *
 * The engine side of search by meaning (issue 11) at the shapes of Salesforce/blip-itm-base-coco, with random
 * weights (test-models/blip-itm-base-random.ts): compile time, image embeddings/s at batch 1 and 8 (what the
 * embedding job costs per photo: one more vision pass), text embeddings/s (a query), ITM per photo (a vision pass
 * plus the matching encoder) and for 24 texts against a photo whose image embeds are kept, and peak RSS. The load average is printed before and after: these cores are shared.
 */
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Quantization } from '../src/main/core/blip/graph-params';
import { loadRetrievalEngine } from '../src/main/core/retrieval/blip-retrieval-engine';
import { ensureTestModel } from '../test-models/test-model-cache';

const ms = (t0: number): number => performance.now() - t0;
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;
const load = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

async function photo(seed: number): Promise<Buffer> {
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w;
    const y = Math.floor(i / w);
    raw[i * 3] = (x + seed * 37) % 256;
    raw[i * 3 + 1] = (y * 2 + seed * 91) % 256;
    raw[i * 3 + 2] = ((x ^ y) + seed * 53) % 256;
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

const QUERIES = ['a dog on the beach', 'two people sitting on a bench near the sea', 'red car', 'a cat sleeping on a couch', 'snow on the mountain at sunset'];

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      threads: { type: 'string', default: '2' },
      images: { type: 'string', default: '16' },
      variants: { type: 'string', default: 'fp32,int8' },
      'keep-cache': { type: 'boolean', default: false },
    },
  });
  const threads = Number(values.threads);
  const nImages = Number(values.images);
  console.log(`BLIP ITM base (random weights): ${availableParallelism()} cores, ${threads} threads, ${nImages} images; load ${load()}`);
  let t = performance.now();
  const modelDir = await ensureTestModel('blip-itm-base-random');
  console.log(`model files ready in ${(ms(t) / 1000).toFixed(1)} s (${modelDir})`);
  const images = await Promise.all(Array.from({ length: nImages }, (_, i) => photo(i)));
  const texts24 = Array.from({ length: 24 }, (_, i) => `${QUERIES[i % QUERIES.length]} ${i}`);
  for (const variant of String(values.variants).split(',')) {
    const quantization: Quantization = variant === 'int8' ? 'int8' : 'none';
    const cacheDir = join(process.cwd(), 'bench', '.data', 'retrieval-engine', `cache-${variant}`);
    if (!values['keep-cache']) await rm(cacheDir, { recursive: true, force: true });
    t = performance.now();
    const engine = await loadRetrievalEngine({ modelDir, cacheDir, model: 'bench', threads, quantization, spinWait: false });
    const loadMs = ms(t);
    console.log(`\n[${variant}] load ${(loadMs / 1000).toFixed(1)} s (${engine.compiled ? 'compiled' : 'cached'}); load average ${load()}`);
    await engine.embedImages(images.slice(0, 1)); // warm-up
    console.log(`  RSS with the engine loaded: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
    for (const batch of [1, 8]) {
      t = performance.now();
      for (let i = 0; i < images.length; i += batch) await engine.embedImages(images.slice(i, i + batch));
      const s = ms(t) / 1000;
      console.log(`  image embeddings, batch ${batch}: ${(images.length / s).toFixed(2)} images/s (${((s * 1000) / images.length).toFixed(0)} ms/image)`);
    }
    t = performance.now();
    for (const q of QUERIES) await engine.embedTexts([q]);
    console.log(`  text embedding (one query): ${(ms(t) / QUERIES.length).toFixed(1)} ms`);
    t = performance.now();
    for (const img of images.slice(0, 4)) await engine.matchProbabilities(img, [QUERIES[0]!]);
    console.log(`  ITM, 1 text × 1 photo (its vision pass included): ${(ms(t) / 4).toFixed(0)} ms per photo`);
    const { embeds } = await engine.encodeImages([images[0]!]);
    t = performance.now();
    await engine.matchEmbeds(embeds, texts24);
    console.log(`  ITM, 24 texts × 1 photo with its image embeds kept: ${ms(t).toFixed(0)} ms`);
    console.log(`  peak RSS of this process so far (compiles included) ${peakRssMb().toFixed(0)} MB; load average ${load()}`);
    await engine.dispose();
  }
}
