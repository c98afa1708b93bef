import { z } from 'zod';

/**
 * What a model pack may be called. Pack names are typed by users and become folder and lock-file names
 * under the models folder, so this one pattern is all that stands between a request and the file system:
 * no separators, no leading dot (so no `..`), no NUL, nothing longer than a folder name should be.
 * The contract's schemas and `ModelStore` both test against it.
 */
export const PACK_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const PACK_NAME_RULE = "use 1 to 64 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit";

export function isPackName(value: string): boolean {
  return PACK_NAME_PATTERN.test(value);
}

export const PackName = z.string().regex(PACK_NAME_PATTERN, { message: `Not a model pack name: ${PACK_NAME_RULE}.` });
