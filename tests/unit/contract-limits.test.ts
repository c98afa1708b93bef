import { describe, expect, it } from 'vitest';
import { channels } from '../../src/shared/api';
import { MAX_CAPTION_CHARS, MAX_CHAT_MESSAGE_CHARS, MAX_PROMPT_CHARS, MAX_QUERY_CHARS, MAX_QUESTION_CHARS } from '../../src/shared/text-limits';

/** The first issue's message, or null when the request is valid. */
function problem(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }, value: unknown): string | null {
  const r = schema.safeParse(value);
  return r.success ? null : (r.error?.issues[0]?.message ?? 'invalid');
}

describe('contract text limits', () => {
  it('caps a search query', () => {
    const req = channels['search.query'].request;
    expect(problem(req, { query: 'a'.repeat(MAX_QUERY_CHARS) })).toBeNull();
    expect(problem(req, { query: 'a '.repeat(10_000) })).toBe(`A search can be at most ${MAX_QUERY_CHARS} characters long.`);
  });

  it('caps a user caption', () => {
    const req = channels['captions.setUser'].request;
    expect(problem(req, { photoId: 1, text: 'x'.repeat(MAX_CAPTION_CHARS) })).toBeNull();
    expect(problem(req, { photoId: 1, text: 'x'.repeat(MAX_CAPTION_CHARS + 1) })).toMatch(/at most 2000 characters/);
  });

  it('caps a chat message and a VQA question', () => {
    expect(problem(channels['chat.send'].request, { photoId: 1, text: 'x'.repeat(MAX_CHAT_MESSAGE_CHARS) })).toBeNull();
    expect(problem(channels['chat.send'].request, { photoId: 1, text: 'x'.repeat(MAX_CHAT_MESSAGE_CHARS + 1) })).toMatch(/chat message can be at most/);
    expect(problem(channels['vqa.ask'].request, { photoId: 1, question: 'what colour is the sky?' })).toBeNull();
    expect(problem(channels['vqa.ask'].request, { photoId: 1, question: 'x'.repeat(MAX_QUESTION_CHARS + 1) })).toMatch(/question for BLIP/);
  });

  it('caps a caption prompt and a folder filter', () => {
    const start = channels['captions.start'].request;
    expect(problem(start, { scope: { kind: 'all' }, settings: { prompt: 'a photography of' } })).toBeNull();
    expect(problem(start, { scope: { kind: 'all' }, settings: { prompt: 'p'.repeat(MAX_PROMPT_CHARS + 1) } })).toMatch(/prompt can be at most/);
    expect(problem(channels['photos.list'].request, { filters: { folder: 'f/'.repeat(5000) } })).not.toBeNull();
  });
});
