import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/main/core/core';
import type { MetadataWriteProgress } from '../../src/shared/api';
import { exiftoolReadMany } from '../support/exiftool-cli';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { tempDir } from '../support/temp-dirs';

const COUNT = 60;
let tmp: { dir: string; cleanup: () => void };
let photosDir: string;
let h: RendererHarness;
let rootId: number;
const names: string[] = [];

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-metadata-');
  photosDir = join(tmp.dir, 'photos');
  mkdirSync(photosDir);
  for (let i = 0; i < COUNT; i++) {
    const name = `shot-${String(i).padStart(2, '0')}.jpg`;
    await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 } } })
      .jpeg()
      .toFile(join(photosDir, name));
    names.push(name);
  }
  const dataDir = join(tmp.dir, 'data');
  const core = openCore({ dataDir });
  try {
    rootId = (await core.library.addRoot(photosDir)).id;
    await core.library.scan([rootId]);
    for (const r of core.db.prepare('SELECT id, file_name FROM photos').all() as { id: number; file_name: string }[]) {
      core.captions.add(r.id, 'model:blip-base', `a colour swatch called ${r.file_name}`);
    }
  } finally {
    await core.close();
  }
  h = await startRendererHarness({ dataDir, viewport: { width: 1400, height: 900 } });
}, 180_000);

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

describe.sequential('writing captions to files from the gallery', () => {
  it('the toolbar action writes every photo to a sidecar, with progress in the status area', async () => {
    const button = h.page.getByTestId('write-metadata');
    await button.waitFor();
    expect(await button.textContent()).toContain('Write captions to files');
    await button.click();
    const run = h.page.getByTestId('metadata-run');
    await run.waitFor();
    await expect.poll(() => run.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect(await h.page.getByTestId('metadata-details').textContent()).toContain(`${COUNT} of ${COUNT}`);
    expect(await h.page.getByTestId('metadata-details').textContent()).toContain(`${COUNT} written`);
    expect(await h.page.getByRole('progressbar', { name: 'Writing captions to files' }).getAttribute('aria-valuenow')).toBe(String(COUNT));
    // The page saw the run progress, not only its end.
    const states = h.events.filter((e) => e.event === 'metadata.progress').map((e) => (e.payload as MetadataWriteProgress).state);
    expect(states[0]).toBe('running');
    expect(states.at(-1)).toBe('done');
    const read = exiftoolReadMany(names.map((n) => join(photosDir, `${n}.xmp`)), ['XMP-dc:Description', 'XMP-tandem:CaptionSource']);
    for (const n of names) {
      expect(read.get(join(photosDir, `${n}.xmp`))).toMatchObject({ 'XMP-dc:Description': `a colour swatch called ${n}`, 'XMP-tandem:CaptionSource': 'model:blip-base' });
    }
    await h.screenshot('metadata-write-done');
    await run.getByRole('button', { name: 'Dismiss the write-to-files status' }).click();
    await expect.poll(() => run.count()).toBe(0);
    expect(h.pageErrors).toEqual([]);
  });

  it('a second run writes nothing: every photo is unchanged', async () => {
    await h.page.getByTestId('write-metadata').click();
    const run = h.page.getByTestId('metadata-run');
    await expect.poll(() => run.getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    expect(await h.page.getByTestId('metadata-details').textContent()).toContain('0 written');
  });

  it('the settings page holds the two write-back settings and the per-folder embed switch', async () => {
    await h.page.getByRole('button', { name: 'Settings' }).click();
    const afterEdit = h.page.getByRole('checkbox', { name: 'Write to files after each edit' });
    await afterEdit.waitFor();
    expect(await afterEdit.isChecked()).toBe(false);
    await afterEdit.check();
    await expect.poll(() => h.core.settings.get().writeMetadataAfterEdit).toBe(true);
    expect(h.core.settings.get().writeMetadataAfterCaptioning).toBe(false);
    const embed = h.page.getByRole('checkbox', { name: `Embed into photo files in ${photosDir}` });
    expect(await embed.isChecked()).toBe(false);
    await embed.check();
    await expect.poll(() => h.core.metadata.store.embedEnabled(rootId)).toBe(true);
    await h.screenshot('metadata-settings');
    // "Write after each edit" on: a caption edit through the contract reaches the photo file (embedding is on now).
    const id = (h.core.db.prepare('SELECT id FROM photos WHERE file_name = ?').get(names[0]) as { id: number }).id;
    await h.page.evaluate(
      ([photoId]) => (globalThis as unknown as { tandem: { invoke(c: string, r: unknown): Promise<unknown> } }).tandem.invoke('captions.setUser', { photoId, text: 'edited by hand' }),
      [id],
    );
    const file = join(photosDir, names[0]!);
    await expect.poll(() => exiftoolReadMany([file], ['XMP-dc:Description']).get(file)?.['XMP-dc:Description'], { timeout: 30_000 }).toBe('edited by hand');
    expect(existsSync(`${file}.xmp`)).toBe(true);
    expect(h.pageErrors).toEqual([]);
  });
});
