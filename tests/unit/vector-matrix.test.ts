import { describe, expect, it } from 'vitest';
import { EmbeddingStore, blobToVector, vectorToBlob } from '../../src/main/core/retrieval/embedding-store';
import { EmbedJobStore } from '../../src/main/core/retrieval/embed-job-store';
import { Int8VectorMatrix, RESCORE_CANDIDATES } from '../../src/main/core/retrieval/int8-vector-matrix';
import { simdInt8ScoresKernel } from '../../src/main/core/retrieval/simd-dot-kernel';
import { TopK } from '../../src/main/core/retrieval/top-k';
import { wasm } from '../../src/main/core/retrieval/wasm-api';
import { VectorIndex } from '../../src/main/core/retrieval/vector-index';
import { VectorMatrix } from '../../src/main/core/retrieval/vector-matrix';
import { fuse, meaningText } from '../../src/main/core/search/hybrid-search';
import { openDatabase } from '../../src/main/core/store/database';
import type { SearchHit } from '../../src/shared/api';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function unit(r: () => number, dims: number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => r() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('TopK', () => {
  it('keeps the k best of a stream, best first', () => {
    const r = rng(1);
    const scores = Array.from({ length: 1000 }, () => r());
    const top = new TopK(10);
    scores.forEach((s, i) => top.push(i, s));
    const expected = scores.map((score, row) => ({ row, score: Math.fround(score) })).sort((a, b) => b.score - a.score).slice(0, 10);
    expect(top.sorted()).toEqual(expected);
  });
});

describe.each([
  { kernel: 'WebAssembly SIMD', simd: true },
  { kernel: 'plain loop', simd: false },
])('VectorMatrix ($kernel)', ({ simd }) => {
  it('returns exactly what a brute-force cosine sort returns, grows past its capacity, and filters', () => {
    const r = rng(7);
    const dims = 37; // not a multiple of 8: rows are padded for the kernel's steps
    const m = new VectorMatrix(dims, 4, { simd });
    expect(m.simd).toBe(simd);
    const vectors = new Map<number, Float32Array>();
    for (let id = 1; id <= 500; id++) {
      const v = unit(r, dims);
      vectors.set(id * 3, v);
      m.set(id * 3, v);
    }
    expect(m.size).toBe(500);
    const q = unit(r, dims);
    const dot = (v: Float32Array): number => v.reduce((s, x, i) => s + x * q[i]!, 0);
    const brute = [...vectors].map(([photoId, v]) => ({ photoId, score: dot(v) })).sort((a, b) => b.score - a.score);
    const got = m.search(q, 20);
    expect(got.map((h) => h.photoId)).toEqual(brute.slice(0, 20).map((h) => h.photoId));
    for (const [i, h] of got.entries()) expect(h.score).toBeCloseTo(brute[i]!.score, 5);
    const even = m.search(q, 5, (id) => id % 2 === 0);
    expect(even.map((h) => h.photoId)).toEqual(brute.filter((h) => h.photoId % 2 === 0).slice(0, 5).map((h) => h.photoId));
    // Replacing a row keeps one row per photo.
    m.set(3, q);
    expect(m.size).toBe(500);
    expect(m.search(q, 1)[0]!.photoId).toBe(3);
    expect(() => m.search(new Float32Array(3), 1)).toThrow(/37-dimensional/);
  });
});

describe.each([
  { kernel: 'int8 SIMD', simd: true },
  { kernel: 'int8 plain loop', simd: false },
])('Int8VectorMatrix ($kernel)', ({ simd }) => {
  it('after exact rescoring, returns the float32 top k with float32 scores, filters, and grows', () => {
    const r = rng(11);
    const dims = 40; // not a multiple of 16: rows are padded
    const vectors = new Map<number, Float32Array>();
    const asked: number[] = [];
    const m = new Int8VectorMatrix(dims, 8, (ids) => {
      asked.push(ids.length);
      return new Map(ids.flatMap((id) => (vectors.has(id) ? [[id, vectors.get(id)!] as const] : [])));
    }, { simd });
    expect(m.simd).toBe(simd);
    for (let id = 1; id <= 3000; id++) {
      const v = unit(r, dims);
      vectors.set(id, v);
      m.set(id, v);
    }
    const q = unit(r, dims);
    const dot = (v: Float32Array): number => v.reduce((s, x, i) => s + x * q[i]!, 0);
    const brute = [...vectors].map(([photoId, v]) => ({ photoId, score: dot(v) })).sort((a, b) => b.score - a.score);
    const got = m.search(q, 20);
    expect(got.map((h) => h.photoId)).toEqual(brute.slice(0, 20).map((h) => h.photoId));
    for (const [i, h] of got.entries()) expect(h.score).toBeCloseTo(brute[i]!.score, 5);
    expect(asked.at(-1)).toBe(RESCORE_CANDIDATES);
    const odd = m.search(q, 5, (id) => id % 2 === 1);
    expect(odd.map((h) => h.photoId)).toEqual(brute.filter((h) => h.photoId % 2 === 1).slice(0, 5).map((h) => h.photoId));
    // A photo whose float32 vector is gone (deleted meanwhile) keeps its int8 score instead of vanishing.
    const best = brute[0]!.photoId;
    vectors.delete(best);
    const approx = m.search(q, 1)[0]!;
    expect(approx.photoId).toBe(best);
    expect(approx.score).toBeCloseTo(brute[0]!.score, 1);
  });
});

describe('int8 SIMD kernel', () => {
  it('computes exact integer dot products of int8 rows with an int16 query', () => {
    const r = rng(3);
    const stride = 48;
    const rows = 37;
    const memory = new wasm.Memory({ initial: 1 });
    const kernel = simdInt8ScoresKernel(memory);
    expect(kernel).not.toBeNull();
    const query = new Int16Array(memory.buffer, 0, stride);
    const data = new Int8Array(memory.buffer, 128, rows * stride);
    for (let j = 0; j < stride; j++) query[j] = Math.round(r() * 254 - 127);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(r() * 254 - 127);
    const outOffset = 128 + rows * stride;
    kernel!(128, 0, rows, stride, outOffset);
    const out = new Float32Array(memory.buffer, outOffset, rows);
    for (let row = 0; row < rows; row++) {
      let dot = 0;
      for (let j = 0; j < stride; j++) dot += data[row * stride + j]! * query[j]!;
      expect(out[row], `row ${row}`).toBe(dot);
    }
  });
});

describe('embeddings storage', () => {
  it('round-trips float32 BLOBs and loads vectors per photo content, skipping missing photos', async () => {
    const v = Float32Array.from([0.5, -0.25, 1e-7, 3]);
    expect(blobToVector(vectorToBlob(v))).toEqual(v);
    const db = openDatabase(':memory:');
    db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
    const add = db.prepare(
      `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
       VALUES (1, ?, ?, '', ?, 1, 1, ?, 'now', 'now')`,
    );
    add.run('a.jpg', 'a.jpg', 'h1', 'ok');
    add.run('b.jpg', 'b.jpg', 'h1', 'ok'); // a duplicate of a
    add.run('c.jpg', 'c.jpg', 'h2', 'missing');
    add.run('d.jpg', 'd.jpg', 'h3', 'broken');
    const store = new EmbeddingStore(db);
    store.put('h1', 'm', Float32Array.from([1, 0]));
    store.put('h2', 'm', Float32Array.from([0, 1]));
    expect(store.stats('m')).toEqual({ photos: 2, dims: 2 });
    const index = new VectorIndex(store);
    expect((await index.search('m', Float32Array.from([1, 0]), 10)).map((h) => h.photoId)).toEqual([1, 2]);
    expect(await index.search('other', Float32Array.from([1, 0]), 10)).toEqual([]);
    // Only decodable photos are queued, and only when their content has no embedding.
    const jobs = new EmbedJobStore(db);
    expect(jobs.enqueue([1, 2, 3, 4], 'm')).toBe(0);
    expect(jobs.enqueue([1, 2, 3, 4], 'm2')).toBe(2);
    expect(jobs.claim('m2', 10).map((j) => j.settings_key)).toEqual(['h1', 'h1']);
  });
});

describe('VectorIndex loading', () => {
  it('loads a library bigger than one slice, shares one load between queries, and reloads after invalidate', async () => {
    const db = openDatabase(':memory:');
    db.prepare("INSERT INTO roots (id, path, added_at) VALUES (1, '/p', 'now')").run();
    const add = db.prepare(
      `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, status, first_seen_at, updated_at)
       VALUES (1, ?, ?, '', ?, 1, 1, 'ok', 'now', 'now')`,
    );
    const store = new EmbeddingStore(db);
    const n = 12_345;
    db.transaction(() => {
      for (let i = 1; i <= n; i++) {
        add.run(`p${i}.jpg`, `p${i}.jpg`, `h${i}`);
        const a = (i / n) * Math.PI;
        // Photo 9,000 (in the second slice) points where no other does.
        store.put(`h${i}`, 'm', i === 9000 ? Float32Array.from([0, 0, 1]) : Float32Array.from([Math.cos(a), Math.sin(a), 0]));
      }
    })();
    const index = new VectorIndex(store);
    const [a, b] = await Promise.all([index.ready('m'), index.ready('m')]);
    expect(a).toBe(b);
    expect(a!.size).toBe(n);
    expect((await index.search('m', Float32Array.from([0, 0, 1]), 1))[0]!.photoId).toBe(9000);
    index.invalidate();
    db.prepare("UPDATE photos SET status = 'missing' WHERE id = ?").run(9000);
    const reloaded = await index.ready('m');
    expect(reloaded).not.toBe(a);
    expect(reloaded!.size).toBe(n - 1);
  });
});

describe('fusion', () => {
  const hit = (id: number): SearchHit =>
    ({ id, rootId: 1, path: '', relPath: '', fileName: '', folder: '', status: 'ok', statusReason: null, width: null, height: null, takenAt: null, caption: null, captionSource: null, rank: 0, highlight: null }) as SearchHit;

  it('puts what both lists found first, then alternates by rank (words first on a tie)', () => {
    const fused = fuse([hit(1), hit(2), hit(3)], [
      { photoId: 3, score: 0.9 },
      { photoId: 4, score: 0.8 },
    ]);
    expect(fused.map((f) => f.id)).toEqual([3, 1, 2, 4]);
    expect(fused[0]).toMatchObject({ wordsRank: 3, meaningRank: 1, similarity: 0.9 });
  });

  it('sends the text encoder the words, not the search syntax', () => {
    expect(meaningText('dog -cat "on the" OR beach')).toBe('dog on the beach');
    expect(meaningText('-only')).toBe('');
  });
});
