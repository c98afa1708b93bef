import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { NotFoundError, TandemError } from '../errors';
import { isInside } from '../path-inside';

/** A file that resolved (symlinks and all) outside the folder it was served from: refused, never read. */
export class OutsideFolderError extends TandemError {
  constructor(message: string) {
    super('outside_library', message);
    this.name = 'OutsideFolderError';
  }
}

export interface ContainedFile {
  /** The file's real path: no symlink left in it. */
  path: string;
  /** The real path of the folder it lies in. */
  within: string;
}

/**
 * Resolves `file` and `folder` to their real paths and returns them if the file lies inside the folder.
 * A scan only indexes files inside a root, but a symlink swapped in afterwards would otherwise be followed anywhere.
 */
export async function realFileInside(folder: string, file: string, what: string): Promise<ContainedFile> {
  const within = await realpath(folder).catch((cause: unknown) => {
    throw new NotFoundError(`The folder of ${what} is not at ${folder} any more.`, { cause });
  });
  const path = await realpath(file).catch((cause: unknown) => {
    throw new NotFoundError(`${capitalise(what)} is not at ${file} any more.`, { cause });
  });
  if (!isInside(within, path)) {
    throw new OutsideFolderError(`${capitalise(what)} now leads outside its folder ${folder} (a link was put in its place), so Tandem does not show it. Rescan the folder.`);
  }
  return { path, within };
}

// O_NOFOLLOW where the platform has it: the final name cannot become a link between the check and the read.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * Reads a file checked by `realFileInside`, checking again around the read: it is opened without following a final
 * link, then resolved once more and compared by inode, so a swap of the file or a parent folder in between is refused.
 */
export async function readFileInside(file: ContainedFile, what: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file.path, OPEN_FLAGS);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new OutsideFolderError(`${capitalise(what)} was replaced by a link, so Tandem does not show it. Rescan the folder.`);
    }
    throw new NotFoundError(`${capitalise(what)} is not at ${file.path} any more.`, { cause });
  }
  try {
    const again = await realFileInside(file.within, file.path, what);
    const [opened, named] = await Promise.all([handle.stat(), stat(again.path)]);
    if (again.path !== file.path || opened.ino !== named.ino || opened.dev !== named.dev) {
      throw new OutsideFolderError(`${capitalise(what)} changed while it was being read, so Tandem does not show it. Rescan the folder.`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
