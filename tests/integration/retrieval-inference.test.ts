/**
 * BLIP retrieval through the real inference process (child_process.fork): the four messages, per-photo errors,
 * the captioner loaded beside it, and the client reloading the retrieval pack after a crash.
 */
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceClient, WorkerCrashedError } from '../../src/main/core/inference/inference-client';
import { DEFAULT_CAPTION_SETTINGS } from '../../src/main/core/jobs/caption-settings';
import { forkWorker, INFERENCE_ENTRY } from '../../src/main/core/inference/worker-handle';
import type { BlipRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { loadRetrievalEngine } from '../../src/main/core/retrieval/blip-retrieval-engine';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { patternPng, solidPng } from './blip-helpers';

let work: string;
let modelDir: string;
let cacheDir: string;
let direct: BlipRetrievalEngine;
let client: InferenceClient;
let good: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tandem-retrieval-ipc-'));
  modelDir = await ensureTestModel('tiny-retrieval');
  cacheDir = join(work, 'cache');
  direct = await loadRetrievalEngine({ modelDir, cacheDir, model: 'tiny-itm', threads: 1 });
  good = [join(work, 'a.png'), join(work, 'b.png')];
  await writeFile(good[0]!, await patternPng(3));
  await writeFile(good[1]!, await solidPng([20, 200, 40]));
  client = new InferenceClient(() => forkWorker());
}, 120_000);

afterAll(async () => {
  await client?.close();
  await direct?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('retrieval in the inference process', () => {
  it('loads the pack and reports its dimensions', async () => {
    const loaded = await client.loadRetrieval({ model: 'tiny-itm', modelDir, cacheDir, threads: 1 });
    expect(loaded).toMatchObject({ type: 'retrieval-loaded', model: 'tiny-itm', dimensions: 24 });
    // The same load again is a no-op in the process.
    expect((await client.loadRetrieval({ model: 'tiny-itm', modelDir, cacheDir, threads: 1 })).loadMs).toBe(0);
  });

  it('embeds photos; a broken or missing file fails alone with its reason', async () => {
    const broken = join(work, 'broken.jpg');
    await writeFile(broken, Buffer.from('not a jpeg at all'));
    const items = [
      { jobId: 1, photoId: 11, path: good[0]! },
      { jobId: 2, photoId: 12, path: broken },
      { jobId: 3, photoId: 13, path: good[1]! },
      { jobId: 4, photoId: 14, path: join(work, 'missing.png') },
    ];
    const reply = await client.embedImages({ items });
    expect(reply.results.map((r) => [r.jobId, r.photoId, r.ok])).toEqual([
      [1, 11, true],
      [2, 12, false],
      [3, 13, true],
      [4, 14, false],
    ]);
    const expected = await direct.embedImages(good);
    const [first, second, third, fourth] = reply.results;
    expect(first!.ok && first!.vector).toEqual(Array.from(expected[0]!));
    expect(third!.ok && third!.vector).toEqual(Array.from(expected[1]!));
    expect(!second!.ok && second!.error).toMatch(/broken\.jpg|decode|unsupported|image/i);
    expect(!fourth!.ok && fourth!.error).toMatch(/missing\.png|no such file|ENOENT|not found/i);
  });

  it('embeds texts and matches texts against a file, as the engine does in-process', async () => {
    const texts = ['a green field', 'dog', 'a photo of a red car'];
    const t = await client.embedTexts({ texts });
    expect(t.vectors).toEqual((await direct.embedTexts(texts)).map((v) => Array.from(v)));
    const m = await client.match({ path: good[1]!, texts });
    expect(m.probabilities).toEqual(await direct.matchProbabilities(good[1]!, texts));
    await expect(client.match({ path: join(work, 'missing.png'), texts })).rejects.toThrow();
  });

  it('a match sees a changed file, not the image embeds kept from before', async () => {
    const path = join(work, 'changing.png');
    const texts = ['dog', 'a photo of a red car'];
    await writeFile(path, await patternPng(5));
    const first = (await client.match({ path, texts })).probabilities;
    expect((await client.match({ path, texts })).probabilities).toEqual(first);
    await writeFile(path, await solidPng([200, 10, 10]));
    const later = new Date(Date.now() + 10_000);
    await utimes(path, later, later);
    const second = (await client.match({ path, texts })).probabilities;
    expect(second).toEqual(await direct.matchProbabilities(path, texts));
    expect(second).not.toEqual(first);
  });

  it('runs beside the captioner in the same process', async () => {
    const captioner = await ensureTestModel('colour');
    await client.load({ model: 'colour', modelDir: captioner, cacheDir, threads: 1 });
    const captioned = await client.caption({ items: [{ jobId: 1, photoId: 1, path: good[1]! }], settings: DEFAULT_CAPTION_SETTINGS });
    expect(captioned.results[0]).toMatchObject({ ok: true, text: 'a photo of green' });
    expect((await client.embedTexts({ texts: ['dog'] })).vectors[0]).toEqual(Array.from((await direct.embedTexts(['dog']))[0]!));
  });

  it('reloads the retrieval pack in a fresh process after a crash', async () => {
    const before = client.pid;
    client.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const t = await client.embedTexts({ texts: ['blue sky'] });
    expect(client.pid).not.toBe(before);
    expect(t.vectors[0]).toEqual(Array.from((await direct.embedTexts(['blue sky']))[0]!));
  });

  it('the crash hook kills the process at a chosen photo, for the library side’s crash-recovery tests', async () => {
    const crashing = new InferenceClient(() => forkWorker(INFERENCE_ENTRY, { ...process.env, TANDEM_TEST_CRASH_ON: 'crash-here' }), () => 1);
    try {
      await crashing.loadRetrieval({ model: 'tiny-itm', modelDir, cacheDir, threads: 1 });
      const items = [{ jobId: 1, photoId: 1, path: join(work, 'crash-here.png') }];
      await expect(crashing.embedImages({ items })).rejects.toBeInstanceOf(WorkerCrashedError);
      // The retrieval pack comes back in the fresh process by itself.
      expect((await crashing.embedImages({ items: [{ jobId: 2, photoId: 2, path: good[0]! }] })).results[0]!.ok).toBe(true);
    } finally {
      await crashing.close();
    }
  });

  it('says so when no retrieval pack was loaded', async () => {
    const fresh = new InferenceClient(() => forkWorker());
    try {
      await expect(fresh.embedTexts({ texts: ['x'] })).rejects.toMatchObject({ code: 'no_model' });
      await expect(fresh.embedImages({ items: [{ jobId: 1, photoId: 1, path: good[0]! }] })).rejects.toMatchObject({ code: 'no_model' });
    } finally {
      await fresh.close();
    }
  });
});
