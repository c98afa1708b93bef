import { realpath } from 'node:fs/promises';
import type { ScanCounts } from '../../../shared/api';
import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand } from '../command';
import { batchOptions, generationOptions, precisionFromOptions, precisionOptions } from './caption-options';
import { captionLibrary } from './caption-command';
import { errLine, line, printJson } from '../output';
import { bar, formatDuration, ProgressLine } from '../progress-line';
import { terminalText } from '../terminal-text';

export function summarize(c: ScanCounts): string {
  return (
    `${c.seen} files: ${c.ok} ok, ${c.unsupported} unsupported, ${c.broken} broken` +
    ` (${c.added} new, ${c.changed} changed, ${c.moved} moved, ${c.unchanged} unchanged, ${c.missing} missing)`
  );
}

/** The lines about files and folders the scan could not open by name, or none. */
export function invalidNameLines(c: ScanCounts): string[] {
  const n = c.invalidNames ?? 0;
  if (n === 0) return [];
  const examples = c.invalidNameExamples ?? [];
  return [
    `${n} ${n === 1 ? 'file or folder' : 'files or folders'} skipped: names are not valid UTF-8 (rename ${n === 1 ? 'it' : 'them'} to index ${n === 1 ? 'it' : 'them'}).`,
    ...examples.map((name) => `  skipped: ${name}`),
    ...(n > examples.length ? [`  … and ${n - examples.length} more`] : []),
  ];
}

export const indexCommand: CliCommand = {
  name: 'index',
  summary: 'Add folders to the library and scan them (thumbnails, dates, camera, GPS, embedded captions).',
  usage: 'index <folder…> [--caption [--precision fp32|int8]]',
  options: {
    caption: { type: 'boolean', description: 'caption new photos with BLIP after the scan (see tandem caption)' },
    ...generationOptions,
    ...precisionOptions,
    ...batchOptions,
  },
  async run(ctx, positionals, values) {
    if (positionals.length === 0) throw new InvalidInputError('Name at least one folder: tandem index ~/Pictures');
    // A bad --precision is refused before the scan, not after it.
    precisionFromOptions(values);
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const rootIds: number[] = [];
      for (const folder of positionals) {
        const existing = await core.library.rootFor(folder);
        if (existing && existing.path !== (await realpath(folder))) {
          if (!ctx.json) line(ctx, `${folder} is inside library folder ${existing.path}; scanning that folder.`);
        }
        rootIds.push((existing ?? (await core.library.addRoot(folder))).id);
      }
      const progress = new ProgressLine(ctx.stderr);
      const counts = await core.library.scan([...new Set(rootIds)], {
        signal: ctx.signal,
        onWarning: (path, message) => errLine(ctx, `warning: ${path}: ${message}`),
        onProgress: (p) => {
          if (ctx.json) return;
          if (p.phase === 'walking') return progress.update('Looking for photos…');
          const failed = p.counts.broken + p.counts.unsupported;
          progress.update(
            `${bar(p.done, p.total)} ${p.done}/${p.total}  ${p.ratePerSec.toFixed(1)} photos/s  ETA ${formatDuration(p.etaSec)}` +
              `  failed ${failed}${p.current ? `  ${p.current}` : ''}`,
            p.phase === 'done',
          );
        },
      });
      progress.done();
      const stopped = ctx.signal.aborted;
      if (ctx.json) {
        printJson(ctx, { stopped, counts, status: core.library.status() });
      } else {
        line(ctx, `${stopped ? 'Stopped' : 'Indexed'}: ${summarize(counts)}.`);
        for (const l of invalidNameLines(counts)) line(ctx, l);
        if (stopped) line(ctx, 'Run the same command again to continue where it stopped.');
        const failures = core.search.list({ status: ['broken', 'unsupported'], rootId: undefined }, 'name', 0, 50);
        for (const f of failures.items.filter((p) => rootIds.includes(p.rootId))) {
          line(ctx, terminalText(`  ${f.status}: ${f.relPath}: ${f.statusReason ?? ''}`, { oneLine: true }));
        }
      }
      if (stopped) return 130;
      if (values['caption'] === true) {
        const code = await captionLibrary(ctx, core, { kind: 'roots', rootIds: [...new Set(rootIds)] }, values);
        if (code !== 0) return code;
      }
      return 0;
    } finally {
      await core.close();
    }
  },
};
