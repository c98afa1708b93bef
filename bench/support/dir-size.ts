import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes and file count under a folder (apparent size, which is what a user sees in a file manager). */
export async function dirSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return { bytes: 0, files: 0 };
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await dirSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.isFile()) {
      bytes += (await stat(p)).size;
      files++;
    }
  }
  return { bytes, files };
}

/** A SQLite database with its WAL and shared-memory files, which hold recent writes until a checkpoint. */
export async function sqliteSize(dbFile: string): Promise<{ main: number; wal: number; shm: number }> {
  const size = (f: string): Promise<number> => stat(f).then((s) => s.size, () => 0);
  return { main: await size(dbFile), wal: await size(`${dbFile}-wal`), shm: await size(`${dbFile}-shm`) };
}
