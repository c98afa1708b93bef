/**
 * sha256 of a model's source files, the key of the compile cache. Hashes are remembered by (path, size,
 * mtime) in a memo file, so a 14 GB checkpoint is read once rather than at every start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';

export interface LlavaSourceFile {
  file: string;
  bytes: number;
  sha256: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface HashMemoEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Hashes of `files` in order; `memoPath` (optional) is read and updated. */
export async function hashSources(files: string[], memoPath: string | undefined): Promise<LlavaSourceFile[]> {
  let memo: Record<string, HashMemoEntry> = {};
  if (memoPath) {
    try {
      memo = JSON.parse(await readFile(memoPath, 'utf8')) as Record<string, HashMemoEntry>;
    } catch {
      memo = {};
    }
  }
  const out: LlavaSourceFile[] = [];
  let changed = false;
  for (const f of files) {
    const abs = resolve(f);
    const st = await stat(abs);
    const hit = memo[abs];
    let sha256: string;
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) sha256 = hit.sha256;
    else {
      sha256 = await sha256File(abs);
      memo[abs] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
      changed = true;
    }
    out.push({ file: basename(f), bytes: st.size, sha256 });
  }
  if (memoPath && changed) {
    const tmp = `${memoPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(memo, null, 1));
    await rename(tmp, memoPath);
  }
  return out;
}
