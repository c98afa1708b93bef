/**
 * Line framing for streamed HTTP bodies: NDJSON (Ollama) and server-sent events (OpenAI-compatible servers).
 * Bytes are decoded as a stream so a UTF-8 character split across network chunks stays whole.
 */
export async function* readLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      yield buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer.replace(/\r$/, '');
}

/** The `data` payload of each server-sent event; comments and other fields are skipped. */
export async function* readSseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let data: string[] = [];
  for await (const line of readLines(body)) {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
    } else if (line.startsWith('data:')) {
      data.push(line.slice(5).replace(/^ /, ''));
    }
    // ':' comments (keep-alives), 'event:', 'id:' and 'retry:' carry nothing Tandem needs.
  }
  if (data.length > 0) yield data.join('\n');
}
