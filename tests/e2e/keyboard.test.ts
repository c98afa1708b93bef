/**
 * A keyboard-only walk through the library: search box → grid → cursor and selection → Space preview →
 * open a photo → next/previous → edit its caption → every control reachable, named and visibly focused → back.
 * No mouse event is sent in this file.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { copyFixtures, tempDir } from '../support/temp-dirs';

const ALL_PHOTOS = 22;

type Focused = { tag: string; role: string | null; name: string; visibleFocus: boolean; inDialog: boolean };

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-keys-');
  const root = copyFixtures(tmp.dir);
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
  await h.core.library.addRoot(root);
  await h.core.library.scan();
});

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const grid = () => h.page.getByRole('listbox', { name: 'Photos' });
const photoView = () => h.page.getByRole('dialog', { name: /^Photo / });
const press = (key: string) => h.page.keyboard.press(key);

/** What has focus: its accessible name (as labelled for screen readers) and whether the focus ring shows. */
function focused(): Promise<Focused> {
  return h.page.evaluate(() => {
    type El = {
      tagName: string;
      getAttribute(n: string): string | null;
      labels?: { textContent: string | null }[] | null;
      textContent: string | null;
      closest(s: string): unknown;
      ownerDocument: { defaultView: { getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string; boxShadow: string } }; getElementById(id: string): { textContent: string | null } | null };
    };
    const el = (globalThis as unknown as { document: { activeElement: El } }).document.activeElement;
    const labelledBy = el.getAttribute('aria-labelledby');
    const name = (
      el.getAttribute('aria-label') ??
      (labelledBy ? el.ownerDocument.getElementById(labelledBy)?.textContent : null) ??
      el.labels?.[0]?.textContent ??
      el.textContent ??
      ''
    ).trim();
    const style = el.ownerDocument.defaultView.getComputedStyle(el);
    const visibleFocus = (style.outlineStyle !== 'none' && style.outlineWidth !== '0px') || style.boxShadow !== 'none';
    return { tag: el.tagName.toLowerCase(), role: el.getAttribute('role'), name, visibleFocus, inDialog: el.closest('[role="dialog"]') !== null };
  });
}

const activeOption = async () => {
  const id = await grid().getAttribute('aria-activedescendant');
  return id ? h.page.locator(`[id="${id}"]`) : null;
};
const activeName = async () => (await (await activeOption())?.locator('.tile__name').textContent()) ?? null;

