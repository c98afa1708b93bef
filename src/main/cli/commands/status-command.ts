import { openCore } from '../../core/core';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';

export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'Library folders, photo counts by status, captions, and where the data lives.',
  usage: 'status',
  options: {},
  async run(ctx) {
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const s = core.library.status();
      if (ctx.json) {
        printJson(ctx, s);
        return 0;
      }
      line(ctx, `Data folder: ${s.dataDir} (database ${(s.dbBytes / 1024 / 1024).toFixed(1)} MiB)`);
      line(ctx, `Photos: ${s.photos} (${Object.entries(s.byStatus).map(([k, v]) => `${v} ${k}`).join(', ') || 'none yet'}), ${s.captioned} captioned`);
      if (s.roots.length === 0) line(ctx, 'No library folders yet: tandem index <folder>');
      for (const r of s.roots) line(ctx, `  ${r.path}  ${r.photoCount} photos`);
      const m = core.embeddings.status();
      line(
        ctx,
        !m.enabled
          ? 'Search by meaning: off (turn it on in the app’s settings).'
          : !m.installed
            ? `Search by meaning: needs the ${m.model} pack (tandem models install ${m.model}).`
            : `Search by meaning: ${m.embedded} of ${m.photos} photos read with ${m.model}${m.embedded < m.photos ? ' (tandem embed reads the rest)' : ''}.`,
      );
      return 0;
    } finally {
      await core.close();
    }
  },
};
