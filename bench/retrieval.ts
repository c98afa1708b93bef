/**
 * `npm run bench -- retrieval [--sizes 10000,100000,1000000] [--dims 256] [--queries 200] [--hybrid-max 100000]`
 *
 * Search by meaning's lookup side (issue 11), on synthetic unit vectors at BLIP base's size (256):
 * - scan: top 96 per text query, p50/p95 and memory, for the float32 matrix (vector-matrix.ts) with the WebAssembly
 *   SIMD kernel and with the plain JS loop, and for the int8 matrix the app uses (int8-vector-matrix.ts: int8 SIMD
 *   scan, then exact float32 rescoring of 400 candidates, here from memory, in the app from SQLite), with its recall
 *   of the float32 top 48;
 * - hybrid: up to --hybrid-max photos, a synthetic library (bench/support/synthetic-library.ts) with an embedding
 *   per photo in SQLite: the lazy first load of the matrix, then HybridSearch end to end (FTS5 words, the scan,
 *   filters, reciprocal-rank fusion, rows of the page). The query's text embedding comes precomputed: the text
 *   encoder runs in the inference process and is the engine's to time.
 * Load average is printed before and after each size: these two cores are shared.
 */
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../src/main/core/event-bus';
import { PhotoStore } from '../src/main/core/library/photo-store';
import type { EmbeddingBackend } from '../src/main/core/retrieval/embedding-backend';
import { EmbeddingService } from '../src/main/core/retrieval/embedding-service';
import { vectorToBlob } from '../src/main/core/retrieval/embedding-store';
import { Int8VectorMatrix, RESCORE_CANDIDATES } from '../src/main/core/retrieval/int8-vector-matrix';
import { VectorMatrix } from '../src/main/core/retrieval/vector-matrix';
import { HybridSearch, MEANING_DEPTH } from '../src/main/core/search/hybrid-search';
import { SearchService } from '../src/main/core/search/search-service';
import { SettingsStore } from '../src/main/core/settings/settings-store';
import { openDatabase } from '../src/main/core/store/database';
import type { PhotoFilters } from '../src/shared/api';
import { parseArgs } from './support/args';
import { fmtBytes, fmtMs, table } from './support/format';
import { BENCH_DATA_DIR } from './support/photo-library';
import { machineLine } from './support/resource-monitor';
import { seededRng, type Rng } from './support/rng';
import { summarize } from './support/stats';
import { buildSyntheticLibrary } from './support/synthetic-library';

const MODEL = 'bench-retrieval';

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

/** Gaussian-ish noise from the sum of uniforms (cheap, deterministic). */
function noise(rng: Rng): number {
  return rng() + rng() + rng() - 1.5;
}

/**
 * Vectors around a few thousand "topics", as photo embeddings cluster (events, subjects): a uniform random set
 * would make every score alike and the top-k heap would never be tested.
 */
