import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, LineTooLongError, readLines, readSseData } from '../../src/main/core/chat/stream-lines';

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? new TextEncoder().encode(p) : p;
}

async function all<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

describe('stream framing', () => {
  it('splits NDJSON across chunk boundaries, CRLF and a missing final newline', async () => {
    expect(await all(readLines(chunks('{"a":1}\n{"b"', ':2}\r\n', '{"c":3}')))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a UTF-8 character whole when a chunk ends inside it', async () => {
    const bytes = new TextEncoder().encode('{"t":"café 🚀"}\n');
    const cut = bytes.indexOf(0xf0) + 2;
    expect(await all(readLines(chunks(bytes.subarray(0, cut), bytes.subarray(cut))))).toEqual(['{"t":"café 🚀"}']);
  });

  it('reads SSE data fields, skipping comments and other fields, joining multi-line data', async () => {
    const events = await all(readSseData(chunks(': keep-alive\n\n', 'event: message\ndata: {"x":1}\n\n', 'data: a\ndata: b\n\n', 'data: [DONE]\n\n')));
    expect(events).toEqual(['{"x":1}', 'a\nb', '[DONE]']);
  });

  it('cuts lines at byte boundaries without rescanning: many lines in one chunk, one line over many chunks', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `{"i":${i}}`);
    expect(await all(readLines(chunks(`${many.join('\n')}\n`)))).toEqual(many);
    const pieces = Array.from({ length: 500 }, () => 'ab');
    expect(await all(readLines(chunks(...pieces, '\r\n', 'x')))).toEqual(['ab'.repeat(500), 'x']);
  });
});

describe('stream framing caps', () => {
  /** `total` bytes of 'a' without a newline, in chunks of `size`, counting how many the reader pulled. */
  function noNewline(total: number, size: number): { body: AsyncGenerator<Uint8Array>; pulled: () => number } {
    const block = new Uint8Array(size).fill(0x61);
    let pulled = 0;
    const body = (async function* () {
      for (let sent = 0; sent < total; sent += size) {
        pulled += size;
        yield block;
      }
    })();
    return { body, pulled: () => pulled };
  }

  it('scans each byte once: 20 MB without a newline in 1 KB chunks takes linear time', async () => {
    // The cap lifted above 20 MB, so the whole stream is scanned: a rescan per chunk would be 20 000 × ~10 MB.
    const { body } = noNewline(20 * 1024 * 1024, 1024);
    const t0 = performance.now();
    const lines = await all(readLines(body, { maxLineBytes: 32 * 1024 * 1024 }));
    const ms = performance.now() - t0;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(20 * 1024 * 1024);
    expect(ms).toBeLessThan(2_000);
  });

  it('ends a line longer than the cap (1 MB by default) with a typed error, without reading the rest', async () => {
    const { body, pulled } = noNewline(20 * 1024 * 1024, 1024);
    const t0 = performance.now();
    const err = await all(readLines(body)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LineTooLongError);
    expect((err as LineTooLongError).maxBytes).toBe(DEFAULT_MAX_LINE_BYTES);
    expect(pulled()).toBeLessThanOrEqual(DEFAULT_MAX_LINE_BYTES + 1024);
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('lets lines up to the cap through, and the caller words the error', async () => {
    const exact = 'x'.repeat(100);
    expect(await all(readLines(chunks(`${exact}\n`), { maxLineBytes: 100 }))).toEqual([exact]);
    const tooLong = (max: number) => new Error(`engine line over ${max}`);
    await expect(all(readLines(chunks(`${exact}x\n`), { maxLineBytes: 100, tooLong }))).rejects.toThrow('engine line over 100');
    // The last line, without a newline, is held to the cap too.
    await expect(all(readLines(chunks('ok\n', exact, 'x'), { maxLineBytes: 100 }))).rejects.toBeInstanceOf(LineTooLongError);
  });

  it('caps an SSE event made of many short data lines', async () => {
    const lines = Array.from({ length: 50 }, () => 'data: 0123456789\n').join('');
    await expect(all(readSseData(chunks(lines, '\n'), { maxLineBytes: 200 }))).rejects.toBeInstanceOf(LineTooLongError);
    expect(await all(readSseData(chunks(lines, '\n'), { maxLineBytes: 1000 }))).toHaveLength(1);
  });
});
