import { opendir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { PHOTO_EXTENSIONS } from './format-sniff';

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

function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/**
 * Lists photo files under a root. Hidden and system folders are skipped; symlinks are followed only
 * when they resolve inside the root, and each real directory is entered once, so loops end.
 * Unreadable folders are reported through `onWarning` and skipped.
 */
export async function walkPhotos(root: string, onWarning: (path: string, message: string) => void = () => {}): Promise<WalkedFile[]> {
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
    for await (const entry of handle) {
      if (isSkippedName(entry.name)) continue;
      const abs = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(abs);
        } catch {
          continue; // dangling link
        }
        if (!isInside(realRoot, target)) continue;
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
  }
  out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return out;
}
