/**
 * Captioning in the real page against a real core and the hand-set "colour" BLIP (captions name a photo's
 * dominant colour): start a run, watch it progress, see captions land on tiles, find photos by colour,
 * then fix one caption by hand, reload, walk its history, revert, undo, regenerate, and ask a quick question.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { copyFixtures, tempDir } from '../support/temp-dirs';

const COLOURS: Record<string, string> = { red: '#d01818', green: '#18b020', blue: '#1830d0' };
const PER_COLOUR = 2;
const ALL_PHOTOS = 22 + 3 * PER_COLOUR;
const BROKEN = 5;
/** "Caption new photos" skips the one fixture whose caption came with the file (exif/coffee-gps-caption.jpg). */
const TO_CAPTION = ALL_PHOTOS - 1;

type PageGlobals = { __progressSeen?: number[]; __noReload?: boolean };

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-captions-');
  const root = copyFixtures(tmp.dir);
  mkdirSync(join(root, 'colours'));
  for (const [word, hex] of Object.entries(COLOURS)) {
    for (let i = 0; i < PER_COLOUR; i++) {
      await sharp({ create: { width: 96 + i, height: 64, channels: 3, background: hex } }).jpeg({ quality: 90 }).toFile(join(root, 'colours', `${word}-${i}.jpg`));
    }
  }
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
  await h.core.models.import(await ensureTestModel('colour'), { name: 'blip-base' });
  await h.core.models.import(await ensureTestModel('colour-vqa'), { name: 'blip-vqa-base' });
  // Small batches, so a run of 28 photos reports progress several times.
  h.core.settings.set({ batchSize: 2, threads: 1 });
  await h.core.library.addRoot(root);
  await h.core.library.scan();
});

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const grid = () => h.page.getByRole('listbox', { name: 'Photos' });
const tile = (fileName: string) => grid().getByRole('option', { name: fileName });
const searchBox = () => h.page.getByRole('searchbox', { name: 'Search photos' });
const resultCount = () => h.page.getByTestId('result-count');
const photoView = () => h.page.getByRole('dialog', { name: /^Photo / });
const shownCaption = () => photoView().getByTestId('shown-caption');
const history = () => photoView().getByRole('list', { name: 'Caption history' }).getByRole('listitem');

