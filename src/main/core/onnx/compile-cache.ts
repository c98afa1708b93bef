/**
 * What the model compilers (BLIP, LLaVA) share about their cache in model-cache/: source files hashed once
 * (remembered by path, size and mtime in a memo file, since a 14 GB checkpoint takes a minute to hash), and a
 * finished build moved into place atomically so that two processes compiling the same entry both end up with a
 * whole one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One remembered hash: valid while the file keeps its size and mtime. */
interface HashMemoEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface SourceFileHash {
  /** the file's name (no folder) */
  file: string;
  bytes: number;
  sha256: string;
}

/** Hashes of `files` in order; `memoPath` (optional) is read and updated. */
export async function hashSources(files: string[], memoPath: string | undefined): Promise<SourceFileHash[]> {
  let memo: Record<string, HashMemoEntry> = {};
  if (memoPath) {
    try {
      memo = JSON.parse(await readFile(memoPath, 'utf8')) as Record<string, HashMemoEntry>;
    } catch {
      memo = {};
    }
  }
  const out: SourceFileHash[] = [];
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

/**
 * Moves the finished build `tmp` to `dir`. When another process got there first, its entry is used (if its
 * manifest reads) and ours is dropped; a damaged entry in the way is moved aside and replaced.
 */
export async function publishBuild<M>(
  tmp: string,
  dir: string,
  cacheDir: string,
  readManifest: (dir: string) => Promise<M | undefined>,
  ours: M,
  /** the family's build-folder prefix (e.g. `.tmp-blip-`), so its sweep of leftovers finds this one too */
  tmpPrefix: string,
): Promise<{ manifest: M; built: boolean }> {
  try {
    await rename(tmp, dir);
    return { manifest: ours, built: true };
  } catch (err) {
    const theirs = await readManifest(dir);
    if (theirs) {
      await rm(tmp, { recursive: true, force: true });
      return { manifest: theirs, built: false };
    }
    const stale = join(cacheDir, `${tmpPrefix}stale-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, stale);
    } catch {
      throw err;
    }
    await rm(stale, { recursive: true, force: true });
    await rename(tmp, dir);
    return { manifest: ours, built: true };
  }
}
