import { isUtf8 } from 'node:buffer';
import { lstat, opendir, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { isSameOrInside } from '../path-inside';
import { PHOTO_EXTENSIONS } from './format-sniff';
import { escapeFileNameBytes } from './raw-file-name';

export interface WalkedFile {
  absPath: string;
  /** Relative to the root, always '/'-separated. */
  relPath: string;
  size: number;
  mtimeMs: number;
}

/** Folders that belong to operating systems, NAS boxes and photo tools, never to the user's photos. */
const SYSTEM_FOLDERS = new Set([
  '@eadir', '#recycle', '$recycle.bin', 'system volume information', 'lost+found', '__macosx',
  'node_modules', '.thumbnails', 'thumbs.db',
]);

function isSkippedName(name: string): boolean {
  return name.startsWith('.') || SYSTEM_FOLDERS.has(name.toLowerCase());
}

/**
 * Names in `dir` that are not valid UTF-8, escaped (escapeFileNameBytes), '/'-terminated for folders. Node hands
 * such a name over with U+FFFD in place of the bad bytes, a path that names no file, so the walk cannot open it;
 * the raw bytes are read only to tell the user which file or folder to rename. Only folders and photo files count.
 */
async function unnameableEntries(dir: string): Promise<string[]> {
  const raws = await readdir(dir, { encoding: 'buffer' }).catch(() => [] as Buffer[]);
  const out: string[] = [];
  for (const raw of raws) {
    if (isUtf8(raw)) continue;
    const name = escapeFileNameBytes(raw);
    if (isSkippedName(name)) continue;
    const st = await lstat(Buffer.concat([Buffer.from(`${dir}${sep}`), raw])).catch(() => null);
    if (st?.isDirectory()) out.push(`${name}/`);
    else if (st && PHOTO_EXTENSIONS.has(extname(name).toLowerCase())) out.push(name);
  }
  return out;
}

/**
 * Lists photo files under a root. Hidden and system folders are skipped; symlinks are followed only
 * when they resolve inside the root, and each real directory is entered once, so loops end.
 * Unreadable folders are reported through `onWarning` and skipped; photos and folders whose names are not
 * valid UTF-8 through `onInvalidName` (relative to the root, bad bytes as \xNN), and skipped.
 */
export async function walkPhotos(
  root: string,
  onWarning: (path: string, message: string) => void = () => {},
  onInvalidName: (relPath: string) => void = () => {},
): Promise<WalkedFile[]> {
  const realRoot = await realpath(root);
  const visited = new Set<string>([realRoot]);
  const out: WalkedFile[] = [];
  const stack: string[] = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let handle;
    try {
      handle = await opendir(dir);
    } catch (err) {
      onWarning(dir, (err as Error).message);
      continue;
    }
    let hasUnnameable = false;
    for await (const entry of handle) {
      if (isSkippedName(entry.name)) continue;
      const abs = join(dir, entry.name);
      // U+FFFD is also a valid character in a name; only a name whose path finds nothing came from bad bytes.
      if (entry.name.includes('\uFFFD') && !(await lstat(abs).catch(() => null))) {
        hasUnnameable = true;
        continue;
      }
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          continue; // dangling link
        }
        if (!isSameOrInside(realRoot, target)) continue;
        const st = await stat(target).catch(() => null);
        if (!st) continue;
        isDir = st.isDirectory();
        isFile = st.isFile();
        if (isDir) {
          if (visited.has(target)) continue;
          visited.add(target);
        }
      } else if (isDir) {
        const real = await realpath(abs).catch(() => abs);
        if (visited.has(real)) continue;
        visited.add(real);
      }
      if (isDir) {
        stack.push(abs);
      } else if (isFile && PHOTO_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        const st = await stat(abs).catch(() => null);
        if (!st) continue;
        out.push({ absPath: abs, relPath: relative(root, abs).split(sep).join('/'), size: st.size, mtimeMs: st.mtimeMs });
      }
    }
    if (hasUnnameable) {
      const folder = relative(root, dir).split(sep).join('/');
      for (const name of await unnameableEntries(dir)) onInvalidName(folder ? `${folder}/${name}` : name);
    }
  }
  out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return out;
}
