import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCore, type Core } from '../../src/main/core/core';
import { forkWorker, INFERENCE_ENTRY } from '../../src/main/core/inference/worker-handle';
import type { JobProgress } from '../../src/shared/api';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { copyFixtures, tempDir } from '../support/temp-dirs';

const COLOURS: Record<string, string> = { red: '#d01818', green: '#18b020', blue: '#1830d0' };

let tmp: { dir: string; cleanup: () => void };
let colourModel: string;

beforeAll(async () => {
  tmp = tempDir();
  colourModel = await ensureTestModel('colour');
});
afterAll(() => tmp?.cleanup());

/** A library: the fixture photos plus `perColour` solid photos of each colour. */
async function makeLibrary(name: string, perColour: number): Promise<string> {
  const root = copyFixtures(join(tmp.dir, name));
  mkdirSync(join(root, 'colours'), { recursive: true });
  for (const [word, hex] of Object.entries(COLOURS)) {
    for (let i = 0; i < perColour; i++) {
      // A little noise makes every file distinct (different hash), as real photos are.
      await sharp({ create: { width: 64 + i, height: 48, channels: 3, background: hex } })
        .jpeg({ quality: 90 })
        .toFile(join(root, 'colours', `${word}-${i}.jpg`));
    }
  }
  return root;
}

async function openLibrary(name: string, perColour: number, env?: NodeJS.ProcessEnv): Promise<Core> {
  const root = await makeLibrary(name, perColour);
  const core = openCore({
    dataDir: join(tmp.dir, name, 'data'),
    spawnWorker: () => forkWorker(INFERENCE_ENTRY, { ...process.env, ...env }),
  });
  await core.models.import(colourModel, { name: 'blip-base' });
  await core.library.addRoot(root);
  await core.library.scan();
  return core;
}

function modelCaptionCounts(core: Core): Map<number, number> {
  const rows = core.db
    .prepare("SELECT photo_id, count(*) AS n FROM captions WHERE source = 'model:blip-base' GROUP BY photo_id")
    .all() as { photo_id: number; n: number }[];
  return new Map(rows.map((r) => [r.photo_id, r.n]));
}