describe.sequential('captioning, search and caption editing in Chromium, backed by a real core', () => {
  it('captions the library with progress, and captions appear on their tiles without a reload', async () => {
    // The library was added from the test: the page picks it up from `library.changed`, no reload.
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
    await h.page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals & { document: { documentElement: unknown }; MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void } };
      g.__noReload = true;
      const seen: number[] = (g.__progressSeen = []);
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(a: string): string | null } | null } }).document;
      new g.MutationObserver(() => {
        const v = doc.querySelector('[role="progressbar"][aria-label="Captioning progress"]')?.getAttribute('aria-valuenow');
        if (v != null && seen.at(-1) !== Number(v)) seen.push(Number(v));
      }).observe(g.document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });

    await h.page.getByRole('button', { name: 'Caption new photos' }).click();
    const run = h.page.getByTestId('job-run');
    await run.waitFor();
    await expect.poll(() => run.getAttribute('data-state'), { timeout: 90_000, interval: 200 }).toBe('done');

    const seen = await h.page.evaluate(() => (globalThis as unknown as PageGlobals).__progressSeen ?? []);
    // The bar moved through values between the start and the end (the total counts the broken files too).
    expect(seen.some((v) => v > 0 && v < TO_CAPTION - BROKEN)).toBe(true);
    expect(seen.at(-1)).toBe(TO_CAPTION - BROKEN);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(await h.page.getByTestId('job-details').textContent()).toBe(`${TO_CAPTION - BROKEN} of ${TO_CAPTION} · ${BROKEN} failures`);

    for (const word of Object.keys(COLOURS)) {
      for (let i = 0; i < PER_COLOUR; i++) {
        await expect.poll(() => tile(`${word}-${i}.jpg`).locator('.tile__caption').textContent()).toMatch(new RegExp(`\\b${word}\\b`));
      }
    }
    expect(await h.page.evaluate(() => (globalThis as unknown as PageGlobals).__noReload)).toBe(true);
    expect(h.calls.filter((c) => c.channel === 'captions.start')).toEqual([{ channel: 'captions.start', ok: true }]);
    await h.screenshot('10-captioned-gallery');
  });

  it('lists failures with their reasons in the jobs drawer, and retries them', async () => {
    await h.page.getByRole('button', { name: /Jobs · 5 failed/ }).click();
    const drawer = h.page.getByRole('dialog', { name: 'Jobs' });
    const failures = drawer.getByTestId('failure');
    await expect.poll(() => failures.count()).toBe(BROKEN);
    const empty = failures.filter({ hasText: 'broken/empty.jpg' });
    expect(await empty.locator('.failure__reason').textContent()).toMatch(/empty/i);
    expect(await drawer.getByTestId('count-failed').textContent()).toBe(String(BROKEN));
    await h.screenshot('11-jobs-drawer');
    await drawer.getByRole('button', { name: 'Retry broken/empty.jpg' }).click();
    await expect.poll(() => h.calls.filter((c) => c.channel === 'jobs.retry')).toEqual([{ channel: 'jobs.retry', ok: true }]);
    // The broken file fails again, for the same reason; it stays listed.
    await expect.poll(() => failures.count(), { timeout: 30_000 }).toBe(BROKEN);
    // The retried row re-rendered, so focus may have fallen to the page body: Escape still closes the drawer.
    await h.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { blur?: () => void } | null } }).document.activeElement?.blur?.());
    await h.page.keyboard.press('Escape');
    await drawer.waitFor({ state: 'detached' });
  });

  it('narrows the grid to the photos of a colour as you type, with the word highlighted', async () => {
    await searchBox().pressSequentially('red', { delay: 50 });
    await expect.poll(() => resultCount().textContent()).toMatch(/match “red”$/);
    const names = await grid().locator('.tile__name').allTextContents();
    for (let i = 0; i < PER_COLOUR; i++) expect(names).toContain(`red-${i}.jpg`);
    expect(names.some((n) => n.startsWith('green-') || n.startsWith('blue-'))).toBe(false);
    // Every result is there because its caption says red, and the word is marked.
    for (const mark of await grid().locator('.tile__caption').evaluateAll((els) => els.map((el) => el.querySelector('mark')?.textContent ?? ''))) {
      expect(mark.toLowerCase()).toBe('red');
    }
    await searchBox().fill('blue');
    await expect.poll(() => grid().locator('.tile__name').allTextContents()).toEqual(expect.arrayContaining(['blue-0.jpg', 'blue-1.jpg']));
    expect((await grid().locator('.tile__name').allTextContents()).some((n) => n.startsWith('red-'))).toBe(false);
    await searchBox().fill('purple zebra');
    await h.page.getByRole('heading', { name: 'No photos match “purple zebra”' }).waitFor();
    await searchBox().fill('');
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
  });

  let modelCaption = '';

  it('edits a caption in place; the edit survives a reload; history shows model and user entries', async () => {
    await tile('red-0.jpg').dblclick();
    await photoView().waitFor();
    modelCaption = (await shownCaption().textContent()) ?? '';
    expect(modelCaption).toMatch(/\bred\b/);
    expect(await photoView().getByTestId('caption-source').textContent()).toBe('Model · blip-base');

    await photoView().getByRole('button', { name: 'Edit caption' }).click();
    const input = photoView().getByRole('textbox', { name: 'Caption' });
    await input.fill('A red wall in the evening');
    await input.press('Enter');
    await expect.poll(() => shownCaption().textContent()).toBe('A red wall in the evening');
    expect(await photoView().getByTestId('caption-source').textContent()).toBe('Edited by you');
    // Escape in the editor cancels the edit only; the photo stays open.
    await photoView().getByRole('button', { name: 'Edit caption' }).click();
    await input.fill('this will be cancelled');
    await input.press('Escape');
    expect(await shownCaption().textContent()).toBe('A red wall in the evening');
    expect(await photoView().isVisible()).toBe(true);

    await h.page.reload();
    await tile('red-0.jpg').waitFor();
    expect(await tile('red-0.jpg').locator('.tile__caption').textContent()).toBe('A red wall in the evening');
    expect(await tile('red-0.jpg').locator('[data-badge="edited"]').count()).toBe(1);
    await tile('red-0.jpg').dblclick();
    await expect.poll(() => shownCaption().textContent()).toBe('A red wall in the evening');
    await expect.poll(() => history().count()).toBe(2);
    expect(await history().evaluateAll((els) => els.map((el) => el.getAttribute('data-source')))).toEqual(['user', 'model:blip-base']);
    expect(await history().first().textContent()).toContain('Shown');
  });

  it('reverts to the model caption from the history, and undoes that', async () => {
    await history().nth(1).getByRole('button', { name: /^Revert to/ }).click();
    await expect.poll(() => shownCaption().textContent()).toBe(modelCaption);
    await expect.poll(() => history().count()).toBe(3);
    await h.page.getByTestId('toast').filter({ hasText: 'Caption reverted' }).getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => shownCaption().textContent()).toBe('A red wall in the evening');
    // Every step is kept: edit, revert, undo.
    await expect.poll(() => history().count()).toBe(4);
    await h.screenshot('12-caption-history');
  });

  it('regenerates the caption with other settings; the person’s caption stays shown and the new one joins the history', async () => {
    // The user chose int8 in Settings: the run uses it, and the history says so.
    h.core.settings.set({ captionPrecision: 'int8' });
    await photoView().getByText('Regenerate with…').click();
    await photoView().getByLabel('Beams').fill('2');
    await photoView().getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => history().first().getAttribute('data-source'), { timeout: 60_000 }).toBe('model:blip-base');
    expect(await history().first().locator('.history__settings').textContent()).toContain('2 beams');
    expect(await history().first().locator('.source-chip').textContent()).toBe('Model · blip-base · int8');
    expect(await history().nth(1).locator('.source-chip').textContent()).toBe('You');
    expect(await history().last().locator('.source-chip').textContent()).toBe('Model · blip-base · fp32');
    expect(await shownCaption().textContent()).toBe('A red wall in the evening');
    h.core.settings.set({ captionPrecision: 'fp32' });
  });

  it('answers a quick question with BLIP VQA', async () => {
    await photoView().getByRole('textbox', { name: 'Quick question' }).fill('what colour is the wall?');
    await photoView().getByRole('button', { name: 'Ask' }).click();
    await expect.poll(() => photoView().getByTestId('vqa-answer').first().textContent(), { timeout: 60_000 }).toBe('red');
    expect(await photoView().locator('.vqa__meta').first().textContent()).toMatch(/^blip-vqa-base · /);
    await h.page.keyboard.press('Escape');
    await photoView().waitFor({ state: 'detached' });
    // The answer is kept with the photo: after a reload it is still listed, with when it was asked.
    await h.page.reload();
    await tile('red-0.jpg').dblclick();
    await photoView().waitFor();
    await expect.poll(() => photoView().getByTestId('vqa-answer').allTextContents()).toEqual(['red']);
    expect(await photoView().locator('.vqa__q').first().textContent()).toBe('what colour is the wall?');
    expect(await photoView().locator('.vqa__meta').first().textContent()).toMatch(/^blip-vqa-base · \S/);
    await h.page.keyboard.press('Escape');
    await photoView().waitFor({ state: 'detached' });
  });

  it('drives a running job from the status bar: pause, resume, cancel', async () => {
    // A run as the core reports it (the colour model is too quick to catch mid-run): the bar and its buttons
    // follow `jobs.progress`, and each button calls its channel.
    const running = { state: 'running' as const, model: 'blip-base', done: 30, total: 120, failed: 2, photosPerSec: 6.4, etaSec: 14, currentPhotoId: null, currentPath: 'colours/red-0.jpg', message: null };
    await h.emit('jobs.progress', running);
    const run = h.page.getByTestId('job-run');
    await expect.poll(() => run.getAttribute('data-state')).toBe('running');
    expect(await h.page.getByTestId('job-details').textContent()).toBe('30 of 120 · 6.4 photos/s · about 14 s left · 2 failures');
    const bar = h.page.getByRole('progressbar', { name: 'Captioning progress' });
    expect([await bar.getAttribute('aria-valuenow'), await bar.getAttribute('aria-valuemax')]).toEqual(['30', '120']);

    await h.page.getByRole('button', { name: 'Pause captioning' }).click();
    await expect.poll(() => h.calls.filter((c) => c.channel === 'captions.pause')).toEqual([{ channel: 'captions.pause', ok: true }]);
    await h.emit('jobs.progress', { ...running, state: 'paused', photosPerSec: 0 });
    await h.page.getByRole('button', { name: 'Resume captioning' }).click();
    await expect.poll(() => h.calls.filter((c) => c.channel === 'captions.resume')).toEqual([{ channel: 'captions.resume', ok: true }]);
    await h.emit('jobs.progress', running);
    await h.page.getByRole('button', { name: 'Cancel captioning' }).click();
    await expect.poll(() => h.calls.filter((c) => c.channel === 'captions.cancel')).toEqual([{ channel: 'captions.cancel', ok: true }]);
    await h.emit('jobs.progress', { ...running, state: 'cancelled', photosPerSec: 0, etaSec: null });
    await expect.poll(() => run.locator('.status-bar__title').textContent()).toBe('Captioning cancelled · blip-base');
    expect(await h.page.getByRole('button', { name: 'Pause captioning' }).count()).toBe(0);
  });

  it('raised no page errors along the way', () => {
    expect(h.pageErrors).toEqual([]);
    expect(h.calls.filter((c) => !c.ok)).toEqual([]);
  });
});
