import { realpath } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { MetadataWriteProgress, MetadataWriteScope } from '../../../shared/api';
import { openCore, type Core } from '../../core/core';
import { InvalidInputError, NotFoundError } from '../../core/errors';
import type { CliCommand } from '../command';
import { errLine, line, printJson } from '../output';
import { bar, formatDuration, ProgressLine } from '../progress-line';
import { terminalText } from '../terminal-text';

/** How many per-photo problems the summary lists by name. */
const MAX_LISTED_PROBLEMS = 50;

export const writeMetadataCommand: CliCommand = {
  name: 'write-metadata',
  summary: 'Write captions and keywords to XMP sidecars beside the photos (or, with --embed, into the photo files).',
  usage: 'write-metadata [--all | --folder F | <photo…>] [--embed]',
  options: {
    all: { type: 'boolean', description: 'every photo in the library' },
    folder: { type: 'string', description: 'photos in this folder and below (a path, or relative to its library folder)' },
    embed: {
      type: 'boolean',
      description: 'rewrite the photo files themselves (atomically, mtime kept) instead of writing sidecars; folders with "embed" turned on always do',
    },
  },
  async run(ctx, positionals, values) {
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const scope = await scopeFrom(core, positionals, values['all'] === true, typeof values['folder'] === 'string' ? values['folder'] : null);
      const progress = new ProgressLine(ctx.stderr);
      const onAbort = () => core.metadata.stop();
      ctx.signal.addEventListener('abort', onAbort);
      let result: MetadataWriteProgress;
      try {
        result = await core.metadata.write(scope, {
          embed: values['embed'] === true,
          onProgress: (p) => {
            if (ctx.json) return;
            progress.update(
              `${bar(p.done, p.total)} ${p.done}/${p.total}  ${p.photosPerSec.toFixed(1)} photos/s  ETA ${formatDuration(p.etaSec)}` +
                `  written ${p.written}  skipped ${p.skipped}  failed ${p.failed}${p.currentPath ? `  ${p.currentPath}` : ''}`,
              p.state !== 'running',
            );
          },
        });
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        progress.done();
      }
      const problems = core.metadata.lastProblems;
      if (ctx.json) {
        printJson(ctx, { ...result, problems });
      } else {
        const verb = result.state === 'paused' ? 'Stopped' : 'Done';
        line(ctx, `${verb}: ${result.written} written, ${result.skipped} skipped, ${result.failed} failed.`);
        for (const p of problems.slice(0, MAX_LISTED_PROBLEMS)) {
          line(ctx, terminalText(`  ${p.failed ? 'failed' : 'skipped'}: ${p.path ?? `photo ${p.photoId}`}: ${p.reason}`, { oneLine: true }));
        }
        if (problems.length > MAX_LISTED_PROBLEMS) line(ctx, `  … and ${problems.length - MAX_LISTED_PROBLEMS} more`);
        if (result.state === 'paused') errLine(ctx, 'Run the same command again to write the rest.');
      }
      if (result.state === 'paused') return 130;
      return result.failed > 0 ? 1 : 0;
    } finally {
      await core.close();
    }
  },
};

async function scopeFrom(core: Core, photos: string[], all: boolean, folder: string | null): Promise<MetadataWriteScope> {
  const chosen = [all, folder !== null, photos.length > 0].filter(Boolean).length;
  if (chosen !== 1) throw new InvalidInputError('Say what to write: photo ids or paths, or one of --all, --folder <folder>.');
  if (all) return { kind: 'all' };
  if (folder !== null) {
    const root = await core.library.rootFor(folder);
    if (root) {
      const rel = relative(root.path, await realpath(folder)).split(sep).join('/');
      return { kind: 'folder', rootId: root.id, folder: rel };
    }
    // Not a path on disk: a folder relative to a library folder, as `tandem caption --folder` takes it.
    return { kind: 'folder', folder: folder.replace(/^\/+|\/+$/g, '') };
  }
  const ids = photos.map((arg) => {
    const row = /^\d+$/.test(arg) ? core.photos.row(Number(arg)) : core.photos.findByPath(resolve(arg));
    if (!row) throw new NotFoundError(`${arg} is not a photo in the library; index its folder first (tandem index).`);
    return row.id;
  });
  return { kind: 'photos', photoIds: ids };
}