const open: Core[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

describe('bulk captioning', () => {
  it('captions every decodable photo, fails broken ones with their reason, and search finds colours', async () => {
    const core = await openLibrary('basic', 2);
    open.push(core);
    const queued = core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings());
    expect(queued).toBe(22 + 6);
    const progress: JobProgress[] = [];
    const result = await core.captioning.run({ model: 'blip-base', batchSize: 3, threads: 1, onProgress: (p) => progress.push(p) });
    expect(result.state).toBe('done');
    expect(result.done).toBe(17 + 6);
    expect(result.failed).toBe(5);
    expect(progress.some((p) => p.state === 'running' && p.done > 0 && p.done < 23)).toBe(true);
    expect(progress.at(-1)!.photosPerSec).toBeGreaterThan(0);

    const failures = core.captioning.jobs.failures();
    expect(failures.map((f) => f.rel_path).sort()).toEqual(
      ['broken/bomb-60000x60000.png', 'broken/cut-after-4k.jpg', 'broken/empty.jpg', 'broken/not-an-image.jpg', 'broken/truncated.jpg'],
    );
    expect(failures.find((f) => f.rel_path === 'broken/empty.jpg')!.error).toMatch(/empty/);

    for (const word of Object.keys(COLOURS)) {
      const hits = core.search.search(word, {}, 0, 50).items.map((p) => p.relPath);
      expect(hits.filter((h) => h.startsWith('colours/')).sort(), word).toEqual([`colours/${word}-0.jpg`, `colours/${word}-1.jpg`]);
    }
    // The XMP caption someone wrote is still the one shown; the model's is kept in history.
    const coffee = core.search.search('paris', {}, 0, 1).items[0]!;
    expect(coffee.caption).toBe('Morning coffee in Paris');
    expect(core.captions.history(coffee.id).map((c) => c.source)).toEqual(['model:blip-base', 'file']);

    // Running again does nothing: every photo has its caption from this model and settings.
    expect(core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings())).toBe(0);
    expect([...modelCaptionCounts(core).values()].every((n) => n === 1)).toBe(true);
  });

  it('survives the inference process being killed mid-run: jobs re-queue and each photo is captioned once', async () => {
    const core = await openLibrary('kill-worker', 6);
    open.push(core);
    core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings());
    let killed = 0;
    const result = await core.captioning.run({
      model: 'blip-base',
      batchSize: 2,
      threads: 1,
      onProgress: (p) => {
        // Kill it twice, at different points, while batches are in flight.
        if ((p.done >= 4 && killed === 0) || (p.done >= 12 && killed === 1)) {
          killed++;
          core.captioning.ensureClient().kill('SIGKILL');
        }
      },
    });
    expect(killed).toBe(2);
    expect(result.state).toBe('done');
    expect(result.done).toBe(17 + 18);
    const counts = modelCaptionCounts(core);
    expect(counts.size).toBe(35);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(core.captioning.jobs.counts()).toMatchObject({ queued: 0, running: 0 });
  });

  it('marks a photo that kills the inference process twice as failed, and goes on', async () => {
    const core = await openLibrary('poison', 1, { TANDEM_TEST_CRASH_ON: 'green-0' });
    open.push(core);
    core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings());
    const result = await core.captioning.run({ model: 'blip-base', batchSize: 4, threads: 1 });
    expect(result.state).toBe('done');
    const failed = core.captioning.jobs.failures();
    const poison = failed.find((f) => f.rel_path === 'colours/green-0.jpg');
    expect(poison?.error).toMatch(/stopped twice/);
    expect(result.done).toBe(17 + 3 - 1);
    // "Needs attention" lists the photo the model could not caption beside the unreadable files.
    const problems = () => core.search.list({ problems: true }, 'name', 0, 100).items.map((p) => p.relPath).sort();
    expect(problems()).toEqual([
      'broken/bomb-60000x60000.png', 'broken/cut-after-4k.jpg', 'broken/empty.jpg', 'broken/not-an-image.jpg', 'broken/truncated.jpg', 'colours/green-0.jpg',
    ]);
    expect(core.library.status().captionFailed).toBe(1);
    // Once it has a caption (here, typed by the user) it no longer needs attention.
    core.captions.add(poison!.photo_id, 'user', 'a green field');
    expect(problems()).not.toContain('colours/green-0.jpg');
    expect(core.library.status().captionFailed).toBe(0);
  });

  it('pause finishes the batch in hand, resume continues, cancel leaves nothing running', async () => {
    const core = await openLibrary('control', 4);
    open.push(core);
    core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings());
    const states: string[] = [];
    let pausedAt = -1;
    const run = core.captioning.run({
      model: 'blip-base',
      batchSize: 2,
      threads: 1,
      onProgress: (p) => {
        states.push(p.state);
        if (p.done >= 2 && pausedAt < 0) {
          pausedAt = p.done;
          core.captioning.pause();
        }
      },
    });
    await waitFor(() => states.at(-1) === 'paused');
    const counts = core.captioning.jobs.counts();
    expect(counts.running).toBe(0);
    const doneWhilePaused = counts.done;
    await new Promise((r) => setTimeout(r, 300));
    expect(core.captioning.jobs.counts().done).toBe(doneWhilePaused);
    core.captioning.resume();
    await waitFor(() => core.captioning.jobs.counts().done > doneWhilePaused);
    core.captioning.cancel('blip-base');
    const result = await run;
    expect(result.state).toBe('cancelled');
    const after = core.captioning.jobs.counts();
    expect(after.running).toBe(0);
    expect(after.queued).toBe(0);
    expect(after.cancelled).toBeGreaterThan(0);
    expect(states).toContain('pausing');
  });

  it('a user edit made while the photo is being captioned stays shown', async () => {
    const core = await openLibrary('user-edit', 1);
    open.push(core);
    const red = core.search.search('red', {}, 0, 5).items.find((p) => p.relPath === 'colours/red-0.jpg')!;
    core.captioning.enqueue({ kind: 'photos', photoIds: [red.id] }, 'blip-base', core.captioning.settings());
    let edited = false;
    await core.captioning.run({
      model: 'blip-base',
      batchSize: 1,
      threads: 1,
      onProgress: (p) => {
        if (!edited && p.currentPhotoId === red.id && core.captioning.jobs.counts().running === 1) {
          edited = true;
          core.captions.add(red.id, 'user', 'the red wall of our old kitchen');
        }
      },
    });
    expect(edited).toBe(true);
    const d = core.photos.detail(red.id, core.captions.history(red.id));
    expect(d.caption).toBe('the red wall of our old kitchen');
    expect(d.captions.map((c) => c.source)).toEqual(['model:blip-base', 'user']);
  });

  it('a VQA question asked while the library is being captioned does not disturb the captioning model', async () => {
    const core = await openLibrary('vqa-during-run', 3);
    open.push(core);
    await core.models.import(await ensureTestModel('colour-vqa'), { name: 'blip-vqa-base' });
    const vqaModel = core.captioning.resolveModel({ model: 'blip-vqa-base' });
    const blue = core.search.search('blue', {}, 0, 5).items.find((p) => p.relPath === 'colours/blue-2.jpg')!;
    core.captioning.enqueue({ kind: 'all' }, 'blip-base', core.captioning.settings());
    let asked: Promise<{ answer: string; model: string }> | null = null;
    let pids: [number | undefined, number | undefined] = [undefined, undefined];
    const result = await core.captioning.run({
      model: 'blip-base',
      batchSize: 2,
      threads: 1,
      onProgress: (p) => {
        if (!asked && p.state === 'running' && p.done >= 2) {
          asked = core.vqa
            .ask({ photoId: blue.id, path: core.photos.absolutePath(core.photos.row(blue.id)), question: 'what colour is this photo?', model: vqaModel, threads: 1, settings: core.captioning.settings() })
            .then((a) => ((pids = [core.captioning.ensureClient().pid, core.vqa.pid]), a));
        }
      },
    });
    expect(asked).not.toBeNull();
    const answer = await asked!;
    expect(answer).toMatchObject({ answer: 'blue', model: 'model:blip-vqa-base' });
    expect(pids[0]).toBeDefined();
    expect(pids[1]).toBeDefined();
    expect(pids[1]).not.toBe(pids[0]);
    // Every photo was captioned by the caption model, as if nobody had asked.
    expect(result).toMatchObject({ state: 'done', done: 17 + 9, failed: 5 });
    const colours = core.db
      .prepare("SELECT p.rel_path AS path, c.text FROM captions c JOIN photos p ON p.id = c.photo_id WHERE c.source = 'model:blip-base' AND p.rel_path LIKE 'colours/%'")
      .all() as { path: string; text: string }[];
    expect(colours).toHaveLength(9);
    for (const c of colours) expect(c.text).toContain(c.path.slice('colours/'.length).split('-')[0]!);
    expect(core.answers.forPhoto(blue.id).map((a) => [a.answer, a.model])).toEqual([['blue', 'model:blip-vqa-base']]);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
