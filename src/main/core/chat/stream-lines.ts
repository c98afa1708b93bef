import { TandemError } from '../errors';

/**
 * Line framing for streamed HTTP bodies: NDJSON (Ollama) and server-sent events (OpenAI-compatible servers).
 *
 * Each chunk is scanned once, from where the previous scan stopped, so the cost is linear in the bytes received
 * however long a line grows; and a line may not grow past `maxLineBytes`. Lines are cut at the byte 0x0A and
 * decoded whole: that byte never occurs inside a multi-byte UTF-8 character, so a character split across network
 * chunks stays whole.
 */

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

export interface LineOptions {
  /** Longest line (SSE: longest event's data), in bytes without the line break. */
  maxLineBytes?: number;
  /** The error to throw past the cap; callers that know the engine word it for their users. */
  tooLong?: (maxBytes: number) => Error;
}

export class LineTooLongError extends TandemError {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super('line_too_long', `A streamed reply had a line longer than ${maxBytes} bytes; reading stopped there.`);
    this.name = 'LineTooLongError';
    this.maxBytes = maxBytes;
  }
}

const NEWLINE = 0x0a;

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export async function* readLines(body: AsyncIterable<Uint8Array>, options: LineOptions = {}): AsyncGenerator<string> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const tooLong = options.tooLong ?? ((m: number) => new LineTooLongError(m));
  const decoder = new TextDecoder();
  // The start of the current line, as it arrived (views into earlier chunks, never rescanned).
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const line = (parts: Uint8Array[], bytes: number): string => decoder.decode(concat(parts, bytes)).replace(/\r$/, '');

  for await (const chunk of body) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      const bytes = pendingBytes + (nl - start);
      if (bytes > max) throw tooLong(max);
      const parts = pending;
      parts.push(chunk.subarray(start, nl));
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      yield line(parts, bytes);
    }
    if (start < chunk.byteLength) {
      pendingBytes += chunk.byteLength - start;
      if (pendingBytes > max) throw tooLong(max);
      pending.push(chunk.subarray(start));
    }
  }
  if (pendingBytes > 0) yield line(pending, pendingBytes);
}

/** The `data` payload of each server-sent event; comments and other fields are skipped. */
export async function* readSseData(body: AsyncIterable<Uint8Array>, options: LineOptions = {}): AsyncGenerator<string> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const tooLong = options.tooLong ?? ((m: number) => new LineTooLongError(m));
  let data: string[] = [];
  // Many short `data:` lines without the blank line that ends an event must not add up past the cap either.
  let dataChars = 0;
  for await (const line of readLines(body, options)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
      dataChars = 0;
    } else if (line.startsWith('data:')) {
      const value = line.slice(5).replace(/^ /, '');
      dataChars += value.length + 1;
      if (dataChars > max) throw tooLong(max);
      data.push(value);
    }
    // ':' comments (keep-alives), 'event:', 'id:' and 'retry:' carry nothing Tandem needs.
  }
  if (data.length > 0) yield data.join('\n');
}
