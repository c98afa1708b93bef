/**
 * Keywords and dataset export in the real page against a real core: add keywords on the photo view (Enter, comma,
 * a suggestion), remove them (×, Backspace), find photos by keyword; then export the search through the export
 * dialog, with the picker stub answering a folder, and check the progress, the summary and the files on disk.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { copyFixtures, tempDir } from '../support/temp-dirs';

type PageGlobals = { __exportBarSeen?: number[] };

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;
let root: string;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-export-');
  root = copyFixtures(tmp.dir);
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
  await h.core.library.addRoot(root);
  await h.core.library.scan();
  const id = (rel: string) => h.core.photos.findByPath(join(root, rel))!.id;
  h.core.captions.add(id('real/horse.png'), 'user', 'a brown horse in a field');
  h.core.captions.add(id('real/rocket.jpg'), 'model:blip-base', 'a rocket launch');
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
const chips = () => photoView().getByRole('list', { name: 'Keywords' }).getByTestId('keyword');
const keywordInput = () => photoView().getByRole('combobox', { name: 'Add keyword' });

async function openPhoto(fileName: string): Promise<void> {
  const words = fileName.replace(/\.\w+$/, '');
  await searchBox().fill(words);
  // The search settles first, so the tile clicked is in the results the photo view walks through.
  await expect.poll(() => resultCount().textContent()).toMatch(new RegExp(`match “${words}”$`));
  await tile(fileName).dblclick();
  await photoView().waitFor();
}

async function closePhoto(): Promise<void> {
  await photoView().getByRole('button', { name: 'Close photo' }).click();
  await photoView().waitFor({ state: 'detached' });
}

describe.sequential('keywords and dataset export in Chromium, backed by a real core', () => {
  it('adds keywords with Enter and comma, removes them with × and Backspace', async () => {
    await expect.poll(() => resultCount().textContent()).toBe('22 photos');
    await openPhoto('horse.png');
    await keywordInput().fill('pony');
    await keywordInput().press('Enter');
    await expect.poll(() => chips().allTextContents()).toEqual(['pony']);
    await keywordInput().pressSequentially('meadow,');
    await expect.poll(() => chips().allTextContents()).toEqual(['meadow', 'pony']);
    await keywordInput().fill('Ёлка');
    await keywordInput().press('Enter');
    await expect.poll(() => chips().allTextContents()).toEqual(['meadow', 'pony', 'Ёлка']);
    expect(await keywordInput().inputValue()).toBe('');

    await photoView().getByRole('button', { name: 'Remove keyword meadow' }).click();
    await expect.poll(() => chips().allTextContents()).toEqual(['pony', 'Ёлка']);
    // Backspace in the empty box takes the last chip.
    await keywordInput().press('Backspace');
    await expect.poll(() => chips().allTextContents()).toEqual(['pony']);
    await h.screenshot('30-tag-editor');
    await closePhoto();
    const horse = h.core.photos.findByPath(join(root, 'real/horse.png'))!.id;
    expect(h.core.keywords.list(horse).map((k) => [k.keyword, k.source])).toEqual([['pony', 'user']]);
  });

  it('suggests keywords already in the library, and a search finds photos by keyword', async () => {
    await openPhoto('rocket.jpg');
    await keywordInput().fill('po');
    const suggestions = photoView().getByRole('listbox', { name: 'Keyword suggestions' }).getByRole('option');
    await expect.poll(() => suggestions.allTextContents()).toEqual(['pony']);
    await keywordInput().press('ArrowDown');
    expect(await suggestions.first().getAttribute('aria-selected')).toBe('true');
    await keywordInput().press('Enter');
    await expect.poll(() => chips().allTextContents()).toEqual(['pony']);
    await closePhoto();

    await searchBox().fill('pony');
    await expect.poll(() => resultCount().textContent()).toBe('2 photos match “pony”');
    expect((await grid().getByRole('option').allTextContents()).join(' ')).toMatch(/horse\.png.*rocket\.jpg|rocket\.jpg.*horse\.png/);
    expect(h.calls.filter((c) => c.channel.startsWith('keywords.') && !c.ok)).toEqual([]);
  });

  it('exports the current search from the export dialog: picker, progress, summary, files on disk', async () => {
    const dest = join(tmp.dir, 'dataset');
    mkdirSync(dest);
    await h.page.getByRole('button', { name: 'Export…' }).click();
    const dialog = h.page.getByRole('dialog', { name: 'Export dataset' });
    await dialog.waitFor();
    // With a search in place, the search is what gets exported unless the user says otherwise.
    expect(await dialog.getByRole('radio', { name: /Current search and filters \(2\)/ }).isChecked()).toBe(true);
    await dialog.getByRole('checkbox', { name: /CSV manifest/ }).check();
    expect(await dialog.getByRole('checkbox', { name: /\.txt caption files/ }).isChecked()).toBe(true);
    expect(await dialog.getByRole('radio', { name: 'Copy into the export folder' }).isChecked()).toBe(true);
    await dialog.getByRole('textbox', { name: 'Maximum side in pixels' }).fill('64');
    await h.screenshot('31-export-dialog');

    await h.page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals & {
        document: { documentElement: unknown; querySelector(s: string): { getAttribute(a: string): string | null } | null };
        MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void };
      };
      const seen: number[] = (g.__exportBarSeen = []);
      new g.MutationObserver(() => {
        const v = g.document.querySelector('[role="progressbar"][aria-label="Export progress"]')?.getAttribute('aria-valuenow');
        if (v != null && seen.at(-1) !== Number(v)) seen.push(Number(v));
      }).observe(g.document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    h.setPickedFolder(dest);
    await dialog.getByRole('button', { name: 'Choose folder and export 2 photos…' }).click();
    const summary = dialog.getByTestId('export-summary');
    await summary.waitFor({ timeout: 30_000 });
    expect(await summary.getByRole('heading').textContent()).toBe('Export finished');
    expect(await summary.textContent()).toContain(`2 photos exported to ${dest}`);
    expect(await summary.textContent()).toContain('metadata.csv');
    expect(h.pickerPurposes.at(-1)).toBe('export');
    // The progress bar was on screen while the export ran, and the core reported progress by events.
    expect((await h.page.evaluate(() => (globalThis as unknown as PageGlobals).__exportBarSeen ?? [])).length).toBeGreaterThan(0);
    expect(h.events.filter((e) => e.event === 'export.progress').map((e) => (e.payload as { phase: string }).phase)).toContain('done');
    await h.screenshot('32-export-summary');

    expect(readdirSync(dest).sort()).toEqual(['horse.png', 'horse.txt', 'metadata.csv', 'rocket.jpg', 'rocket.txt']);
    expect(readFileSync(join(dest, 'horse.txt'), 'utf8')).toBe('a brown horse in a field\n');
    expect(readFileSync(join(dest, 'metadata.csv'), 'utf8')).toMatch(/horse\.png,.*,a brown horse in a field,user,,pony,64,/);
    for (const f of ['horse.png', 'rocket.jpg']) {
      const m = await sharp(join(dest, f)).metadata();
      expect(Math.max(m.width!, m.height!)).toBe(64);
    }
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('exports the selection when photos are selected: captions and manifest only', async () => {
    await searchBox().fill('');
    await expect.poll(() => resultCount().textContent()).toBe('22 photos');
    await tile('horse.png').click();
    await tile('rocket.jpg').click({ modifiers: ['Control'] });
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(/^2 photos selected/);
    await h.page.getByRole('button', { name: 'Export…' }).click();
    const dialog = h.page.getByRole('dialog', { name: 'Export dataset' });
    expect(await dialog.getByRole('radio', { name: 'Selected (2)' }).isChecked()).toBe(true);
    await dialog.getByRole('checkbox', { name: /\.txt caption files/ }).uncheck();
    await dialog.getByRole('checkbox', { name: /JSON Lines manifest/ }).check();
    await dialog.getByRole('radio', { name: 'Captions and manifests only' }).check();
    const dest = join(tmp.dir, 'selection');
    mkdirSync(dest);
    h.setPickedFolder(dest);
    await dialog.getByRole('button', { name: 'Choose folder and export 2 photos…' }).click();
    await dialog.getByTestId('export-summary').waitFor({ timeout: 30_000 });
    expect(readdirSync(dest)).toEqual(['metadata.jsonl']);
    const rows = readFileSync(join(dest, 'metadata.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file_name: string; keywords: string[] });
    expect(rows.map((r) => [r.file_name, r.keywords]).sort()).toEqual([['horse.png', ['pony']], ['rocket.jpg', ['pony']]]);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    await h.page.getByRole('button', { name: 'Clear selection' }).click();
    await h.page.getByTestId('selection-count').waitFor({ state: 'detached' });
  });

  it('shows why an export cannot start: a folder inside the library', async () => {
    await searchBox().fill('');
    await expect.poll(() => resultCount().textContent()).toBe('22 photos');
    await h.page.getByRole('button', { name: 'Export…' }).click();
    const dialog = h.page.getByRole('dialog', { name: 'Export dataset' });
    expect(await dialog.getByRole('radio', { name: /Whole library \(22\)/ }).isChecked()).toBe(true);
    h.setPickedFolder(join(root, 'real'));
    await dialog.getByRole('button', { name: /^Choose folder and export 22 photos/ }).click();
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/inside the library folder .*Choose a folder outside your library/);
    await h.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(h.pageErrors).toEqual([]);
  });
});
