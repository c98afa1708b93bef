/**
 * The chat panel beside a photo, against the real chat service: a factual question routed to BLIP VQA (the
 * hand-set colour model answers the photo's colour), open ones to the tiny LLaVA running in its own process.
 * Tokens stream into the page, Stop ends an answer, every answer says which model wrote it, messages can be
 * copied, and the conversations are still there after a reload.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { ensureTinyLlava, writeTinyLlava } from '../../test-models/tiny-llava';
import { startRendererHarness, type RendererHarness } from '../support/renderer-harness';
import { tempDir } from '../support/temp-dirs';

type PageGlobals = { __streamLengths?: number[] };

let tmp: { dir: string; cleanup: () => void };
let h: RendererHarness;

beforeAll(async () => {
  tmp = tempDir('tandem-e2e-chat-');
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  await sharp({ create: { width: 96, height: 64, channels: 3, background: '#d01818' } }).jpeg().toFile(join(photos, 'red-wall.jpg'));
  await sharp({ create: { width: 96, height: 64, channels: 3, background: '#1830d0' } }).jpeg().toFile(join(photos, 'blue-sea.jpg'));
  h = await startRendererHarness({ dataDir: join(tmp.dir, 'data') });
  await h.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await h.core.models.import(await ensureTestModel('colour-vqa'), { name: 'blip-vqa-base' });
  await h.core.models.import(await ensureTinyLlava(), { name: 'tiny-llava' });
  h.core.settings.set({ chatBackend: 'embedded', chatModel: 'tiny-llava', temperature: 0, maxNewTokens: 12, threads: 1 });
  await h.core.library.addRoot(photos);
  await h.core.library.scan();
});

afterAll(async () => {
  await h?.close();
  tmp?.cleanup();
});

const grid = () => h.page.getByRole('listbox', { name: 'Photos' });
const photoView = () => h.page.getByRole('dialog', { name: /^Photo / });
const chat = () => photoView().getByTestId('chat-panel');
const answers = () => chat().getByTestId('assistant-message');
const message = () => chat().getByRole('textbox', { name: 'Message' });

async function openChatOn(fileName: string): Promise<void> {
  await grid().getByRole('option', { name: fileName }).dblclick();
  await photoView().waitFor();
  await photoView().getByRole('tab', { name: 'Chat' }).click();
  await chat().waitFor();
}

/** Records the length of the streaming answer each time it changes, to see tokens arrive one by one. */
async function watchStreaming(): Promise<void> {
  await h.page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals & {
      document: { querySelector(s: string): { textContent: string | null } | null; body: unknown };
      MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void };
    };
    const lengths: number[] = (g.__streamLengths = []);
    new g.MutationObserver(() => {
      const el = g.document.querySelector('.bubble--streaming .bubble__text');
      const n = el?.textContent?.length ?? -1;
      if (n >= 0 && lengths.at(-1) !== n) lengths.push(n);
    }).observe(g.document.body, { subtree: true, childList: true, characterData: true });
  });
}

