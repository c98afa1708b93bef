import exifr from 'exifr';
import { decodeXmlEntities, importedKeywords } from '../metadata/xmp-fields';

export interface PhotoMetadata {
  /** Local time as the camera wrote it, ISO 8601 without a zone unless the file carries an offset. */
  takenAt: string | null;
  orientation: number | null;
  cameraMake: string | null;
  cameraModel: string | null;
  gpsLat: number | null;
  gpsLon: number | null;
  /** A description someone already wrote into the file (XMP dc:description or IPTC Caption-Abstract). */
  embeddedCaption: string | null;
  /** XMP dc:subject / IPTC Keywords, with lr:hierarchicalSubject paths ("Places|France|Paris") in place of their levels. */
  keywords: string[];
  /** Who wrote embeddedCaption: 'model:<id>' when Tandem embedded a model's caption (tandem:CaptionSource), else 'file'. */
  embeddedCaptionSource?: string;
}

const EMPTY: PhotoMetadata = {
  takenAt: null, orientation: null, cameraMake: null, cameraModel: null,
  gpsLat: null, gpsLon: null, embeddedCaption: null, keywords: [],
};

type Raw = Record<string, unknown>;

/** Reads EXIF/XMP/IPTC. Metadata is a bonus: damaged blocks give empty fields, never a failed photo. */
export async function readPhotoMetadata(buffer: Buffer): Promise<PhotoMetadata> {
  let raw: Raw | undefined;
  try {
    raw = (await exifr.parse(buffer, {
      tiff: true, exif: true, gps: true, xmp: true, iptc: true, icc: false,
      mergeOutput: true, reviveValues: false, translateValues: false,
    })) as Raw | undefined;
  } catch {
    return { ...EMPTY };
  }
  if (!raw) return { ...EMPTY };
  const lat = num(raw['latitude']);
  const lon = num(raw['longitude']);
  return {
    takenAt: exifDate(raw['DateTimeOriginal'] ?? raw['CreateDate'] ?? raw['DateTimeDigitized'], raw['OffsetTimeOriginal']),
    orientation: int(raw['Orientation']),
    cameraMake: text(raw['Make']),
    cameraModel: text(raw['Model']),
    gpsLat: lat !== null && lon !== null && Math.abs(lat) <= 90 ? lat : null,
    gpsLon: lat !== null && lon !== null && Math.abs(lon) <= 180 ? lon : null,
    embeddedCaption: xmpText(langText(raw['description'])) ?? text(raw['Caption']) ?? text(raw['ImageDescription']),
    keywords: importedKeywords(
      raw['subject'] !== undefined ? keywordList(raw['subject']).map(decodeXmlEntities) : keywordList(raw['Keywords']),
      keywordList(raw['hierarchicalSubject']).map(decodeXmlEntities),
    ),
    embeddedCaptionSource: modelSource(raw['CaptionSource']) ?? 'file',
  };
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  // Cameras pad fixed-size fields with NULs and spaces.
  const t = v.replace(/\0/g, '').trim();
  return t && !/^(default|untitled|OLYMPUS DIGITAL CAMERA)$/i.test(t) ? t : null;
}

/** XMP lang-alt values come as a string, {lang, value}, or a list of those. */
function langText(v: unknown): string | null {
  if (typeof v === 'string') return text(v);
  if (Array.isArray(v)) {
    for (const item of v) {
      const t = langText(item);
      if (t) return t;
    }
    return null;
  }
  if (v && typeof v === 'object' && 'value' in v) return text((v as { value: unknown }).value);
  return null;
}

/** XMP text from exifr still carries its XML escapes. */
function xmpText(v: string | null): string | null {
  return v === null ? null : decodeXmlEntities(v);
}

/** tandem:CaptionSource as Tandem writes it for a model's caption; anything else is a person's words. */
function modelSource(v: unknown): string | null {
  return typeof v === 'string' && /^model:[\w.@/-]{1,200}$/.test(v) ? v : null;
}

function keywordList(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  const out = new Set<string>();
  for (const item of list) {
    const t = typeof item === 'string' || typeof item === 'number' ? String(item).trim() : langText(item);
    if (t) out.add(t);
  }
  return [...out];
}

/** "2021:03:02 08:15:00" (+ optional "+01:00") → "2021-03-02T08:15:00[+01:00]". */
export function exifDate(v: unknown, offset: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(v.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  if (y === '0000' || mo === '00' || d === '00') return null;
  const zone = typeof offset === 'string' && /^[+-]\d{2}:\d{2}$/.test(offset.trim()) ? offset.trim() : '';
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`;
}
