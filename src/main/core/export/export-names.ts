/**
 * Names in a flat export folder. Trainers pair an image with its caption by stem (`IMG_0001.jpg` ↔ `IMG_0001.txt`),
 * so stems must be unique, not just names: `a.jpg` and `a.png` would share `a.txt`. Stems are compared the way
 * case-insensitive, normalising file systems (APFS, NTFS) compare them, so the export survives a copy to either.
 */
export class ExportNames {
  private readonly taken = new Set<string>();

  /** The stem to use for a photo named `fileName`; a clash gets `-2`, `-3`, … before the extension. */
  claim(fileName: string): { stem: string; renamed: boolean } {
    const base = stemOf(fileName) || 'photo';
    let stem = base;
    for (let n = 2; this.taken.has(foldName(stem)); n++) stem = `${base}-${n}`;
    this.taken.add(foldName(stem));
    return { stem, renamed: stem !== base };
  }
}

/** The name without its last extension ('.hidden' has none). */
export function stemOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** The extension with its dot, lower-cased ('' when there is none). */
export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot).toLowerCase() : '';
}

function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase();
}
