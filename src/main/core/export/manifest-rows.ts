/**
 * Manifest rows for dataset export: one row per (photo, caption), in CSV and JSON Lines.
 * Column names follow Hugging Face's `imagefolder` convention (`file_name` relative to the manifest), so
 * `load_dataset("imagefolder", data_dir=…)` reads an export as it is; `path` keeps the original for tracing back.
 */

export interface ManifestRow {
  /** The image's name in the export folder (also the stem its .txt pairs with). */
  fileName: string;
  /** The original photo's absolute path. */
  path: string;
  caption: string;
  /** 'user', 'file' or 'model'; '' when the photo has no caption. */
  source: string;
  /** The model pack that wrote the caption, '' otherwise. */
  model: string;
  keywords: readonly string[];
  width: number | null;
  height: number | null;
  /** Bytes of the exported image (the original's when images are not copied). */
  size: number | null;
  takenAt: string | null;
}

export const MANIFEST_COLUMNS = ['file_name', 'path', 'caption', 'source', 'model', 'keywords', 'width', 'height', 'size', 'taken_at'] as const;

/** Splits a stored caption source ('user', 'file', 'model:<pack>') into the manifest's source and model. */
export function splitCaptionSource(source: string | null): { source: string; model: string } {
  if (!source) return { source: '', model: '' };
  if (source.startsWith('model:')) return { source: 'model', model: source.slice('model:'.length) };
  return { source, model: '' };
}

/**
 * Keywords in one CSV cell, comma-separated as TagGUI and booru-style tag lists write them. A keyword that holds
 * a comma itself is quoted JSON-style so the list still splits unambiguously.
 */
export function keywordCell(keywords: readonly string[]): string {
  return keywords.map((k) => (/[,"]/.test(k) ? JSON.stringify(k) : k)).join(', ');
}

/** RFC 4180: a field with a comma, quote, or line break is quoted, quotes doubled. Leading =+-@ are left alone (data, not a sheet). */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return `${MANIFEST_COLUMNS.join(',')}\r\n`;
}

/** One CSV record, CRLF-terminated as RFC 4180 says (pandas, Excel and Python's csv module all read it). */
export function csvRow(r: ManifestRow): string {
  return `${[r.fileName, r.path, r.caption, r.source, r.model, keywordCell(r.keywords), r.width, r.height, r.size, r.takenAt].map(csvField).join(',')}\r\n`;
}

/**
 * One JSON Lines record. JSON.stringify escapes \n and \r inside captions; U+2028/U+2029 are valid JSON but
 * Python's str.splitlines() breaks on them, so they are escaped too and each record stays one line for every reader.
 */
export function jsonlRow(r: ManifestRow): string {
  const json = JSON.stringify({
    file_name: r.fileName,
    path: r.path,
    caption: r.caption,
    source: r.source,
    model: r.model,
    keywords: r.keywords,
    width: r.width,
    height: r.height,
    size: r.size,
    taken_at: r.takenAt,
  });
  return `${json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')}\n`;
}

/**
 * Sidecar text: one caption per line (kohya and OneTrainer read the whole file; with several captions they pick a line).
 * Line breaks inside a caption would split it into two, so a caption's own white space runs become single spaces.
 */
export function sidecarText(captions: readonly string[]): string {
  const lines = captions.map((c) => c.replace(/\s+/g, ' ').trim()).filter((c) => c !== '');
  return lines.length ? `${lines.join('\n')}\n` : '';
}
