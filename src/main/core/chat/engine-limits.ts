/**
 * Caps on what an external engine may send. Replies are read in the main process (the app's, or the CLI's), so an
 * engine that never ends a line, never stops streaming or answers with a huge body must not be able to take its
 * CPU or memory: past a cap the request is closed and the answer ends with an `EngineReplyTooLargeError`.
 *
 * The sizes are far above anything a working engine sends, so a cap only ever stops a broken or hostile one:
 */
export interface EngineLimits {
  /**
   * One NDJSON line (Ollama) or one server-sent event (OpenAI-compatible). A streamed chunk is a few hundred
   * bytes; even an engine that ignores `stream: true` and sends the whole answer as one line stays far below.
   */
  maxLineBytes: number;
  /**
   * Characters of answer text. Tandem asks for at most 4096 new tokens (the `maxNewTokens` setting's ceiling)
   * and a token is rarely more than ~16 characters, so a real answer stays under 64 K characters; four times
   * that means the engine ignores num_predict / max_tokens.
   */
  maxAnswerChars: number;
  /**
   * Bytes on the wire for one streamed answer, framing included: Ollama repeats ~120 bytes of JSON around each
   * token, so 64 MB is over 500 000 tokens. This also ends streams that never carry text (endless empty deltas
   * or keep-alives), which the answer cap cannot see.
   */
  maxStreamBytes: number;
  /** A JSON reply to a check (/api/show with its license and template, /v1/models with a long list). */
  maxJsonBytes: number;
  /** An error body: only its message is shown, and a message is one sentence. Past this the rest is dropped. */
  maxErrorBytes: number;
}

export const ENGINE_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxLineBytes: 1024 * 1024,
  maxAnswerChars: 256 * 1024,
  maxStreamBytes: 64 * 1024 * 1024,
  maxJsonBytes: 8 * 1024 * 1024,
  maxErrorBytes: 64 * 1024,
});

/**
 * The answer text as it streams in, held to `maxChars`: past the cap the part that still fits is shown and
 * kept, then `tooLong` ends the reply.
 */
export class CappedAnswer {
  text = '';

  constructor(
    private readonly maxChars: number,
    private readonly onToken: (text: string) => void,
    private readonly tooLong: (maxChars: number) => Error,
  ) {}

  add(piece: string): void {
    const room = this.maxChars - this.text.length;
    if (piece.length <= room) {
      this.text += piece;
      this.onToken(piece);
      return;
    }
    let fit = piece.slice(0, Math.max(0, room));
    // Half of a surrogate pair is not text.
    if (/[\uD800-\uDBFF]$/.test(fit)) fit = fit.slice(0, -1);
    if (fit) {
      this.text += fit;
      this.onToken(fit);
    }
    throw this.tooLong(this.maxChars);
  }
}