describe.sequential('keyboard-only walk-through', () => {
  it('goes from the search box to the grid and moves the cursor, selecting as it goes', async () => {
    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toBe(`${ALL_PHOTOS} photos`);
    await press('/');
    expect(await focused()).toMatchObject({ tag: 'input', name: 'Search photos' });
    await press('Enter');
    await expect.poll(() => focused()).toMatchObject({ role: 'listbox', name: 'Photos', visibleFocus: true });

    await press('ArrowRight'); // the first key lands on the first photo
    await press('ArrowRight');
    await press('ArrowRight');
    const third = await grid().getByRole('option').nth(2).getAttribute('id');
    expect(await grid().getAttribute('aria-activedescendant')).toBe(third);
    expect(await h.page.locator(`[id="${third}"]`).getAttribute('aria-selected')).toBe('true');
    await press('ArrowDown');
    await press('ArrowUp');
    expect(await grid().getAttribute('aria-activedescendant')).toBe(third);

    await press('Shift+ArrowRight');
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(/^2 photos selected/);
    expect(await grid().locator('[aria-selected="true"]').count()).toBe(2);
    await press('Escape');
    await h.page.getByTestId('selection-count').waitFor({ state: 'detached' });

    // Ctrl+A selects every photo in the view (not only the tiles in the DOM); Escape clears it.
    await press('Control+a');
    await expect.poll(() => h.page.getByTestId('selection-count').textContent()).toMatch(new RegExp(`^${ALL_PHOTOS} photos selected`));
    expect(await h.page.getByRole('button', { name: `Caption ${ALL_PHOTOS} selected` }).count()).toBe(1);
    await press('Escape');
    await h.page.getByTestId('selection-count').waitFor({ state: 'detached' });
  });

  it('previews with Space, following the cursor, and closes the preview with Space', async () => {
    const name = await activeName();
    await press(' ');
    const preview = h.page.getByTestId('quick-preview');
    await preview.waitFor();
    expect(await preview.getAttribute('aria-label')).toBe(`Preview of ${name}`);
    await press('ArrowRight');
    const next = await activeName();
    expect(next).not.toBe(name);
    await expect.poll(() => preview.getAttribute('aria-label')).toBe(`Preview of ${next}`);
    await press(' ');
    await preview.waitFor({ state: 'detached' });
    expect((await focused()).role).toBe('listbox');
  });

  let opened = '';

  it('opens the photo with Enter and moves to the next and previous photo with the arrows', async () => {
    opened = (await activeName())!;
    await press('Enter');
    await photoView().waitFor();
    expect(await photoView().getAttribute('aria-label')).toBe(`Photo ${opened}`);
    const position = async () => photoView().getByTestId('photo-position').textContent();
    const start = await position();
    expect(start).toMatch(new RegExp(`^\\d+ of ${ALL_PHOTOS}$`));
    await press('ArrowRight');
    await expect.poll(() => photoView().getAttribute('aria-label')).not.toBe(`Photo ${opened}`);
    expect(Number((await position())!.split(' ')[0])).toBe(Number(start!.split(' ')[0]) + 1);
    await press('ArrowLeft');
    await expect.poll(() => photoView().getAttribute('aria-label')).toBe(`Photo ${opened}`);
    expect(await position()).toBe(start);

    await press('z');
    await expect.poll(() => photoView().getByTestId('photo-stage').getAttribute('data-zoom')).toBe('actual');
    await press('z');
    await expect.poll(() => photoView().getByTestId('photo-stage').getAttribute('data-zoom')).toBe('fit');
  });

  it('edits the caption from the keyboard: E, type, Enter', async () => {
    await press('e');
    await expect.poll(() => focused()).toMatchObject({ tag: 'input', name: 'Caption' });
    await h.page.keyboard.type('Typed without a mouse');
    await press('Enter');
    await expect.poll(() => photoView().getByTestId('shown-caption').textContent()).toBe('Typed without a mouse');
    // Focus is back on the control that started the edit.
    await expect.poll(() => focused()).toMatchObject({ name: 'Edit caption' });
  });

  it('reaches every control of the photo view with Tab; each is named and shows its focus', async () => {
    const seen: Focused[] = [await focused()]; // the Edit caption button, where the last step left focus
    for (let i = 0; i < 30; i++) {
      await press('Tab');
      const f = await focused();
      if (!f.inDialog) break; // past the dialog: on to the status bar
      seen.push(f);
    }
    const names = seen.map((f) => f.name);
    for (const wanted of ['Edit caption', 'Details', 'Regenerate with…', 'Quick question']) {
      expect(names.some((n) => n.startsWith(wanted)), `${wanted} in ${names.join(' | ')}`).toBe(true);
    }
    for (const f of seen) {
      expect(f.name, JSON.stringify(f)).not.toBe('');
      expect(f.visibleFocus, JSON.stringify(f)).toBe(true);
    }
    // Before the caption bar: close, previous, next, fit, 100% (reached by Shift+Tab from the editor).
    await photoView().getByRole('button', { name: 'Edit caption' }).focus();
    const back: string[] = [];
    for (let i = 0; i < 6; i++) {
      await press('Shift+Tab');
      back.push((await focused()).name);
    }
    expect(back).toEqual(expect.arrayContaining(['100%', 'Fit', 'Next photo', 'Previous photo', 'Close photo']));
  });

  it('closes with Escape and lands on the same photo in the grid, with its new caption', async () => {
    await photoView().getByRole('button', { name: 'Edit caption' }).focus();
    await press('Escape');
    await photoView().waitFor({ state: 'detached' });
    await expect.poll(() => focused()).toMatchObject({ role: 'listbox', name: 'Photos' });
    expect(await activeName()).toBe(opened);
    expect(await (await activeOption())!.locator('.tile__caption').textContent()).toBe('Typed without a mouse');
    await h.screenshot('20-keyboard-grid-focus');
  });

  it('raised no page errors', () => {
    expect(h.pageErrors).toEqual([]);
  });
});
