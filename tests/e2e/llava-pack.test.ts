/**
 * LLaVA packs in the model manager against a real core: downloaded from a fake hub on 127.0.0.1 (a tiny
 * llava-hf repo, sharded), compiled in an inference process with its progress on the card, shown installed
 * and compiled; recompiled with an int8 vision tower from the card's checkbox; then its downloaded weights deleted
 * from the card while it stays installed (the chat at the end runs the int8 vision tower).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelDownloadProgress } from '../../src/shared/api';
import { ensureTinyLlavaHf } from '../../test-models/tiny-llava-hf';
import { folderAsRepo, startHubServer, type HubServer } from '../support/hub-server';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let hub: HubServer;
let h: RendererHarness;
let previousEndpoint: string | undefined;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-llava-pack-');
  hub = await startHubServer();
  hub.addRepo('llava-hf/llava-1.5-7b-hf', await folderAsRepo(await ensureTinyLlavaHf('llava-1.5')));
  hub.addRepo('llava-hf/llava-interleave-qwen-0.5b-hf', await folderAsRepo(await ensureTinyLlavaHf('llava-interleave')));
  previousEndpoint = process.env['HF_ENDPOINT'];
  process.env['HF_ENDPOINT'] = hub.endpoint;
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await hub?.close();
  if (previousEndpoint === undefined) delete process.env['HF_ENDPOINT'];
  else process.env['HF_ENDPOINT'] = previousEndpoint;
  tmp?.cleanup();
});

const card = (name: string) => h.page.getByTestId('model-card').and(h.page.locator(`[data-model="${name}"]`));
const status = (name: string) => card(name).getByTestId('model-status').textContent();

describe.sequential('LLaVA packs in the model manager', () => {
  it('shows a compile with its stage, a progress bar and an ETA', async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Models' }).click();
    await h.page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await card('llava-1.5-13b').waitFor();
    // The tiny pack compiles in well under a second, so the card's compile view is shown with an event as
    // a 13B compile sends it (the real events of a real compile are checked in the next test).
    const compiling: ModelDownloadProgress = {
      pack: 'llava-1.5-13b', phase: 'compiling', file: '', fileIndex: 9, fileCount: 9, fileBytes: 0, fileTotal: null, packBytes: 26e9, packTotal: 26e9,
      bytesPerSecond: 0, etaSeconds: 130, error: null, compile: { stage: 'decoder', label: 'decoder layer 3/40', done: 27, total: 68 },
    };
    h.core.events.emit('models.progress', compiling);
    await expect.poll(() => status('llava-1.5-13b')).toBe('Compiling');
    const bar = card('llava-1.5-13b').getByRole('progressbar', { name: 'Compiling llava-1.5-13b' });
    expect(await bar.getAttribute('aria-valuenow')).toBe('27');
    expect(await bar.getAttribute('aria-valuemax')).toBe('68');
    expect(await card('llava-1.5-13b').getByTestId('download-detail').textContent()).toBe('Compiling — decoder layer 3/40 — ETA 2 min');
    expect(await card('llava-1.5-13b').getByRole('button', { name: 'Cancel compile of llava-1.5-13b' }).isVisible()).toBe(true);
    await card('llava-1.5-13b').scrollIntoViewIfNeeded();
    await h.screenshot('55-llava-compiling');
    h.core.events.emit('models.progress', { ...compiling, phase: 'cancelled' });
    await expect.poll(() => status('llava-1.5-13b')).toBe('Not installed');
    await card('llava-1.5-13b').getByText('Compile cancelled; the download is kept.').waitFor();
  });

  it("starts each card's int8 box at the pack's own default, and a download that leaves it so compiles that", async () => {
    const box = (name: string) => card(name).getByRole('checkbox', { name: 'Faster image reading (int8 vision, slightly less exact)' });
    expect(await box('llava-interleave-qwen-0.5b').isChecked()).toBe(true);
    expect(await box('llava-1.5-7b').isChecked()).toBe(false);
    await h.page.getByRole('button', { name: 'Download llava-interleave-qwen-0.5b' }).click();
    await expect.poll(() => status('llava-interleave-qwen-0.5b'), { timeout: 120_000 }).toBe('Installed');
    await expect.poll(() => card('llava-interleave-qwen-0.5b').getByTestId('model-compiled').textContent()).toMatch(/^q4 decoder · int8 vision · /);
    expect(h.core.models.repository.get('llava-interleave-qwen-0.5b')?.compiled?.dtypes).toEqual({ vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'q4' });
    expect(await box('llava-interleave-qwen-0.5b').isChecked()).toBe(true);
  });

  it('downloads a LLaVA pack, compiles it, and shows it installed and compiled', async () => {
    const before = h.events.length;
    await h.page.getByRole('button', { name: 'Download llava-1.5-7b' }).click();
    await expect.poll(() => status('llava-1.5-7b'), { timeout: 120_000 }).toBe('Installed');
    const progress = h.events
      .slice(before)
      .filter((e) => e.event === 'models.progress')
      .map((e) => e.payload as ModelDownloadProgress)
      .filter((p) => p.pack === 'llava-1.5-7b');
    expect(progress.some((p) => p.phase === 'downloading' && p.file === 'model-00002-of-00002.safetensors')).toBe(true);
    const compiling = progress.filter((p) => p.phase === 'compiling');
    expect(compiling.map((p) => p.compile?.label)).toContain('decoder layer 2/2');
    expect(progress.at(-1)).toMatchObject({ phase: 'done' });
    await expect.poll(() => card('llava-1.5-7b').getByTestId('model-compiled').textContent()).toMatch(/^q4 decoder · [\d.]+ (kB|MB)$/);
    expect(h.core.models.resolve('llava-1.5-7b')).toContain(join('model-cache', 'llava'));
  });

  it('recompiles with an int8 vision tower and embeddings from the card\'s checkbox', async () => {
    const c = card('llava-1.5-7b');
    expect(await c.getByRole('button', { name: 'Compile llava-1.5-7b again' }).count()).toBe(0);
    await c.getByRole('checkbox', { name: 'Faster image reading (int8 vision, slightly less exact)' }).check();
    await c.getByRole('button', { name: 'Compile llava-1.5-7b again' }).click();
    await expect.poll(() => c.getByTestId('model-compiled').textContent(), { timeout: 120_000 }).toMatch(/^q4 decoder · int8 vision · /);
    expect(h.core.models.repository.get('llava-1.5-7b')?.compiled?.dtypes).toEqual({ vision_encoder: 'int8', embed_tokens: 'int8', decoder_model_merged: 'q4' });
    await expect.poll(() => c.getByRole('button', { name: 'Compile llava-1.5-7b again' }).count()).toBe(0);
    expect(await status('llava-1.5-7b')).toBe('Installed');
  });

  it('deletes the downloaded weights from the card and stays installed', async () => {
    await h.page.getByRole('button', { name: 'Delete the downloaded weights of llava-1.5-7b' }).click();
    await expect.poll(() => card('llava-1.5-7b').getByTestId('model-compiled').textContent()).toContain('sources deleted');
    expect(await status('llava-1.5-7b')).toBe('Installed');
    expect(await card('llava-1.5-7b').getByRole('button', { name: 'Delete the downloaded weights of llava-1.5-7b' }).count()).toBe(0);
    await card('llava-1.5-7b').scrollIntoViewIfNeeded();
    await h.screenshot('56-llava-compiled');
  });

  it('imports a llava-hf folder through the folder picker and compiles it', async () => {
    const before = h.events.length;
    h.setPickedFolder(await ensureTinyLlavaHf('llava-1.5'));
    await h.page.getByRole('button', { name: 'Import folder…' }).click();
    const name = 'tiny-llava-1.5-hf-v1';
    await expect.poll(() => status(name), { timeout: 120_000 }).toBe('Installed');
    await expect.poll(() => card(name).getByTestId('model-compiled').textContent()).toMatch(/^q4 decoder · /);
    const progress = h.events.slice(before).filter((e) => e.event === 'models.progress').map((e) => e.payload as ModelDownloadProgress);
    expect(progress.some((p) => p.pack === name && p.phase === 'compiling')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ pack: name, phase: 'done' });
  });

  it('chats about a photo with the compiled pack, its weights deleted', async () => {
    const photos = join(tmp.dir, 'photos');
    mkdirSync(photos);
    await sharp({ create: { width: 96, height: 64, channels: 3, background: '#d01818' } }).jpeg().toFile(join(photos, 'red-wall.jpg'));
    const root = await h.core.library.addRoot(photos);
    await h.core.library.scan();
    h.core.settings.set({ chatBackend: 'embedded', chatModel: 'llava-1.5-7b', temperature: 0, maxNewTokens: 8, threads: 1 });
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Library' }).click();
    const grid = h.page.getByRole('listbox', { name: 'Photos' });
    await grid.getByRole('option', { name: 'red-wall.jpg' }).dblclick();
    const photoView = h.page.getByRole('dialog', { name: /^Photo / });
    await photoView.getByRole('tab', { name: 'Chat' }).click();
    const chat = photoView.getByTestId('chat-panel');
    await chat.getByRole('textbox', { name: 'Message' }).fill('Tell a story about this photo');
    await chat.getByRole('button', { name: 'Send' }).click();
    const answer = chat.getByTestId('assistant-message').last();
    await expect.poll(() => answer.getAttribute('class'), { timeout: 120_000 }).not.toContain('bubble--streaming');
    expect(await answer.getAttribute('data-route')).toBe('llava');
    expect(await answer.getByTestId('answered-by').textContent()).toBe('LLaVA · llava-1.5-7b');
    const photo = h.core.photos.rowsForRoot(root.id)[0]!;
    const stored = h.core.chat.list(photo.id);
    const last = stored.at(-1)!.messages.at(-1)!;
    expect(last).toMatchObject({ role: 'assistant', error: null, model: 'model:llava-1.5-7b' });
    expect(last.tokens).toBeGreaterThan(0);
  });
});
