import type { PhotoFilters } from '../../../shared/api';
import { openCore } from '../../core/core';
import type { CliCommand, OptionValues } from '../command';
import { line, photoLine, printJson } from '../output';

export function filtersFromOptions(v: OptionValues): PhotoFilters {
  const f: PhotoFilters = {};
  if (typeof v['folder'] === 'string') f.folder = v['folder'];
  if (typeof v['from'] === 'string') f.takenFrom = v['from'];
  if (typeof v['to'] === 'string') f.takenTo = v['to'];
  if (v['captioned'] === true) f.captioned = 'yes';
  if (v['uncaptioned'] === true) f.captioned = 'no';
  if (typeof v['status'] === 'string') f.status = v['status'].split(',') as PhotoFilters['status'];
  return f;
}

export const filterOptions = {
  folder: { type: 'string', description: 'only photos in this folder (relative to its library folder)' },
  from: { type: 'string', description: 'taken on or after this date (YYYY-MM-DD)' },
  to: { type: 'string', description: 'taken on or before this date (YYYY-MM-DD)' },
  captioned: { type: 'boolean', description: 'only photos with a caption' },
  uncaptioned: { type: 'boolean', description: 'only photos without a caption' },
  status: { type: 'string', description: 'comma-separated: ok,broken,unsupported,missing' },
  limit: { type: 'string', description: 'how many results (default 50)' },
} as const;

export const searchCommand: CliCommand = {
  name: 'search',
  summary: 'Find photos by caption, tags, chat, file name or folder.',
  usage: 'search <words…> [--folder F] [--from DATE] [--to DATE] [--captioned|--uncaptioned]',
  options: filterOptions,
  async run(ctx, positionals, values) {
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const limit = Math.max(1, Number(values['limit'] ?? 50) || 50);
      const result = core.search.search(positionals.join(' '), filtersFromOptions(values), 0, limit);
      if (ctx.json) {
        printJson(ctx, result);
        return 0;
      }
      if (result.notice) line(ctx, result.notice);
      if (result.total === 0) {
        // A pasted paragraph is echoed as its start: the notice above already says what was searched.
        const shown = result.query.length > 80 ? `${result.query.slice(0, 79)}…` : result.query;
        line(ctx, `No photos match “${shown}”.`);
        return 0;
      }
      for (const p of result.items) line(ctx, photoLine(p));
      if (result.total > result.items.length) line(ctx, `… ${result.total - result.items.length} more (use --limit).`);
      return 0;
    } finally {
      await core.close();
    }
  },
};
