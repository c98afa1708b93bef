import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { MAX_CAPTION_CHARS } from '../../../shared/text-limits';
import type { CaptionStore } from '../captions/caption-store';
import type { Db } from '../store/database';

/**
 * Plain-text caption sidecars, as kohya_ss, OneTrainer and TagGUI keep them: `IMG_0001.txt` (or `.caption`) beside
 * `IMG_0001.jpg`, one caption per line. Tandem's dataset export writes them; a scan reads them back as captions
 * that came with the file. (XMP sidecars are read by metadata/sidecar-import.ts.)
 */

export const TEXT_SIDECAR_EXTENSIONS = ['.txt', '.caption'] as const;
/** A caption file is a few lines; anything bigger is some other text that happens to share the name. */
const MAX_TEXT_SIDECAR_BYTES = 64 * 1024;
const MAX_LINES = 16;

/** Sidecar names for a photo, in the order they win, with both cases of the extension. */
export function textSidecarCandidates(photoPath: string): string[] {
  const ext = extname(photoPath);
  const stem = ext ? photoPath.slice(0, -ext.length) : photoPath;
  return TEXT_SIDECAR_EXTENSIONS.flatMap((e) => [`${stem}${e}`, `${stem}${e.toUpperCase()}`]);
}

/** The captions in a sidecar's text: non-empty lines, trimmed, at most MAX_CAPTION_CHARS each. */
export function parseTextSidecar(bytes: Buffer): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return []; // not UTF-8: some other encoding we would only garble
  }
  return text
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim().slice(0, MAX_CAPTION_CHARS).trim())
    .filter((l) => l !== '')
    .slice(0, MAX_LINES);
}

/** Reads the photo's caption sidecar; none, an unreadable or an oversized one give no captions (never a failed photo). */
export async function readTextSidecar(photoPath: string): Promise<string[]> {
  for (const candidate of textSidecarCandidates(photoPath)) {
    const st = await stat(candidate).catch(() => null);
    if (!st?.isFile()) continue;
    if (st.size > MAX_TEXT_SIDECAR_BYTES) return [];
    return parseTextSidecar(await readFile(candidate).catch(() => Buffer.alloc(0)));
  }
  return [];
}

/**
 * Stores a sidecar's captions as 'file' captions. The first line is the caption the file stands for, so it is added
 * last (the newest file caption is the one shown); lines the photo already has as file captions add nothing, so a
 * rescan does not grow the history.
 */
export function importTextSidecar(db: Db, captions: CaptionStore, photoId: number, lines: readonly string[]): number {
  const known = db.prepare("SELECT 1 FROM captions WHERE photo_id = ? AND source = 'file' AND text = ? LIMIT 1");
  let added = 0;
  for (const text of [...lines].reverse()) {
    if (known.get(photoId, text)) continue;
    captions.add(photoId, 'file', text);
    added++;
  }
  return added;
}
