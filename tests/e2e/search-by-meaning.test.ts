/**
 * Search by meaning in the real renderer (issue 11): the settings card reads the photos, a search finds a photo
 * whose caption and name lack the word and says "Matches by meaning", and "Find similar photos" in the photo view
 * opens the photos like it. The retrieval model is the colour stand-in (tests/support/colour-embedding-backend.ts),
 * which looks at the real pixels; everything else (SQLite, jobs, vector index, fusion, contract) is the real core.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourEmbeddingBackend, type ColourBackend } from '../support/colour-embedding-backend';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;
let backend: ColourBackend;

async function solid(path: string, colour: string, width: number): Promise<void> {
  await sharp({ create: { width, height: 120, channels: 3, background: colour } }).jpeg().toFile(path);
}

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-meaning-');
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  await solid(join(photos, 'evening.jpg'), '#d02020', 160);
  await solid(join(photos, 'poppies.jpg'), '#c81818', 170);
  await solid(join(photos, 'sky.jpg'), '#2040d0', 180);
  await solid(join(photos, 'lawn.jpg'), '#20b030', 190);
  h = await startRendererHarness({
    dataDir: join(tmp.dir, 'data'),
    coreOptions: { retrieval: { backend: (backend = colourEmbeddingBackend()), locateModel: () => join(tmp.dir, 'retrieval-pack') } },
  });
  await h.core.library.addRoot(photos);
  await h.core.library.scan();
  h.core.captions.add(h.core.db.prepare("SELECT id FROM photos WHERE file_name = 'sky.jpg'").pluck().get() as number, 'user', 'the blue sky');
}, 120_000);

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const grid = () => h.page.getByRole('listbox', { name: 'Photos' });

describe('search by meaning', () => {
  it('reads the photos from the settings card, which says what it costs', async () => {
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe('4 photos');
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const card = h.page.getByRole('region', { name: 'Search by meaning' });
    await expect.poll(() => card.getByTestId('meaning-status').textContent()).toBe('0 photos of 4 photos read with blip-itm-base-coco');
    expect(await card.getByRole('checkbox').isChecked()).toBe(true);
    expect(await card.textContent()).toMatch(/Cost: One more vision pass per photo/);
    // One photo per batch, and the first batch held: the run is caught in the middle, as on a big library.
    h.core.settings.set({ batchSize: 1 });
    const release = backend.hold();
    await card.getByRole('button', { name: 'Read the remaining photos now' }).click();
    // The status bar shows the run beside captioning, with pause / resume / cancel.
    const run = h.page.getByTestId('embedding-run');
    await expect.poll(() => run.getAttribute('data-state')).toBe('running');
    expect(await run.textContent()).toContain('Reading photos for search by meaning');
    expect(await h.page.getByTestId('embedding-details').textContent()).toMatch(/^0 of 4\b.*blip-itm-base-coco$/);
    await h.screenshot('search-by-meaning-0-status-bar');
    await h.page.getByRole('button', { name: 'Pause reading for search by meaning' }).click();
    release();
    await expect.poll(() => run.getAttribute('data-state')).toBe('paused');
    const paused = Number((await h.page.getByTestId('embedding-details').textContent())!.split(' of ')[0]);
    expect(paused).toBeLessThan(4);
    await h.page.getByRole('button', { name: 'Resume reading for search by meaning' }).click();
    await expect.poll(() => run.getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    expect(await run.textContent()).toContain('Photos read for search by meaning');
    expect(await h.page.getByTestId('embedding-details').textContent()).toBe('4 of 4 · blip-itm-base-coco');
    await expect.poll(() => card.getByTestId('meaning-status').textContent(), { timeout: 20_000 }).toBe('4 photos of 4 photos read with blip-itm-base-coco');
    await h.screenshot('search-by-meaning-1-settings');
    await h.page.getByRole('button', { name: 'Dismiss the search-by-meaning status' }).click();
    await expect.poll(() => run.count()).toBe(0);
    h.core.settings.set({ batchSize: 4 });
  });

  it('shows a photo found by meaning alone with its reason', async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Library' }).click();
    await h.page.getByRole('searchbox', { name: 'Search photos' }).fill('red');
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe('2 photos match “red”');
    // Neither name nor caption says "red": both red photos are there by meaning, and say so.
    const evening = grid().getByRole('option', { name: /^evening\.jpg/ });
    await expect.poll(() => evening.getAttribute('aria-label')).toMatch(/matches by meaning$/);
    expect(await evening.locator('[data-match="meaning"]').textContent()).toBe('Matches by meaning');
    expect(await grid().getByRole('option', { name: /^sky\.jpg/ }).count()).toBe(0);
    await h.screenshot('search-by-meaning-2-results');

    // A words match shows its highlighted words, not the meaning line.
    await h.page.getByRole('searchbox', { name: 'Search photos' }).fill('blue');
    const sky = grid().getByRole('option', { name: /^sky\.jpg/ });
    await expect.poll(() => sky.locator('mark').textContent()).toBe('blue');
    expect(await sky.locator('[data-match="meaning"]').count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });

  it('"Find similar photos" opens the photos like the one in view, most alike first', async () => {
    await h.page.getByRole('searchbox', { name: 'Search photos' }).fill('');
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe('4 photos');
    await grid().getByRole('option', { name: /^evening\.jpg/ }).dblclick();
    const view = h.page.getByRole('dialog', { name: /^Photo / });
    await view.waitFor();
    await view.getByRole('button', { name: 'Find similar photos' }).click();
    const bar = h.page.getByTestId('similar-bar');
    await expect.poll(() => bar.textContent()).toMatch(/^Photos like evening\.jpg, most alike first/);
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe('3 photos');
    const order = await grid().getByRole('option').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')!.split(',')[0]));
    expect(order[0]).toBe('poppies.jpg');
    expect(order).not.toContain('evening.jpg');
    await h.screenshot('search-by-meaning-3-similar');

    await bar.getByRole('button', { name: 'Show all photos' }).click();
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe('4 photos');
    expect(h.pageErrors).toEqual([]);
  });
});
