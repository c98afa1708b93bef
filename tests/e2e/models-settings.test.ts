/**
 * The model manager and settings against a real core: model packs downloaded from a fake Hugging Face hub on
 * 127.0.0.1 (with progress, and a stalled download cancelled), a folder imported through the folder picker,
 * roles assigned, a pack removed, the LLaVA engine tested against a fake Ollama; then settings saved and the
 * theme switched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { startEngineServer, refusedUrl, type EngineServer } from '../support/engine-server';
import { fakeBlipRepo, startHubServer, type HubServer } from '../support/hub-server';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let hub: HubServer;
let engine: EngineServer;
let h: RendererHarness;
let colourDir: string;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-models-');
  hub = await startHubServer();
  hub.addRepo('Salesforce/blip-image-captioning-base', fakeBlipRepo({ weights: 'pytorch_model.bin', weightBytes: 3 * 1024 * 1024, seed: 'base' }));
  hub.addRepo('Salesforce/blip-image-captioning-large', fakeBlipRepo({ weights: 'model.safetensors', weightBytes: 4 * 1024 * 1024, seed: 'large' }));
  // blip-large's weights stop after 1 MB and never finish: the download can only end by Cancel.
  hub.fault('Salesforce/blip-image-captioning-large', 'model.safetensors', { kind: 'stall', afterBytes: 1024 * 1024 });
  engine = await startEngineServer();
  colourDir = await ensureTestModel('colour');
  // The core reads the hub endpoint from the environment, as `HF_ENDPOINT` works for huggingface_hub.
  process.env['HF_ENDPOINT'] = hub.endpoint;
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
});

afterAll(async () => {
  await h?.close();
  await hub?.close();
  await engine?.close();
  tmp?.cleanup();
});

const card = (name: string) => h.page.getByTestId('model-card').and(h.page.locator(`[data-model="${name}"]`));
const status = (name: string) => card(name).getByTestId('model-status').textContent();

describe.sequential('model manager and settings', () => {
  it('lists the known packs with their download sizes and source repos', async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Models' }).click();
    await h.page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
    await expect.poll(() => h.page.getByTestId('model-card').count()).toBe(7); // BLIP base, large, VQA, ITM (retrieval) and three LLaVA packs
    expect(await status('blip-base')).toBe('Not installed');
    expect(await card('blip-base').getByTestId('model-size').textContent()).toMatch(/^about \d+(\.\d)? (MB|GB)$/);
    expect(await card('blip-base').locator('.model-card__repo').textContent()).toBe('Salesforce/blip-image-captioning-base @ main');
    expect(await card('llava-interleave-qwen-0.5b').textContent()).toContain('Chat · LLaVA');
  });

  it('downloads a pack with a progress bar, and shows it installed with its size on disk', async () => {
    await h.page.getByRole('button', { name: 'Download blip-base' }).click();
    await expect.poll(() => status('blip-base'), { timeout: 60_000 }).toBe('Installed');
    const progress = h.events.filter((e) => e.event === 'models.progress').map((e) => e.payload as { pack: string; phase: string; packBytes: number });
    expect(progress.some((p) => p.pack === 'blip-base' && p.phase === 'downloading')).toBe(true);
    expect(progress.at(-1)).toMatchObject({ pack: 'blip-base', phase: 'done' });
    expect(await card('blip-base').getByTestId('model-size').textContent()).toMatch(/^3(\.\d)? MB$/);
    expect(await card('blip-base').textContent()).toContain('Used for');
  });

  it('shows a running download with its progress, and cancels it', async () => {
    await h.page.getByRole('button', { name: 'Download blip-large' }).click();
    const bar = h.page.getByRole('progressbar', { name: 'Downloading blip-large' });
    await bar.waitFor();
    // The bar follows the bytes: up to the 1 MB the fake hub sends before it stalls.
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThanOrEqual(1024 * 1024);
    expect(Number(await bar.getAttribute('aria-valuemax'))).toBeGreaterThan(4 * 1024 * 1024);
    expect(await card('blip-large').getByTestId('download-detail').textContent()).toMatch(/^1(\.\d)? MB of 4(\.\d)? MB · file \d+ of \d+/);
    await h.screenshot('50-model-manager');
    await h.page.getByRole('button', { name: 'Cancel download of blip-large' }).click();
    await expect.poll(() => status('blip-large'), { timeout: 30_000 }).toBe('Not installed');
    await card('blip-large').getByText('Download cancelled.').waitFor();
    // What was fetched is kept, and the next attempt resumes from it.
    await expect.poll(() => card('blip-large').getByRole('button', { name: 'Download blip-large' }).textContent()).toContain('Resume download');
  });

  it('imports a model folder through the folder picker and uses it for captions', async () => {
    h.setPickedFolder(colourDir);
    await h.page.getByRole('button', { name: 'Import folder…' }).click();
    const name = 'colour-v1';
    await expect.poll(() => status(name), { timeout: 30_000 }).toBe('Installed');
    expect(await card(name).locator('.model-card__repo').textContent()).toBe('Imported folder');
    // The picker ran on the host's side for a model folder; the import spent the grant it gave the page.
    expect(h.pickerPurposes.at(-1)).toBe('model');
    const captions = h.page.getByRole('combobox', { name: 'Captions' });
    await captions.selectOption(name);
    await expect.poll(() => h.core.settings.get().captionModel).toBe(name);
    expect(await card(name).textContent()).toContain('Used for');
  });

  it('removes a pack after confirmation', async () => {
    await h.page.getByRole('combobox', { name: 'Captions' }).selectOption('blip-base');
    await expect.poll(() => h.core.settings.get().captionModel).toBe('blip-base');
    await h.page.getByRole('button', { name: 'Remove colour-v1' }).click();
    await h.page.getByRole('group', { name: 'Remove colour-v1?' }).getByRole('button', { name: 'Remove' }).click();
    await expect.poll(() => card('colour-v1').count(), { timeout: 30_000 }).toBe(0);
    expect((await h.core.models.list()).some((m) => m.name === 'colour-v1')).toBe(false);
  });

  it('tests the connection to an engine the user runs (Ollama), with a readable answer either way', async () => {
    await h.page.getByRole('combobox', { name: 'Chat runs on' }).selectOption('ollama');
    await expect.poll(() => h.core.settings.get().chatBackend).toBe('ollama');
    const url = h.page.getByRole('textbox', { name: 'Server URL' });
    expect(await url.inputValue()).toBe('http://127.0.0.1:11434');
    await url.fill(engine.baseUrl);
    await url.blur();
    await expect.poll(() => h.core.settings.get().engineBaseUrl).toBe(engine.baseUrl);
    await h.page.getByRole('button', { name: 'Test connection' }).click();
    const result = h.page.getByTestId('backend-test');
    await expect.poll(() => result.getAttribute('class'), { timeout: 30_000 }).toContain('engine__result--ok');
    expect((await result.textContent())!.length).toBeGreaterThan(5);

    await url.fill(await refusedUrl());
    await url.blur();
    await h.page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => result.getAttribute('class'), { timeout: 30_000 }).toContain('engine__result--bad');
    const message = (await result.textContent()) ?? '';
    expect(message).not.toMatch(/\n\s+at |Error:/);
    expect(message.length).toBeGreaterThan(10);
    await h.screenshot('51-model-manager-engine');
  });

  it('says when photos would leave this computer, and refuses an address that is not http(s) with a visible error', async () => {
    const url = h.page.getByRole('textbox', { name: 'Server URL' });
    const remote = h.page.getByTestId('engine-remote');
    await url.fill('http://192.168.1.20:11434');
    await expect.poll(() => remote.textContent()).toContain('photos will be sent to 192.168.1.20:11434');
    await url.blur();
    await expect.poll(() => h.core.settings.get().engineBaseUrl).toBe('http://192.168.1.20:11434');
    await h.screenshot('53-engine-remote-host');
    // Loopback in any spelling is this computer: no notice.
    await url.fill('http://[::1]:11434');
    await expect.poll(() => remote.count()).toBe(0);

    await url.fill('file:///etc/passwd');
    await url.blur();
    const problem = h.page.getByRole('alert').filter({ hasText: 'must start with http:// or https://' });
    await problem.waitFor();
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    expect(h.core.settings.get().engineBaseUrl).toBe('http://192.168.1.20:11434');
    await h.page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => h.page.getByTestId('backend-test').getAttribute('class')).toContain('engine__result--bad');
    expect(await h.page.getByTestId('backend-test').textContent()).toContain('http:// or https://');
    // The core refuses it as well when the page is bypassed.
    const direct = await h.page.evaluate(async () => {
      const api = (globalThis as unknown as { tandem: { invoke(channel: string, request: unknown): Promise<unknown> } }).tandem;
      try {
        await api.invoke('settings.set', { engineBaseUrl: 'file:///etc/passwd' });
        return 'saved';
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    });
    expect(direct).toMatch(/http:\/\/ or https:\/\//);
    expect(h.core.settings.get().engineBaseUrl).toBe('http://192.168.1.20:11434');

    await url.fill(engine.baseUrl);
    await url.blur();
    await expect.poll(() => h.core.settings.get().engineBaseUrl).toBe(engine.baseUrl);
    expect(await problem.count()).toBe(0);
  });

  it('saves settings as they change, refuses values out of range, and switches the theme', async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const threads = h.page.getByRole('spinbutton', { name: 'Threads' });
    await threads.fill('3');
    await threads.press('Enter');
    await expect.poll(() => h.core.settings.get().threads).toBe(3);
    await threads.fill('0');
    await threads.blur();
    await h.page.getByText('Use a whole number from 1 to 64.').waitFor();
    expect(await threads.inputValue()).toBe('3');
    expect(h.core.settings.get().threads).toBe(3);

    const beams = h.page.getByRole('spinbutton', { name: 'Beams' });
    await beams.fill('4');
    await beams.blur();
    await expect.poll(() => h.core.settings.get().caption.numBeams).toBe(4);

    const background = () => h.page.locator('body').evaluate((b) => String(b.ownerDocument.defaultView!.getComputedStyle(b.ownerDocument.documentElement).backgroundColor));
    const light = await background();
    await h.page.getByRole('radio', { name: 'Dark' }).check();
    await expect.poll(() => h.core.settings.get().theme).toBe('dark');
    await expect.poll(() => h.page.locator('html').getAttribute('data-theme')).toBe('dark');
    await expect.poll(background).not.toBe(light);
    await h.page.waitForTimeout(200);
    await h.screenshot('52-settings-dark');
    // The choice is the core's: it survives a reload.
    await h.page.reload();
    await expect.poll(() => h.page.locator('html').getAttribute('data-theme')).toBe('dark');
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    await h.page.getByRole('radio', { name: 'Same as the system' }).check();
    await expect.poll(() => h.page.locator('html').getAttribute('data-theme')).toBeNull();
  });

  it('lets the user choose the caption precision: fp32 by default, int8 on request, kept across a reload', async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const precision = h.page.getByRole('combobox', { name: 'Caption precision' });
    expect(h.core.settings.get().captionPrecision).toBe('fp32');
    expect(await precision.inputValue()).toBe('fp32');
    expect(await precision.locator('option').allTextContents()).toEqual(['Exact (fp32)', 'Fast (int8)']);
    // Eight photos per batch by default: the measured fastest (see DEFAULT_CAPTION_BATCH_SIZE).
    expect(await h.page.getByRole('spinbutton', { name: 'Batch size' }).inputValue()).toBe('8');
    await h.page.getByText('Fast: about 2.1× faster on CPUs; its captions can differ from the reference in a few words.').waitFor();
    await precision.selectOption('int8');
    await expect.poll(() => h.core.settings.get().captionPrecision).toBe('int8');
    await h.page.reload();
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    expect(await h.page.getByRole('combobox', { name: 'Caption precision' }).inputValue()).toBe('int8');
    await h.page.getByRole('combobox', { name: 'Caption precision' }).selectOption('fp32');
    await expect.poll(() => h.core.settings.get().captionPrecision).toBe('fp32');
  });

  it("lets the user choose whether LLaVA's vision model stays loaded between photos: automatic by default, kept across a reload", async () => {
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    const select = () => h.page.getByRole('combobox', { name: 'Vision model between photos' });
    expect(h.core.settings.get().chatVisionResidency).toBe('auto');
    expect(await select().inputValue()).toBe('auto');
    await h.page.getByText('Kept loaded, a chat on a new photo starts about a second sooner').waitFor();
    await select().selectOption({ label: 'Keep loaded' });
    await expect.poll(() => h.core.settings.get().chatVisionResidency).toBe('resident');
    await h.page.reload();
    await h.page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Settings' }).click();
    expect(await select().inputValue()).toBe('resident');
    await select().selectOption({ label: 'Load for each new photo' });
    await expect.poll(() => h.core.settings.get().chatVisionResidency).toBe('on-demand');
    await select().selectOption({ label: 'Automatic (per model)' });
    await expect.poll(() => h.core.settings.get().chatVisionResidency).toBe('auto');
  });

  it('raised no page errors', () => {
    expect(h.pageErrors).toEqual([]);
  });
});
