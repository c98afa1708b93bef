import type { WriteTags } from 'exiftool-vendored';

/** Tandem's own XMP namespace: who wrote a caption, so a later import can tell a model's words from a person's. */
export const TANDEM_XMP_NAMESPACE = 'https://tandem.app/ns/1.0/';

/** Only `|` makes a keyword hierarchical (Lightroom's and digiKam's lr:hierarchicalSubject); "AC/DC" stays one word. */
export const KEYWORD_LEVEL_SEPARATOR = '|';

/** What Tandem writes about one photo. A null caption or keyword list leaves those fields as they are in the file. */
export interface PhotoWords {
  caption: string | null;
  /** 'user' or 'model:<pack id>' ('file' captions are written back as the person's: someone wrote them). */
  captionSource: string | null;
  /** The model whose caption a person edited, or that wrote the caption. */
  model: string | null;
  keywords: readonly string[] | null;
}

export type WriteTarget = 'sidecar' | 'embedded';

/**
 * Formats that get an IPTC-IIM block: JPEG, where older tools still read captions from it. PNG, WebP and HEIC have
 * no standard place for one, and in TIFF the IPTC tag makes exifr (Tandem's own scan reader) drop the whole file's
 * metadata, orientation and date included; EXIF and XMP carry the same words there.
 */
const IPTC_FORMATS = new Set(['jpeg', 'jpg']);

/**
 * The Metadata Working Group's safe set for a caption and keywords, plus who wrote them:
 *  caption  → XMP dc:description (x-default), EXIF ImageDescription, IPTC Caption-Abstract (2:120)
 *  keywords → XMP dc:subject (every level of a hierarchical keyword, as Lightroom exports them),
 *             lr:hierarchicalSubject (the whole path, for keywords with `|`), IPTC Keywords (2:25)
 *  origin   → xmp:CreatorTool "Tandem <version>", tandem:CaptionSource / tandem:CaptionModel / tandem:CaptionEdited (not tandem:Model: merged readers like exifr would mistake it for the camera's EXIF Model).
 * A sidecar holds XMP only, so EXIF and IPTC go into embedded writes.
 */
export function buildWriteTags(words: PhotoWords, target: WriteTarget, format: string | null, version: string): WriteTags {
  const tags: Record<string, unknown> = { 'XMP-xmp:CreatorTool': `Tandem ${version}` };
  const iptc = target === 'embedded' && IPTC_FORMATS.has((format ?? '').toLowerCase());
  if (words.caption !== null) {
    const caption = words.caption === '' ? null : words.caption;
    tags['XMP-dc:Description'] = caption;
    if (target === 'embedded') tags['IFD0:ImageDescription'] = caption;
    if (iptc) tags['IPTC:Caption-Abstract'] = caption;
    const source = words.captionSource === 'file' ? 'user' : words.captionSource;
    tags['XMP-tandem:CaptionSource'] = caption === null ? null : source;
    tags['XMP-tandem:CaptionModel'] = caption === null ? null : words.model;
    tags['XMP-tandem:CaptionEdited'] = caption === null ? null : source === 'user' && words.model !== null;
  }
  if (words.keywords !== null) {
    const flat = flatKeywords(words.keywords);
    const hierarchical = words.keywords.filter((k) => k.includes(KEYWORD_LEVEL_SEPARATOR));
    tags['XMP-dc:Subject'] = flat.length ? flat : null;
    tags['XMP-lr:HierarchicalSubject'] = hierarchical.length ? hierarchical : null;
    if (iptc) tags['IPTC:Keywords'] = flat.length ? flat : null;
  }
  // IPTC-IIM text is Latin-1 unless the record says UTF-8; Cyrillic and emoji need it.
  if (iptc) tags['IPTC:CodedCharacterSet'] = 'UTF8';
  return tags as WriteTags;
}

/** "Places|France|Paris" → "Places", "France", "Paris": what dc:subject and IPTC readers understand. */
export function flatKeywords(keywords: readonly string[]): string[] {
  const out = new Set<string>();
  for (const k of keywords) {
    for (const level of k.split(KEYWORD_LEVEL_SEPARATOR)) {
      const t = level.trim();
      if (t) out.add(t);
    }
  }
  return [...out];
}

/**
 * Keywords as read from a file: hierarchical paths (lr:hierarchicalSubject) stand for their levels, so
 * dc:subject's flattened copies of those levels are not imported a second time.
 */
export function importedKeywords(subject: readonly string[], hierarchical: readonly string[]): string[] {
  const covered = new Set(flatKeywords(hierarchical));
  const out = new Set<string>(hierarchical.map((h) => h.trim()).filter(Boolean));
  for (const s of subject) if (!covered.has(s.trim()) && s.trim()) out.add(s.trim());
  return [...out];
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * exifr hands XMP text over with XML escapes still in it ("&amp;", "&#10;"); ExifTool and every other reader
 * decode them. Only for XMP values: IPTC and EXIF text has no escapes, and a literal "&amp;" there is the text.
 */
export function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (whole, ent: string) => {
    if (ent.startsWith('#x')) return codePoint(parseInt(ent.slice(2), 16)) ?? whole;
    if (ent.startsWith('#')) return codePoint(parseInt(ent.slice(1), 10)) ?? whole;
    return XML_ENTITIES[ent] ?? whole;
  });
}

function codePoint(n: number): string | null {
  return Number.isInteger(n) && n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : null;
}
