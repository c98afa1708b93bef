import path from 'node:path';
import { TandemError } from './errors';

/** The parts of `node:path` a containment check needs; pass `path.win32` or `path.posix` to test either platform's rules. */
export type PathApi = Pick<typeof path, 'relative' | 'isAbsolute' | 'resolve' | 'sep'>;

/**
 * Whether `candidate` lies strictly inside `root`, by the path strings alone (resolve symlinks first where it matters).
 * `relative()` answers an absolute path when the two share no root (another drive on Windows, `C:` vs a UNC share),
 * and that answer must count as outside, as must `..` and `../…`. A name that merely starts with dots (`..photos`) is inside.
 */
export function isInside(root: string, candidate: string, api: PathApi = path): boolean {
  const rel = api.relative(root, candidate);
  if (rel === '' || api.isAbsolute(rel)) return false;
  return rel !== '..' && !rel.startsWith(`..${api.sep}`);
}

/** `isInside`, or the folder itself. */
export function isSameOrInside(root: string, candidate: string, api: PathApi = path): boolean {
  return api.relative(root, candidate) === '' || isInside(root, candidate, api);
}

/**
 * Resolves `candidate` and returns it if it lies strictly inside `root`; otherwise throws a readable `unsafe_path` error.
 * For paths built from names that came from outside (a request, a database row): the check is the last word, whatever slipped past validation.
 */
export function assertInside(root: string, candidate: string, what: string, api: PathApi = path): string {
  const resolvedRoot = api.resolve(root);
  const resolved = api.resolve(resolvedRoot, candidate);
  if (!isInside(resolvedRoot, resolved, api)) {
    throw new TandemError('unsafe_path', `Refusing to use ${what} at ${resolved}: it is not inside ${resolvedRoot}.`);
  }
  return resolved;
}
