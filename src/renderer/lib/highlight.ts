export type HighlightPart = { text: string; match: boolean };

// SearchHit.highlight wraps each match in U+0001 … U+0002 (control characters no caption contains).
// eslint-disable-next-line no-control-regex -- those markers are the format
const MATCH = /\u0001([^\u0002]*)\u0002/g;
// eslint-disable-next-line no-control-regex -- same markers, left unpaired
const STRAY_MARKER = /[\u0001\u0002]/g;

/** Splits a search highlight into plain and matched parts. */
export function highlightParts(highlighted: string): HighlightPart[] {
  const parts: HighlightPart[] = [];
  let last = 0;
  for (const m of highlighted.matchAll(MATCH)) {
    if (m.index > last) parts.push({ text: highlighted.slice(last, m.index), match: false });
    if (m[1]) parts.push({ text: m[1], match: true });
    last = m.index + m[0].length;
  }
  if (last < highlighted.length) parts.push({ text: highlighted.slice(last), match: false });
  // An unpaired marker must never show up as a control character.
  return parts.map((p) => ({ ...p, text: p.text.replace(STRAY_MARKER, '') })).filter((p) => p.text !== '');
}
