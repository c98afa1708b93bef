import { describe, expect, it } from 'vitest';
import { readLines, readSseData } from '../../src/main/core/chat/stream-lines';

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
});
