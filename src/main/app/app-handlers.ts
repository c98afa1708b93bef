import type { ChannelName, FolderPurpose, ParsedRequestOf, ReplyOf } from '../../shared/api';
import { createCoreHandlers } from '../core/api-handlers';
import type { Core } from '../core/core';
import { FolderGrants } from '../core/grants/folder-grants';

/** One handler per contract channel; the mapped type makes a forgotten channel a type error. */
export type AppHandlers = {
  [C in ChannelName]: (request: ParsedRequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C>;
};

/** What only the host (Electron shell, or the E2E harness standing in for it) can answer. */
export interface ShellServices {
  /** Shows a folder picker; null when the user cancels. */
  pickFolder(purpose: FolderPurpose): Promise<string | null>;
}

/**
 * The core's handlers plus the host's. The picker runs here, in the main process, and the page gets back a grant
 * for the folder the user chose: the same registry then redeems it in `library.addRoot` / `models.import`.
 */
export function createAppHandlers(core: Core, shell: ShellServices, grants: FolderGrants = new FolderGrants()): AppHandlers {
  return {
    ...createCoreHandlers(core, grants),
    'dialog.pickFolder': async ({ purpose }) => {
      const path = await shell.pickFolder(purpose);
      return path === null ? { grant: null, path: null } : { grant: grants.issue(path, purpose), path };
    },
  };
}
