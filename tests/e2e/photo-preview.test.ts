/**
 * Large previews are made on first view, not by the indexer (issue 14), and the photo view never shows a
 * blank while one is made: the grid's small thumbnail shows first, the preview swaps in when it arrives.
 * Originals are held back by a route so the stage stays on its previews for the whole test.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbPath } from '../../src/main/core/library/thumbnails';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { copyFixtures, tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-preview-');
  const root = copyFixtures(tmp.dir);
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
  await h.core.library.addRoot(root);
  await h.core.library.scan();
});

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const photoView = () => h.page.getByRole('dialog', { name: /^Photo / });

function renditions(suffix: string): string[] {
  const dir = h.core.paths.thumbsDir;
  return readdirSync(dir).flatMap((shard) => readdirSync(join(dir, shard)).filter((f) => f.endsWith(suffix)));
}

describe('photo view previews', () => {
  it('indexing writes the small thumbnails only', () => {
    expect(renditions('-s.webp').length).toBeGreaterThan(10);
    expect(renditions('-l.webp')).toEqual([]);
  });

  it('shows the small thumbnail first, then the large preview made on first view', async () => {
    await h.page.route('**/media/photo/**', () => undefined); // never answered: the original "is loading"
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const asked: number[] = [];
    await h.page.route(/\/media\/thumb\/\d+\?size=large$/, async (route) => {
      asked.push(Number(/thumb\/(\d+)/.exec(route.request().url())![1]));
      await gate;
      await route.continue();
    });

    await expect.poll(() => h.page.getByTestId('result-count').textContent()).toMatch(/^\d+ photos$/);
    await h.page.getByRole('searchbox', { name: 'Search photos' }).fill('coffee'); // the caption photo first, three file-name matches after it
    await h.page.getByRole('listbox', { name: 'Photos' }).getByRole('option', { name: /^coffee-gps-caption\.jpg/ }).dblclick();
    await photoView().waitFor();
    const stage = photoView().getByTestId('photo-stage');
    const thumb = stage.getByTestId('photo-stage-thumb');
    const preview = stage.getByTestId('photo-stage-preview');
    // The small thumbnail is drawn (decoded, not only requested) while the preview is still being asked for.
    await expect.poll(() => thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    expect(await preview.getAttribute('data-loaded')).toBe('false');
    const id = Number(/thumb\/(\d+)/.exec((await preview.getAttribute('src'))!)![1]);
    const hash = h.core.photos.row(id).hash;
    const largeFile = thumbPath(h.core.paths.thumbsDir, hash, 'large');
    expect(existsSync(largeFile)).toBe(false);
    await h.screenshot('photo-preview-1-small-thumb');

    release();
    await expect.poll(() => preview.getAttribute('data-loaded')).toBe('true');
    expect(await thumb.count()).toBe(0);
    expect(existsSync(largeFile)).toBe(true);
    const natural = await preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(natural).toBeGreaterThan(320); // the large rendition, not the thumbnail again
    await h.screenshot('photo-preview-2-large');

    // The neighbours' previews were asked for too (prefetch), and made.
    await expect.poll(() => asked.filter((x) => x !== id).length).toBeGreaterThan(0);
    await expect.poll(() => renditions('-l.webp').length).toBeGreaterThan(1);
    await h.page.unrouteAll({ behavior: 'ignoreErrors' });
  });
});
