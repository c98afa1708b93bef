/**
 * The LLaVA benchmarks' code paths on the tiny test models (`--tiny`): compile in a child process, chat through
 * LlavaEngine in another, and print the tables. Numbers are not checked; only that every column gets one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

function captureLog(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe('LLaVA benchmarks, tiny', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it('bench -- llava-compile --tiny prints the stages, peak RSS and output size', async () => {
    const log = captureLog();
    restore = log.restore;
    const { run } = await import('../../bench/llava-compile');
    await run(['--model', '0.5b', '--tiny']);
    const out = log.lines.join('\n');
    expect(out).toMatch(/^built: /m);
    for (const stage of ['hashing', 'vision', 'embeddings', 'decoder', 'writing decoder_model_merged']) expect(out).toContain(stage);
    expect(out).toMatch(/total .+; peak RSS [\d.]+ MiB .+; output [\d.]+ KiB/);
  }, 120_000);

  it('bench -- chat --tiny prints a row per variant with every goal column', async () => {
    const log = captureLog();
    restore = log.restore;
    const { run } = await import('../../bench/chat');
    await run(['--tiny', '--model', '7b', '--variants', 'q4-acc4', '--runs', '1', '--tokens', '3']);
    const out = log.lines.join('\n');
    expect(out).toContain('first token s (new photo)');
    expect(out).toContain('follow-up s');
    expect(out).toContain('reopened s');
    // The vision tower's residency as the app chooses it by default, and what the engine chose.
    const row = log.lines.join('\n').split('\n').find((l) => /^q4-acc4 auto→(resident|on-demand) +[\d.]+ /.test(l));
    expect(row, out).toBeDefined();
    // variant, residency, load, image, prefill, prompt tokens, first token, decode, follow-up, reopened, RSS GB (GiB)
    const cells = row!.trim().split(/\s+/);
    expect(cells.slice(2, 11).every((c) => /^[\d.]+$/.test(c)), row).toBe(true);
    expect(cells[11], row).toMatch(/^\([\d.]+\)$/);
    expect(out).toMatch(/reopened: image cached/);
  }, 120_000);
});
