import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';
import { resolvePhotoArg } from './show-command';
import { filterOptions, filtersFromOptions, hitLine } from './search-command';

export const similarCommand: CliCommand = {
  name: 'similar',
  summary: 'Find photos that look like one photo (BLIP image embeddings; needs search by meaning).',
  usage: 'similar <photo-id|path> [--folder F] [--limit N]',
  options: filterOptions,
  async run(ctx, positionals, values) {
    const arg = positionals[0];
    if (!arg || positionals.length > 1) throw new InvalidInputError('Name one photo: tandem similar <photo-id|path>');
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const limit = Math.max(1, Number(values['limit'] ?? 50) || 50);
      const result = await core.hybrid.similar(resolvePhotoArg(core, arg), filtersFromOptions(values), 0, limit);
      if (ctx.json) {
        printJson(ctx, result);
        return 0;
      }
      if (result.notice) line(ctx, result.notice);
      if (result.total === 0) {
        if (!result.notice) line(ctx, 'No other photo has been read for search by meaning yet.');
        return 0;
      }
      line(ctx, `${result.query}:`);
      for (const p of result.items) line(ctx, hitLine(p));
      if (result.total > result.items.length) line(ctx, `… ${result.total - result.items.length} more (use --limit).`);
      return 0;
    } finally {
      await core.close();
    }
  },
};
