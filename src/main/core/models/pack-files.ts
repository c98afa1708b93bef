import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TandemError } from '../errors';
import { isInside } from '../path-inside';

/** File-system steps shared by downloads and imports: hashing, staging, promotion, locking. */

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Total bytes of regular files under a folder (0 if it does not exist). */
export async function directorySize(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    // A file can vanish between readdir and stat (a download being promoted or removed meanwhile).
    else if (entry.isFile()) total += await stat(full).then((st) => st.size, () => 0);
  }
  return total;
}

/** Deletes every file under `dir` whose '/'-separated relative path is not in `keep`. */
export async function removeFilesExcept(dir: string, keep: ReadonlySet<string>, prefix = ''): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      await removeFilesExcept(full, keep, rel);
      if ((await readdir(full)).length === 0) await rm(full, { recursive: true });
    } else if (!keep.has(rel)) {
      await rm(full, { force: true });
    }
  }
}

export { isInside };

/** Deletes a folder only when it lies inside `root`: a corrupted row must never aim rm at a user's files. */
export async function removeInside(root: string, target: string): Promise<void> {
  if (!isInside(root, target)) {
    throw new TandemError('unsafe_path', `Refusing to delete ${target}: it is not inside the models folder ${root}.`);
  }
  await rm(target, { recursive: true, force: true });
}

/** Hard-links where the file system allows (instant, no extra space), else copies. */
export async function linkOrCopy(source: string, dest: string): Promise<'link' | 'copy'> {
  await mkdir(dirname(dest), { recursive: true });
  await rm(dest, { force: true });
  try {
    await link(source, dest);
    return 'link';
  } catch {
    await copyFile(source, dest);
    return 'copy';
  }
}

/**
 * Moves a finished staging folder to its final name. An existing install is moved aside first
 * and put back if the swap fails, so the final path is never half-written.
 */
export async function promoteDirectory(staging: string, final: string): Promise<void> {
  await mkdir(dirname(final), { recursive: true });
  if (!(await pathExists(final))) {
    await rename(staging, final);
    return;
  }
  const aside = join(dirname(final), `.replaced-${basename(final)}-${process.pid}-${Date.now()}`);
  await rename(final, aside);
  try {
    await rename(staging, final);
  } catch (err) {
    await rename(aside, final);
    throw err;
  }
  await rm(aside, { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock file holding the owner's pid, so the app and the CLI do not write the same staging
 * folder at once. A lock whose process is gone (crash, kill -9) is taken over.
 */
export async function acquireLock(path: string, what: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  for (let tries = 0; tries < 2; tries++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new TandemError(
          'model_busy',
          `${what} is already in progress (process ${pid}${pid === process.pid ? ', this one' : ''}). Wait for it to finish, then try again.`,
        );
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new TandemError('model_busy', `${what} is locked by ${path}; delete that file if no Tandem is running.`);
}
