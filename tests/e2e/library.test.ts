import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TandemApi } from '../../src/shared/api';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { copyFixtures, tempDir } from '../support/temp-dirs';

// The fixture folder: 17 photos that decode, 5 broken on purpose (see tests/integration/library-index.test.ts).
const OK_PHOTOS = 17;
const BROKEN_PHOTOS = 5;
const ALL_PHOTOS = OK_PHOTOS + BROKEN_PHOTOS;

/** The page globals these tests touch. This file is type-checked for Node (no DOM lib), so they are named here. */
type PageGlobals = { tandem: TandemApi; __phases?: string[]; __inlineRan?: boolean };

let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let h: RendererHarness;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-');
  photosDir = copyFixtures(tmp.dir);
  // Tall enough that the virtualized grid keeps all 22 fixture photos in the DOM, so every one can be checked in place.
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data'), viewport: { width: 1280, height: 1800 } });
});

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const tiles = () => h.page.getByRole('listbox', { name: 'Photos' }).getByRole('option');
const searchBox = () => h.page.getByRole('searchbox', { name: 'Search photos' });
const resultCount = () => h.page.getByTestId('result-count');
const headerAddFolder = () => h.page.getByRole('banner').getByRole('button', { name: 'Add folder…' });
const tileNames = () => h.page.locator('.tile__name').allTextContents();

/** Scrolls the (virtualized) grid back to its first row. */
async function scrollGridToTop(): Promise<void> {
  await h.page.getByRole('listbox', { name: 'Photos' }).evaluate((grid) => grid.scrollTo({ top: 0 }));
}

/** Waits until every thumbnail in the grid has finished loading (scrolling so lazy ones start); returns their natural widths. */
async function loadedThumbnailWidths(): Promise<number[]> {
  const imgs = h.page.locator('img.tile__img');
  await imgs.last().scrollIntoViewIfNeeded();
  await expect.poll(() => imgs.evaluateAll((els) => els.every((el) => el.complete === true))).toBe(true);
  await scrollGridToTop();
  return imgs.evaluateAll((els) => els.map((el) => Number(el.naturalWidth)));
}

