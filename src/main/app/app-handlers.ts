import type { ChannelName, ParsedRequestOf, ReplyOf } from '../../shared/api';
import { createCoreHandlers } from '../core/api-handlers';
import type { Core } from '../core/core';

/** One handler per contract channel; the mapped type makes a forgotten channel a type error. */
export type AppHandlers = {
  [C in ChannelName]: (request: ParsedRequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C>;
};

/** What only the host (Electron shell, or the E2E harness standing in for it) can answer. */
export interface ShellServices {
  /** Shows a folder picker; null when the user cancels. */
  pickFolder(): Promise<string | null>;
}

export function createAppHandlers(core: Core, shell: ShellServices): AppHandlers {
  return {
    ...createCoreHandlers(core),
    'dialog.pickFolder': async () => ({ path: await shell.pickFolder() }),
  };
}
