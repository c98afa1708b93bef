/**
 * Text from files, models and the database reaches the terminal through here (never through `--json`).
 * A caption written into a photo's EXIF, a file name or a model's answer can hold escape sequences
 * (ESC[2J clears the screen, OSC 52 writes the clipboard, OSC 8 hides a link) or bidi overrides that
 * make `evil\u202Egpj.exe` read as `evilexe.jpg`. Each such character is shown as '?', as `ls` does.
 */

// C0 controls except \t and \n (\r too: it lets text overwrite what was printed before it), DEL, C1 controls,
// and the bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). Matching control characters is the point here.
/* eslint-disable no-control-regex */
const UNSAFE_MULTILINE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/* eslint-enable no-control-regex */

/** Makes text safe to print on a terminal; keeps line breaks and tabs unless `oneLine`, where every control becomes '?'. */
export function terminalText(text: string, opts: { oneLine?: boolean } = {}): string {
  if (opts.oneLine) return text.replace(UNSAFE_ONE_LINE, '?');
  // Windows line ends are line ends, not a stray carriage return.
  return text.replace(/\r\n/g, '\n').replace(UNSAFE_MULTILINE, '?');
}