// The steps share one page and one library, in order: a user's first session.
describe.sequential('library page in Chromium, backed by a real core', () => {
  it('starts on the first-run screen of a fresh library (folder, model downloads with sizes), with the CSP in force', async () => {
    await h.page.getByRole('heading', { name: 'Welcome to Tandem' }).waitFor();
    await h.page.getByRole('heading', { name: 'No library folders yet' }).waitFor();
    // The model downloads are offered with their sizes, before anything is installed.
    const downloads = h.page.getByRole('list', { name: 'Model downloads' }).getByRole('listitem');
    await expect.poll(() => downloads.count()).toBe(5);
    // Search by meaning is offered with the captioners: it is on by default once its pack is there.
    expect(await h.page.getByRole('button', { name: 'Download blip-itm-base-coco' }).isEnabled()).toBe(true);
    // The multi-gigabyte LLaVA-1.5 packs are named, with their sizes, but left to the model manager.
    expect(await h.page.getByTestId('bigger-models').textContent()).toMatch(/^Bigger models \(llava-1\.5-7b, \d+(\.\d)? GB; llava-1\.5-13b, \d+(\.\d)? GB\) are in the model manager\.$/);
    expect(await downloads.filter({ hasText: 'blip-base' }).first().getByTestId('download-size').textContent()).toMatch(/^\d+(\.\d)? (MB|GB)$/);
    expect(await h.page.getByRole('button', { name: 'Download llava-interleave-qwen-0.5b' }).isEnabled()).toBe(true);
    expect(await headerAddFolder().isEnabled()).toBe(true);
    expect(await h.page.getByRole('main').getByRole('button', { name: 'Add folder…' }).count()).toBe(1);

    const csp = await h.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("img-src 'self' tandem:");
    const inlineRan = await h.page.locator('head').evaluate(async (head) => {
      const doc = head.ownerDocument;
      const blocked = new Promise<string>((done) =>
        doc.addEventListener('securitypolicyviolation', (e: { violatedDirective: string }) => done(e.violatedDirective), { once: true }),
      );
      const script = doc.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      head.append(script);
      return { ran: (globalThis as unknown as PageGlobals).__inlineRan === true, directive: await blocked };
    });
    expect(inlineRan).toEqual({ ran: false, directive: expect.stringMatching(/^script-src/) });
    // That violation was provoked on purpose; anything else in pageErrors is a failure.
    h.pageErrors.splice(0, h.pageErrors.length, ...h.pageErrors.filter((e) => !e.includes('Content Security Policy')));
    await h.screenshot('01-empty-library');
  });

  it('adds a folder: picks it, indexes it with progress, and fills the grid', async () => {
    await h.page.evaluate(() => {
      const page = globalThis as unknown as PageGlobals;
      const seen: string[] = (page.__phases = []);
      page.tandem.on('scan.progress', (p) => seen.push(p.phase));
    });
    h.setPickedFolder(photosDir);
    await headerAddFolder().click();

    await h.page.getByRole('progressbar', { name: 'Indexing progress' }).waitFor();
    await h.page.getByText('Library up to date').waitFor();
    expect(await h.page.getByTestId('scan-detail').textContent()).toBe(`${ALL_PHOTOS} files checked: ${OK_PHOTOS} ok, ${BROKEN_PHOTOS} broken`);
    const bar = h.page.getByRole('progressbar', { name: 'Indexing progress' });
    expect(await bar.getAttribute('aria-valuenow')).toBe(String(ALL_PHOTOS));
    const phases = await h.page.evaluate(() => (globalThis as unknown as PageGlobals).__phases ?? []);
    expect(phases[0]).toBe('walking');
    expect(phases).toContain('indexing');
    expect(phases.at(-1)).toBe('done');

    // Reads (listing photos, counts, jobs, models, settings) come and go with the UI; what changed the library is exactly this.
    const READS = /^(photos\.|library\.(listRoots|status)$|jobs\.(status|failures)$|models\.list$|settings\.get$|embeddings\.status$)/;
    expect(h.calls.filter((c) => !READS.test(c.channel))).toEqual([
      { channel: 'dialog.pickFolder', ok: true },
      { channel: 'library.addRoot', ok: true },
      { channel: 'library.scan', ok: true },
    ]);
    // The picker ran on the host's side, for a library folder; the page only ever held a grant for it.
    expect(h.pickerPurposes).toEqual(['library']);

    await expect.poll(() => tiles().count()).toBe(ALL_PHOTOS);
    expect(await resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
    expect(await h.page.locator('[role="option"][data-status="ok"]').count()).toBeGreaterThanOrEqual(OK_PHOTOS);
  });

  it('a page cannot add a folder by naming its path, nor spend a picked folder twice', async () => {
    h.setPickedFolder(join(tmp.dir, 'not-a-folder'));
    const firstCall = h.calls.length;
    const answers = await h.page.evaluate(async () => {
      const { tandem } = globalThis as unknown as PageGlobals;
      const attempt = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);
      // Typed loosely on purpose: this is what a compromised page would send, not what the contract allows.
      const invoke = tandem.invoke as (channel: string, request: unknown) => Promise<unknown>;
      const picked = (await tandem.invoke('dialog.pickFolder', { purpose: 'library' })) as { grant: string };
      return {
        byPath: await attempt(invoke('library.addRoot', { path: '/etc' })),
        first: await attempt(tandem.invoke('library.addRoot', { grant: picked.grant })),
        again: await attempt(tandem.invoke('library.addRoot', { grant: picked.grant })),
        asModel: await attempt(invoke('models.import', { dir: '/' })),
      };
    });
    expect(answers.byPath).toMatch(/^Invalid request for library\.addRoot \(grant\)/);
    expect(answers.first).toBe(`Folder not found: ${join(tmp.dir, 'not-a-folder')}`);
    expect(answers.again).toMatch(/no longer valid/);
    expect(answers.asModel).toMatch(/^Invalid request for models\.import/);
    expect(h.core.library.listRoots().map((r) => r.path)).toEqual([photosDir]);
    expect(h.calls.slice(firstCall).map((c) => `${c.channel} ${c.ok}`)).toEqual([
      'dialog.pickFolder true', 'library.addRoot false', 'library.addRoot false', 'library.addRoot false', 'models.import false',
    ]);
    // Refused on purpose; later steps count every other failed call as a bug.
    h.calls.splice(firstCall);
  });

  it('loads every thumbnail through the media route, by id', async () => {
    const srcs = await h.page.locator('img.tile__img').evaluateAll((imgs) => imgs.map((img) => img.getAttribute('src')));
    expect(srcs).toHaveLength(OK_PHOTOS);
    for (const src of srcs) expect(src).toMatch(new RegExp(`^${h.baseUrl}media/thumb/\\d+\\?size=small$`));

    const widths = await loadedThumbnailWidths();
    expect(widths.filter((w) => w > 0)).toHaveLength(OK_PHOTOS);
    expect(await h.page.getByText('Thumbnail unavailable').count()).toBe(0);
    await h.screenshot('02-library-grid');
  });

  it('marks broken files with a badge and the reason', async () => {
    const broken = h.page.locator('[role="option"][data-status="broken"]');
    expect(await broken.count()).toBe(BROKEN_PHOTOS);
    const empty = broken.filter({ hasText: 'empty.jpg' });
    const badge = empty.locator('.badge');
    expect(await badge.textContent()).toBe('Broken');
    expect(await badge.getAttribute('title')).toBe('File is empty (0 bytes).');
    expect(await empty.locator('.tile__reason').textContent()).toBe('File is empty (0 bytes).');
    for (const title of await broken.locator('.badge').evaluateAll((els) => els.map((el) => el.getAttribute('title')))) {
      expect(title?.length).toBeGreaterThan(10);
    }
    await broken.first().scrollIntoViewIfNeeded();
    await h.screenshot('03-broken-badges');
    await scrollGridToTop();
  });

  it('searches as you type: "coffee" puts the captioned coffee photo first, "paris" finds only it', async () => {
    await searchBox().pressSequentially('coffee', { delay: 40 });
    await expect.poll(() => resultCount().textContent()).toMatch(/match “coffee”$/);
    const names = await tileNames();
    expect(names.length).toBeLessThan(ALL_PHOTOS);
    expect(names[0]).toBe('coffee-gps-caption.jpg');
    for (const name of names) expect(name).toContain('coffee');
    const top = tiles().first();
    expect(await top.locator('.tile__caption').textContent()).toBe('Morning coffee in Paris');
    expect(await top.locator('mark').allTextContents()).toEqual(['coffee']);
    await loadedThumbnailWidths();
    await h.screenshot('04-search-coffee');

    await searchBox().fill('paris');
    await expect.poll(() => resultCount().textContent()).toBe('1 photo match “paris”');
    expect(await tileNames()).toEqual(['coffee-gps-caption.jpg']);
  });

  it('restores the whole library when the search box is cleared', async () => {
    await searchBox().fill('');
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
    expect(await tiles().count()).toBe(ALL_PHOTOS);
  });

  it('answers an odd query with results or a notice, never an error', async () => {
    await searchBox().fill('"unbalanced');
    await h.page.getByTestId('search-notice').waitFor();
    expect(await h.page.getByTestId('search-notice').textContent()).toMatch(/quote/i);
    await h.page.getByRole('heading', { name: 'No photos match “"unbalanced”' }).waitFor();
    expect(await h.page.getByRole('alert').count()).toBe(0);
    expect(h.calls.filter((c) => !c.ok)).toEqual([]);
    await h.screenshot('05-search-notice');
    await searchBox().fill('');
    await expect.poll(() => tiles().count()).toBe(ALL_PHOTOS);
  });

  it('shows the progress of a scan started elsewhere (e.g. the CLI)', async () => {
    const counts = { seen: 9, added: 9, changed: 0, moved: 0, unchanged: 0, missing: 0, ok: 8, unsupported: 0, broken: 1, thumbnails: 8 };
    await h.emit('scan.progress', { phase: 'indexing', done: 9, total: 40, ratePerSec: 12.4, etaSec: 2.5, current: 'real/horse.png', counts });
    const bar = h.page.getByRole('progressbar', { name: 'Indexing progress' });
    await expect.poll(() => bar.getAttribute('aria-valuenow')).toBe('9');
    expect(await bar.getAttribute('aria-valuemax')).toBe('40');
    expect(await h.page.getByTestId('scan-detail').textContent()).toBe('9 of 40 · 12 photos/s · about 3 s left');
    // The bar is drawn to scale (its width is set through CSSOM, which the CSP allows).
    const fill = async () => {
      const [outer, inner] = await Promise.all([bar.boundingBox(), bar.locator('.progress__bar').boundingBox()]);
      return inner && outer ? inner.width / outer.width : -1;
    };
    await expect.poll(fill).toBeCloseTo(9 / 40, 2);
    await h.screenshot('06-scan-progress');
    const skipped = { invalidNames: 3, invalidNameExamples: ['caf\\xe9.jpg', 'old\\xff/'] };
    await h.emit('scan.progress', { phase: 'done', done: 40, total: 40, ratePerSec: 12, etaSec: 0, current: null, counts: { ...counts, seen: 40, ...skipped } });
    await h.page.getByText('Library up to date').waitFor();
    // Names that are not UTF-8 are counted, and the tooltip lists them so they can be renamed.
    const detail = h.page.getByTestId('scan-detail');
    expect(await detail.textContent()).toBe('40 files checked: 8 ok, 1 broken · 3 skipped: names are not valid UTF-8');
    expect(await detail.getAttribute('title')).toBe('Rename these to index them:\ncaf\\xe9.jpg\nold\\xff/\n… and 1 more');
    await h.page.getByRole('button', { name: 'Dismiss scan summary' }).click();
    await h.page.getByRole('progressbar').waitFor({ state: 'detached' });
  });

  it('shows a readable error banner when a call fails, and dismisses it', async () => {
    const gone = join(tmp.dir, 'no-such-folder');
    h.setPickedFolder(gone);
    await headerAddFolder().click();
    const banner = h.page.getByRole('alert');
    await banner.waitFor();
    expect(await banner.textContent()).toBe(`Folder not found: ${gone}`);
    await h.screenshot('07-error-banner');
    await banner.getByRole('button', { name: 'Dismiss error' }).click();
    await banner.waitFor({ state: 'detached' });
    expect(await tiles().count()).toBe(ALL_PHOTOS);
  });

  it('groups the grid by month, sorts by name, and resizes tiles with the slider', async () => {
    const grid = h.page.getByRole('listbox', { name: 'Photos' });
    // Date order: the undated files first (their file dates are today), then the three with an EXIF date.
    expect(await grid.locator('.grid-header').allTextContents()).toEqual(['No date', 'March 2021', 'July 2019', 'February 2009']);
    await h.page.getByRole('combobox', { name: 'Sort by' }).selectOption('name');
    await expect.poll(() => grid.locator('.grid-header').count()).toBe(0);
    const names = await tileNames();
    expect(names.slice(0, 3)).toEqual(['animated.gif', 'astronaut-12mp.jpg', 'astronaut.heic']);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })));

    const columns = async () => new Set(await grid.getByRole('option').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().left))).size;
    const before = await columns();
    await h.page.getByRole('slider', { name: 'Tile size' }).fill('96');
    await expect.poll(columns).toBeGreaterThan(before);
    // Small tiles show the photo only, Lightroom-style; the name stays in the tile's label.
    expect(await grid.locator('.tile__name').count()).toBe(0);
    await h.page.getByRole('slider', { name: 'Tile size' }).fill('184');
    await h.page.getByRole('combobox', { name: 'Sort by' }).selectOption('taken');
    await expect.poll(() => grid.locator('.grid-header').count()).toBe(4);
  });

  it('filters by folder from the sidebar, by caption state and by date range', async () => {
    const sidebar = h.page.getByRole('navigation', { name: 'Library' });
    await sidebar.getByRole('button', { name: /^exif\s*3$/ }).click();
    await expect.poll(() => resultCount().textContent()).toBe('3 photos');
    expect((await tileNames()).every((n) => ['chelsea-rotated-90cw.jpg', 'coffee-gps-caption.jpg', 'unicode name ракета 🚀.jpg'].includes(n))).toBe(true);
    await sidebar.getByRole('button', { name: /^Failed/ }).click();
    await expect.poll(() => resultCount().textContent()).toBe(`${BROKEN_PHOTOS} photos`);
    await sidebar.getByRole('button', { name: /^All photos/ }).click();
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);

    await h.page.getByRole('button', { name: /^Filters/ }).click();
    const filters = h.page.getByRole('group', { name: 'Filters' });
    await filters.getByLabel('Taken from').fill('2019-01-01');
    await filters.getByLabel('Taken until').fill('2021-12-31');
    await expect.poll(() => resultCount().textContent()).toBe('2 photos');
    await filters.getByRole('combobox', { name: 'Show' }).selectOption('captioned');
    await expect.poll(() => tileNames()).toEqual(['coffee-gps-caption.jpg']);
    // A search inside the filters, and an empty result that says what was searched.
    await searchBox().fill('horse');
    await h.page.getByRole('heading', { name: 'No photos match “horse”' }).waitFor();
    expect(await h.page.locator('.empty-state__text').textContent()).toContain('Searched captioned · taken 2019-01-01 to 2021-12-31.');
    await searchBox().fill('');
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
    await h.page.getByRole('button', { name: /^Filters/ }).click();
  });

  it('selects with click, Ctrl+click and Shift+click', async () => {
    const options = tiles();
    await options.nth(1).click();
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(/^1 photo selected/);
    await options.nth(3).click({ modifiers: ['Control'] });
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(/^2 photos selected/);
    await options.nth(6).click({ modifiers: ['Shift'] });
    // Shift extends from the last clicked photo (3) to 6, replacing the rest.
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(/^4 photos selected/);
    expect(await options.evaluateAll((els) => els.map((e, i) => (e.getAttribute('aria-selected') === 'true' ? i : -1)).filter((i) => i >= 0))).toEqual([3, 4, 5, 6]);
    expect(await h.page.getByRole('button', { name: 'Caption 4 selected' }).isEnabled()).toBe(true);
    await h.page.getByRole('button', { name: 'Clear selection' }).click();
    await h.page.getByTestId('selection-count').waitFor({ state: 'detached' });
  });

  it('opens a photo with its EXIF facts (date, place) and the caption that came with the file', async () => {
    await tiles().filter({ hasText: 'coffee-gps-caption.jpg' }).dblclick();
    const view = h.page.getByRole('dialog', { name: 'Photo coffee-gps-caption.jpg' });
    await view.waitFor();
    const info = view.getByRole('definition');
    await expect.poll(() => info.count()).toBeGreaterThan(5);
    const facts = Object.fromEntries(
      await view.locator('.exif__row').evaluateAll((rows) => rows.map((r) => [r.querySelector('dt')?.textContent, r.querySelector('dd')?.textContent])),
    );
    expect(facts['Taken']).toMatch(/2021/);
    expect(facts['Location']).toMatch(/^\d+\.\d{5}° [NS], \d+\.\d{5}° [EW]$/);
    expect(await view.getByTestId('shown-caption').textContent()).toBe('Morning coffee in Paris');
    expect(await view.getByTestId('caption-source').textContent()).toBe('From the file');
    await view.getByRole('button', { name: '100%' }).click();
    await expect.poll(() => view.getByTestId('photo-stage').getAttribute('data-zoom')).toBe('actual');
    await h.screenshot('09-photo-view');
    await view.getByRole('button', { name: 'Close photo' }).click();
    await view.waitFor({ state: 'detached' });
  });

  it('follows the system dark mode', async () => {
    const background = () => h.page.locator('body').evaluate((body) => String(body.ownerDocument.defaultView.getComputedStyle(body.ownerDocument.documentElement).backgroundColor));
    const light = await background();
    await h.page.emulateMedia({ colorScheme: 'dark' });
    await expect.poll(background).not.toBe(light);
    await h.page.waitForTimeout(300); // let the 120 ms colour transitions settle before the picture
    await h.screenshot('08-dark-mode');
    await h.page.emulateMedia({ colorScheme: 'light' });
  });

  it('"Failed" also lists a readable photo whose captioning failed, with the reason on its badge', async () => {
    const horse = h.core.search.list({}, 'name', 0, 100).items.find((p) => p.relPath === 'real/horse.png')!;
    h.core.captioning.jobs.enqueueCaptions([horse.id], 'blip-base', '{}');
    const [job] = h.core.captioning.jobs.claim('blip-base', 1);
    h.core.captioning.jobs.fail(job!.id, 'The inference process stopped twice on this photo.');
    await h.page.reload();
    const sidebar = h.page.getByRole('navigation', { name: 'Library' });
    const failed = sidebar.getByRole('button', { name: new RegExp(`^Failed\\s*${BROKEN_PHOTOS + 1}$`) });
    await failed.click();
    await expect.poll(() => resultCount().textContent()).toBe(`${BROKEN_PHOTOS + 1} photos`);
    expect(await tileNames()).toContain('horse.png');
    const badge = tiles().filter({ hasText: 'horse.png' }).locator('[data-badge="failed"]');
    await expect.poll(() => badge.getAttribute('title')).toBe('Captioning failed: The inference process stopped twice on this photo.');
    await sidebar.getByRole('button', { name: /^All photos/ }).click();
    await expect.poll(() => resultCount().textContent()).toBe(`${ALL_PHOTOS} photos`);
  });

  it('raised no page errors, console errors or CSP violations along the way', () => {
    expect(h.pageErrors).toEqual([]);
  });
});