function vectorSource(dims: number, seed: number): (i: number) => Float32Array {
  const rng = seededRng(seed);
  const topics = Array.from({ length: 2000 }, () => Float32Array.from({ length: dims }, () => noise(rng)));
  return () => {
    const t = topics[Math.floor(rng() * topics.length)]!;
    const v = new Float32Array(dims);
    let n = 0;
    for (let j = 0; j < dims; j++) {
      v[j] = t[j]! + 0.6 * noise(rng);
      n += v[j]! * v[j]!;
    }
    n = Math.sqrt(n);
    for (let j = 0; j < dims; j++) v[j]! /= n;
    return v;
  };
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

interface ScanRow {
  size: number;
  f32: { p50: number; p95: number; bytes: number };
  plain: { p50: number; p95: number };
  i8: { p50: number; p95: number; bytes: number; recall: number };
  loadBefore: string;
  loadAfter: string;
}

function scanBench(size: number, dims: number, queries: number): ScanRow {
  const loadBefore = load();
  const next = vectorSource(dims, 11);
  const f32 = new VectorMatrix(dims, size);
  const plain = new VectorMatrix(dims, size, { simd: false });
  // The rescoring source: float32 rows by photo id (the app reads these few from SQLite).
  const exact = (ids: readonly number[]): Map<number, Float32Array> => new Map(ids.map((id) => [id, f32.get(id)!]));
  const i8 = new Int8VectorMatrix(dims, size, exact);
  for (let i = 0; i < size; i++) {
    const v = next(i);
    f32.set(i + 1, v);
    plain.set(i + 1, v);
    i8.set(i + 1, v);
  }
  if (!f32.simd || !i8.simd) throw new Error('WebAssembly SIMD is not available in this Node: the SIMD columns would be plain loops.');
  const qs = Array.from({ length: queries }, (_, i) => next(size + i));
  const depth = MEANING_DEPTH * 2;
  // Warm up both loops (JIT) before timing.
  for (const q of qs.slice(0, 5)) {
    f32.search(q, depth);
    i8.search(q, depth);
  }
  const tf: number[] = [];
  const tp: number[] = [];
  const ti: number[] = [];
  let recalled = 0;
  for (const q of qs) {
    let exact: number[] = [];
    tf.push(time(() => (exact = f32.search(q, depth).slice(0, MEANING_DEPTH).map((h) => h.photoId))));
    tp.push(time(() => plain.search(q, depth)));
    let approx: number[] = [];
    ti.push(time(() => (approx = i8.search(q, depth).slice(0, MEANING_DEPTH).map((h) => h.photoId))));
    const want = new Set(exact);
    recalled += approx.filter((id) => want.has(id)).length / MEANING_DEPTH;
  }
  const sf = summarize(tf);
  const sp = summarize(tp);
  const si = summarize(ti);
  return {
    size,
    f32: { p50: sf.p50, p95: sf.p95, bytes: f32.bytes },
    plain: { p50: sp.p50, p95: sp.p95 },
    i8: { p50: si.p50, p95: si.p95, bytes: i8.bytes, recall: recalled / qs.length },
    loadBefore,
    loadAfter: load(),
  };
}

interface HybridRow {
  size: number;
  buildMs: number;
  firstQueryMs: number;
  matrixBytes: number;
  rssAfter: number;
  kinds: { kind: string; p50: number; p95: number }[];
  loadBefore: string;
  loadAfter: string;
}

async function hybridBench(size: number, dims: number, queries: number): Promise<HybridRow> {
  const loadBefore = load();
  const dir = join(BENCH_DATA_DIR, `retrieval-${size}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const db = openDatabase(join(dir, 'tandem.db'));
  try {
    const t0 = performance.now();
    buildSyntheticLibrary(db, { rows: size });
    const next = vectorSource(dims, 23);
    db.transaction(() => {
      const put = db.prepare("INSERT INTO embeddings (hash, model, dims, vector, created_at) VALUES (?, ?, ?, ?, 'bench')");
      for (const hash of db.prepare("SELECT hash FROM photos WHERE status = 'ok'").pluck().all() as string[]) {
        put.run(hash, MODEL, dims, vectorToBlob(next(0)));
      }
    })();
    const buildMs = performance.now() - t0;
    const events = new EventBus();
    const settings = new SettingsStore(db);
    settings.set({ retrievalModel: MODEL, searchByMeaning: true });
    let queryVector = next(0);
    const backend: EmbeddingBackend = {
      load: async () => ({ dimensions: dims }),
      embedImages: async () => [],
      // The text encoder's output, precomputed: this bench times the library side only.
      embedTexts: async (texts) => texts.map(() => queryVector),
      match: async (_path, texts) => texts.map(() => 0.5),
    };
    const photos = new PhotoStore(db);
    const embeddings = new EmbeddingService({ db, photos, settings, events, backend, locateModel: () => dir });
    const hybrid = new HybridSearch({ db, words: new SearchService(db), embeddings, photos });
    const firstQueryMs = performance.now();
    await hybrid.search('dog on the beach', {}, 0, 200);
    const first = performance.now() - firstQueryMs;
    const folder = (db.prepare("SELECT folder FROM photos WHERE folder LIKE '20%' GROUP BY folder ORDER BY count(*) DESC LIMIT 1").pluck().get() as string).split('/')[0]!;
    const kinds: { kind: string; text: string; filters: PhotoFilters }[] = [
      { kind: 'common word', text: 'man', filters: {} },
      { kind: 'three words', text: 'dog on beach', filters: {} },
      { kind: 'no word matches', text: 'quokka selfie', filters: {} },
      { kind: 'word + year folder', text: 'woman', filters: { folder } },
      { kind: 'word + date range', text: 'cat', filters: { takenFrom: '2010-01-01', takenTo: '2010-12-31' } },
      { kind: 'word + captioned', text: 'red', filters: { captioned: 'yes' } },
    ];
    const rows: HybridRow['kinds'] = [];
    for (const k of kinds) {
      const ms: number[] = [];
      for (let i = 0; i < Math.max(20, Math.floor(queries / kinds.length)); i++) {
        queryVector = next(i);
        // A distinct text each time, so the query-embedding cache never answers.
        const text = `${k.text} ${i}`;
        const t = performance.now();
        await hybrid.search(text, k.filters, 0, 200);
        ms.push(performance.now() - t);
      }
      const s = summarize(ms);
      rows.push({ kind: k.kind, p50: s.p50, p95: s.p95 });
    }
    return {
      size,
      buildMs,
      firstQueryMs: first,
      matrixBytes: embeddings.index.stats?.bytes ?? 0,
      rssAfter: process.memoryUsage.rss(),
      kinds: rows,
      loadBefore,
      loadAfter: load(),
    };
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const sizes = args.string('sizes', '10000,100000,1000000').split(',').map(Number);
  const dims = args.number('dims', 256);
  const queries = args.number('queries', 200);
  const hybridMax = args.number('hybrid-max', 100_000);
  console.log(`retrieval bench: ${dims}-dim unit vectors, ${queries} queries per size; ${machineLine()}`);

  const scans: ScanRow[] = [];
  for (const size of sizes) {
    process.stderr.write(`scan ${size.toLocaleString('en')}…\n`);
    scans.push(scanBench(size, dims, queries));
    global.gc?.();
  }
  console.log(`\nText query → top ${MEANING_DEPTH * 2} by cosine (one thread, the main process's):`);
  console.log(
    table(
      ['photos', 'f32 SIMD p50', 'p95', 'memory', 'f32 plain JS p50', 'p95', `int8 SIMD + rescore ${RESCORE_CANDIDATES} (app) p50`, 'p95', 'memory', 'recall@48', 'load before → after'],
      scans.map((r) => [
        r.size.toLocaleString('en'),
        fmtMs(r.f32.p50),
        fmtMs(r.f32.p95),
        fmtBytes(r.f32.bytes),
        fmtMs(r.plain.p50),
        fmtMs(r.plain.p95),
        fmtMs(r.i8.p50),
        fmtMs(r.i8.p95),
        fmtBytes(r.i8.bytes),
        `${(r.i8.recall * 100).toFixed(1)}%`,
        `${r.loadBefore} → ${r.loadAfter}`,
      ]),
    ),
  );

  for (const size of sizes.filter((s) => s <= hybridMax)) {
    process.stderr.write(`hybrid ${size.toLocaleString('en')}: building the library…\n`);
    const h = await hybridBench(size, dims, queries);
    console.log(
      `\nHybrid search, ${size.toLocaleString('en')} photos (library + embeddings built in ${fmtMs(h.buildMs)}): first query ` +
        `${fmtMs(h.firstQueryMs)} (loads the matrix, ${fmtBytes(h.matrixBytes)}), RSS after ${fmtBytes(h.rssAfter)}; load ${h.loadBefore} → ${h.loadAfter}`,
    );
    console.log(table(['query', 'p50', 'p95'], h.kinds.map((k) => [k.kind, fmtMs(k.p50), fmtMs(k.p95)])));
  }
  console.log(`\nuptime load average at the end: ${load()}`);
}
