import { execFileSync } from 'node:child_process';

/** Debian's exiftool (libimage-exiftool-perl), an independent reader of what Tandem wrote. */
export const SYSTEM_EXIFTOOL = '/usr/bin/exiftool';

/** `exiftool -j -G1 -struct <file>`: every tag, named by group (XMP-dc:Description, IPTC:Keywords, …). */
export function exiftoolRead(file: string): Record<string, unknown> {
  const out = execFileSync(SYSTEM_EXIFTOOL, ['-j', '-G1', '-struct', '-charset', 'iptc=UTF8', file], { encoding: 'utf8' });
  const parsed = JSON.parse(out) as Record<string, unknown>[];
  return parsed[0]!;
}

/** A value as a list (exiftool prints one keyword as a string, several as an array). */
export function asList(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => String(x));
}

/** One exiftool run over many files (a perl start per file would take seconds per hundred), keyed by path. */
export function exiftoolReadMany(files: string[], tags: string[] = []): Map<string, Record<string, unknown>> {
  const out = execFileSync(SYSTEM_EXIFTOOL, ['-q', '-j', '-G1', '-struct', '-charset', 'iptc=UTF8', ...tags.map((t) => `-${t}`), ...files], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const parsed = JSON.parse(out) as (Record<string, unknown> & { SourceFile: string })[];
  return new Map(parsed.map((r) => [r.SourceFile, r]));
}
