import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import * as exifrModule from 'exifr';
import { decodeXmlEntities, importedKeywords } from './xmp-fields';

/** What an XMP sidecar says about its photo. */
export interface SidecarWords {
  path: string;
  caption: string | null;
  /** 'file' for words another tool (or a person) wrote; 'model:<id>' when Tandem wrote a model's caption. */
  captionSource: string;
  keywords: string[];
}

/** Sidecars over this size are not XMP a photo tool wrote; they are skipped rather than parsed on the main thread. */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

/**
 * Sidecar names for a photo, in the order they win: `photo.jpg.xmp` (darktable, digiKam, Tandem) then `photo.xmp`
 * (Lightroom, Capture One). Both spellings of the extension, for cameras' and Windows' upper-case names.
 */
export function sidecarCandidates(photoPath: string): string[] {
  const ext = extname(photoPath);
  const stem = ext ? photoPath.slice(0, -ext.length) : photoPath;
  return [`${photoPath}.xmp`, `${photoPath}.XMP`, `${stem}.xmp`, `${stem}.XMP`];
}

/** The sidecar Tandem writes: always `photo.jpg.xmp`, so two photos that differ only by extension never share one. */
export function sidecarPathFor(photoPath: string): string {
  return `${photoPath}.xmp`;
}

/** Finds and reads the photo's sidecar. A damaged sidecar counts as none: metadata is a bonus, never a failed photo. */
export async function readSidecar(photoPath: string): Promise<SidecarWords | null> {
  for (const candidate of sidecarCandidates(photoPath)) {
    const st = await stat(candidate).catch(() => null);
    if (!st?.isFile()) continue;
    if (st.size > MAX_SIDECAR_BYTES) return null;
    try {
      return await parseSidecar(candidate, await readFile(candidate));
    } catch {
      return null;
    }
  }
  return null;
}

type Namespaces = Record<string, Record<string, unknown> | undefined>;
type SidecarParser = typeof exifrModule.sidecar;

/**
 * exifr ships an ESM build (bundlers, vitest: `sidecar` is a named export, the default object lacks it) and a UMD
 * build (Node: the named export cannot be detected, `default` is the whole module). This finds it in either.
 */
const parseXmpSidecar: SidecarParser = (() => {
  const mod = exifrModule as unknown as { sidecar?: SidecarParser; default?: { sidecar?: SidecarParser } };
  const fn = mod.sidecar ?? mod.default?.sidecar;
  if (!fn) throw new Error('exifr.sidecar is missing: exifr changed its exports');
  return fn;
})();

export async function parseSidecar(path: string, xmp: Buffer): Promise<SidecarWords | null> {
  const raw = (await parseXmpSidecar(xmp, { mergeOutput: false }, 'xmp')) as Namespaces | undefined;
  if (!raw) return null;
  const dc = raw['dc'] ?? {};
  const tandemNs = raw['tandem'] ?? {};
  const lr = raw['lr'] ?? {};
  const source = typeof tandemNs['CaptionSource'] === 'string' ? tandemNs['CaptionSource'] : '';
  return {
    path,
    caption: langText(dc['description']),
    // A person's caption written out by Tandem is still a person's words: from the file, like any other tool's.
    captionSource: /^model:[\w.@/-]{1,200}$/.test(source) ? source : 'file',
    keywords: importedKeywords(stringList(dc['subject']), stringList(lr['hierarchicalSubject'])),
  };
}

function langText(v: unknown): string | null {
  if (typeof v === 'string') return decodeXmlEntities(v).trim() || null;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    // x-default first, as XMP readers are told to.
    const items = v as unknown[];
    const preferred = items.find((i) => i && typeof i === 'object' && (i as { lang?: unknown }).lang === 'x-default');
    for (const item of preferred ? [preferred, ...items] : items) {
      const t = langText(item);
      if (t) return t;
    }
    return null;
  }
  if (v && typeof v === 'object' && 'value' in v) return langText((v as { value: unknown }).value);
  return null;
}

function stringList(v: unknown): string[] {
  const list = Array.isArray(v) ? (v as unknown[]) : v === undefined || v === null ? [] : [v];
  return list.flatMap((i) => (typeof i === 'string' || typeof i === 'number' ? [decodeXmlEntities(String(i)).trim()] : [])).filter(Boolean);
}
