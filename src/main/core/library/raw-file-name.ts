import { isUtf8 } from 'node:buffer';

/** Length of the UTF-8 sequence a lead byte starts, or 0 when the byte cannot start one. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * A file name's bytes as readable text: valid UTF-8 as itself, every other byte as \xNN. Linux allows any
 * bytes but '/' and NUL in a name; the escaped form tells the user which file to rename.
 */
export function escapeFileNameBytes(raw: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const n = sequenceLength(raw[i]!);
    const chunk = n > 0 && i + n <= raw.length ? raw.subarray(i, i + n) : null;
    if (chunk && isUtf8(chunk)) {
      out += Buffer.from(chunk).toString('utf8');
      i += n;
    } else {
      out += `\\x${raw[i]!.toString(16).padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}
