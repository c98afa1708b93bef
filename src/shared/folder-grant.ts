import { z } from 'zod';

/**
 * A folder the user chose in the main process's picker, as the renderer holds it: an opaque, single-use,
 * short-lived token. The renderer never names a path for the core to read; it hands back what the picker gave.
 */

/** What the folder was picked for: a grant for one cannot be spent on the other. */
export const FolderPurpose = z.enum(['library', 'model', 'export']);
export type FolderPurpose = z.infer<typeof FolderPurpose>;

/** 32 random bytes, base64url: 43 characters. Anything else (a path, say) is refused by the contract. */
export const FOLDER_GRANT_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const FolderGrant = z
  .string()
  .regex(FOLDER_GRANT_PATTERN, { message: 'Expected a folder grant from the folder picker, not a path. Choose the folder again.' });
