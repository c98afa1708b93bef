import type { PhotoFilters, SearchHit } from '../../../shared/api';
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

/** A hit's line: the photo, then why it matched when meaning took part (words are what the caption shows). */
export function hitLine(p: SearchHit): string {
  const why =
    p.matchedBy === 'meaning'
      ? `  (matches by meaning${p.similarity != null ? `, ${p.similarity.toFixed(2)}` : ''})`
      : p.matchedBy === 'both'
        ? '  (words and meaning)'
        : p.matchedBy === undefined && p.similarity != null
          ? `  (similarity ${p.similarity.toFixed(2)})`
          : '';
  return `${photoLine(p)}${why}`;
}

export const searchCommand: CliCommand = {
  name: 'search',
  summary: 'Find photos by caption, tags, chat, file name or folder, and by meaning where photos are embedded.',
  usage: 'search <words…> [--words-only] [--folder F] [--from DATE] [--to DATE] [--captioned|--uncaptioned]',
  options: {
    ...filterOptions,
    'words-only': { type: 'boolean', description: 'match words only, not meaning (search by meaning is used when photos are embedded)' },
    'no-rerank': { type: 'boolean', description: 'do not re-rank the top hits of a long query with BLIP’s matching head' },
  },
  async run(ctx, positionals, values) {
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const limit = Math.max(1, Number(values['limit'] ?? 50) || 50);
      const result = await core.hybrid.search(positionals.join(' '), filtersFromOptions(values), 0, limit, {
        wordsOnly: values['words-only'] === true,
        rerank: values['no-rerank'] !== true,
        // A person at a terminal waits for the model to load rather than getting words only.
        meaningWaitMs: Infinity,
      });
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
      for (const p of result.items) line(ctx, hitLine(p));
      if (result.total > result.items.length) line(ctx, `… ${result.total - result.items.length} more (use --limit).`);
      return 0;
    } finally {
      await core.close();
    }
  },
};
