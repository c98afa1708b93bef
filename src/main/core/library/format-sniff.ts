/** Image container formats Tandem indexes, told apart by their first bytes, never by the file extension. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'tiff' | 'gif' | 'avif' | 'heic';

export const PHOTO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.heif', '.hif',
]);

const EXTENSION_FORMAT: Record<string, ImageFormat> = {
  '.jpg': 'jpeg', '.jpeg': 'jpeg', '.jpe': 'jpeg', '.jfif': 'jpeg', '.png': 'png', '.webp': 'webp',
  '.tif': 'tiff', '.tiff': 'tiff', '.gif': 'gif', '.avif': 'avif', '.heic': 'heic', '.heif': 'heic', '.hif': 'heic',
};

export function formatFromExtension(ext: string): ImageFormat | undefined {
  return EXTENSION_FORMAT[ext.toLowerCase()];
}

const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'mif2']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

export function sniffFormat(head: Uint8Array): ImageFormat | undefined {
  const b = head;
  const ascii = (from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a))) {
    return 'tiff';
  }
  if (b.length >= 12 && ascii(4, 8) === 'ftyp') {
    const boxSize = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
    const brands = [ascii(8, 12)];
    for (let o = 16; o + 4 <= Math.min(boxSize, b.length); o += 4) brands.push(ascii(o, o + 4));
    // AVIF files also list mif1, so look for the AV1 brand first.
    if (brands.some((x) => AVIF_BRANDS.has(x))) return 'avif';
    if (brands.some((x) => HEIF_BRANDS.has(x))) return 'heic';
  }
  return undefined;
}

/** A short printable preview of unknown content, for error messages. */
export function describeBytes(head: Uint8Array): string {
  const text = Array.from(head.subarray(0, 12), (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
  return `starts with "${text}"`;
}

export const FORMAT_LABEL: Record<ImageFormat, string> = {
  jpeg: 'JPEG', png: 'PNG', webp: 'WebP', tiff: 'TIFF', gif: 'GIF', avif: 'AVIF', heic: 'HEIC',
};