describe.sequential('chat beside the photo, against the real chat service and tiny models', () => {
  it('routes a factual question to BLIP VQA and says so on the answer', async () => {
    await openChatOn('red-wall.jpg');
    await message().fill('What colour is the wall?');
    await message().press('Enter');
    await expect.poll(() => answers().count(), { timeout: 60_000 }).toBe(1);
    const first = answers().first();
    await expect.poll(() => first.getAttribute('class'), { timeout: 60_000 }).not.toContain('bubble--streaming');
    expect(await first.getAttribute('data-route')).toBe('blip');
    expect(await first.getByTestId('answered-by').textContent()).toBe('BLIP VQA · blip-vqa-base');
    expect(await first.getByTestId('message-text').textContent()).toBe('red');
  });

  it('routes an open question to LLaVA, streaming the answer token by token', async () => {
    await watchStreaming();
    h.paceEvents('chat.token', 40);
    const tokensBefore = h.events.filter((e) => e.event === 'chat.token').length;
    await message().fill('Tell a story about this photo');
    await chat().getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => answers().count()).toBe(2);
    const second = answers().nth(1);
    await expect.poll(() => second.getAttribute('class'), { timeout: 120_000 }).not.toContain('bubble--streaming');
    expect(await second.getAttribute('data-route')).toBe('llava');
    expect(await second.getByTestId('answered-by').textContent()).toBe('LLaVA · tiny-llava');
    const text = (await second.getByTestId('message-text').textContent()) ?? '';
    expect(text.length).toBeGreaterThan(0);
    const streamed = h.events.filter((e) => e.event === 'chat.token').length - tokensBefore;
    expect(streamed).toBeGreaterThan(3);
    // The page drew the answer growing, not all at once.
    const lengths = await h.page.evaluate(() => (globalThis as unknown as PageGlobals).__streamLengths ?? []);
    expect(lengths.filter((n) => n > 0).length).toBeGreaterThan(2);
    h.paceEvents(null, 0);
    expect(await second.locator('.bubble__facts').textContent()).toMatch(/tokens/);
  });

  it('stops an answer with the Stop button', async () => {
    // A long answer is asked for; the tiny model writes thousands of tokens a second and its 384-token context
    // would end the answer within a tenth of one, faster than a test can poll. So this answer comes from a copy
    // with a long context, and the page presses Stop the moment the first words show, as a quick user would.
    const longDir = join(tmp.dir, 'tiny-llava-long');
    await writeTinyLlava(longDir, { maxPositionEmbeddings: 16_384 });
    await h.core.models.import(longDir, { name: 'tiny-llava-long' });
    h.core.settings.set({ maxNewTokens: 4096, chatModel: 'tiny-llava-long' });
    await h.page.evaluate(() => {
      const g = globalThis as unknown as {
        document: { querySelector(s: string): { textContent: string | null; click(): void; disabled?: boolean } | null; body: unknown };
        MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void };
      };
      const watcher = new g.MutationObserver(() => {
        const words = g.document.querySelector('.bubble--streaming .bubble__text')?.textContent ?? '';
        const stop = g.document.querySelector('.chat__composer .button--danger');
        if (words.length > 0 && stop && !stop.disabled) {
          watcher.disconnect();
          stop.click();
        }
      });
      watcher.observe(g.document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await message().fill('Describe this photo in detail');
    await message().press('Enter');
    await expect.poll(() => h.calls.filter((c) => c.channel === 'chat.stop'), { timeout: 60_000 }).toEqual([{ channel: 'chat.stop', ok: true }]);
    const third = answers().nth(2);
    await expect.poll(() => third.locator('.bubble__stopped').count(), { timeout: 20_000 }).toBe(1);
    expect(await chat().getByRole('button', { name: 'Send' }).count()).toBe(1);
    expect(await third.getAttribute('data-route')).toBe('llava');
    // Stored as stopped, with the words written so far.
    const photoId = Number(await photoView().getAttribute('data-photo-id'));
    const stored = h.core.chat.list(photoId)[0]!.messages.at(-1)!;
    expect(stored).toMatchObject({ role: 'assistant', stopped: true, route: 'llava' });
    expect(stored.tokens!).toBeLessThan(4096);
    expect(await third.getByTestId('message-text').textContent()).toBe(stored.text);
  });

  it('copies an answer to the clipboard', async () => {
    h.core.settings.set({ chatModel: 'tiny-llava' });
    const first = answers().first();
    await first.hover();
    await first.getByRole('button', { name: 'Copy message' }).click();
    await expect.poll(() => h.page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText())).toBe('red');
    await first.getByRole('button', { name: 'Copied' }).waitFor();
  });

  it('forces a route with the selector: an open question sent to BLIP is answered by BLIP', async () => {
    h.core.settings.set({ maxNewTokens: 12 });
    await chat().getByRole('radio', { name: 'BLIP' }).check();
    await message().fill('Why is this wall so bright?');
    await message().press('Enter');
    await expect.poll(() => answers().count(), { timeout: 60_000 }).toBe(4);
    await expect.poll(() => answers().nth(3).getAttribute('class'), { timeout: 60_000 }).not.toContain('bubble--streaming');
    expect(await answers().nth(3).getAttribute('data-route')).toBe('blip');
    await chat().getByRole('radio', { name: 'Auto' }).check();
    await h.screenshot('40-photo-view-chat');
  });

  it('keeps the conversation after a reload, and starts a new chat that keeps the old one in the history', async () => {
    const before = await chat().getByTestId('message-text').allTextContents();
    await h.page.reload();
    await openChatOn('red-wall.jpg');
    await expect.poll(() => chat().getByTestId('message-text').allTextContents()).toEqual(before);
    expect(await answers().evaluateAll((els) => els.map((e) => e.getAttribute('data-route')))).toEqual(['blip', 'llava', 'llava', 'blip']);
    expect(await answers().nth(2).locator('.bubble__stopped').count()).toBe(1);

    await chat().getByRole('button', { name: 'New chat' }).click();
    await expect.poll(() => answers().count()).toBe(0);
    const history = chat().getByRole('combobox', { name: 'Conversation' });
    await expect.poll(() => history.locator('option').count()).toBe(2);
    await message().fill('How many walls are there?');
    await message().press('Enter');
    await expect.poll(() => answers().count(), { timeout: 60_000 }).toBe(1);
    // Back to the first conversation.
    const firstChat = await history.locator('option').nth(1).getAttribute('value');
    await history.selectOption(firstChat!);
    await expect.poll(() => chat().getByTestId('message-text').allTextContents()).toEqual(before);
  });

  it('keeps conversations per photo', async () => {
    const next = photoView().getByRole('button', { name: 'Next photo' });
    await (await next.isEnabled() ? next : photoView().getByRole('button', { name: 'Previous photo' })).click();
    await expect.poll(() => photoView().getAttribute('aria-label')).toBe('Photo blue-sea.jpg');
    await expect.poll(() => answers().count()).toBe(0);
    await chat().getByText('Ask anything about this photo.', { exact: false }).waitFor();
  });

  it('raised no page errors', () => {
    expect(h.pageErrors).toEqual([]);
    expect(h.calls.filter((c) => !c.ok)).toEqual([]);
  });
});
