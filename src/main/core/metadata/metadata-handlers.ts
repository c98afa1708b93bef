import type { CoreHandlers } from '../api-handlers';
import type { Core } from '../core';

type MetadataChannel = Extract<keyof CoreHandlers, `metadata.${string}`>;

/** The metadata write-back channels, bound to the core's MetadataService. */
export function createMetadataHandlers(core: Core): Pick<CoreHandlers, MetadataChannel> {
  return {
    'metadata.write': async ({ scope }) => ({ queued: await core.metadata.start(scope) }),
    'metadata.status': () => ({ counts: core.metadata.store.counts(), progress: core.metadata.lastProgress }),
    'metadata.pause': () => {
      core.metadata.pause();
      return { ok: true as const };
    },
    'metadata.resume': () => {
      core.metadata.resume();
      return { ok: true as const };
    },
    'metadata.cancel': () => {
      core.metadata.cancel();
      return { ok: true as const };
    },
    'metadata.embedFolders': () => ({ rootIds: core.metadata.store.embedRoots() }),
    'metadata.setEmbed': ({ rootId, enabled }) => {
      core.metadata.store.setEmbed(rootId, enabled);
      return { ok: true as const };
    },
  };
}
