import { mkdir, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { ExportFormat, ExportOptions, type ExportProgress, type ExportScope, type ExportSummary, type PhotoFilters } from '../../../shared/api';
import { openCore, type Core } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand, CliContext, OptionValues } from '../command';
import { line, printJson } from '../output';
import { bar, formatDuration, ProgressLine } from '../progress-line';
import { filtersFromOptions } from './search-command';
import { resolvePhotoArg } from './show-command';

/** `--folder` names a folder relative to its library folder, or (absolute, or starting with '.') a path inside one. */
async function folderFilter(core: Core, folder: string): Promise<PhotoFilters> {
  if (isAbsolute(folder) || folder.startsWith('.')) {
    const root = await core.library.rootFor(resolve(folder));
    if (!root) throw new InvalidInputError(`${folder} is not inside a library folder (tandem status lists them).`);
    const rel = relative(root.path, await realpath(resolve(folder))).split(/[\\/]/).join('/');
    return { rootId: root.id, ...(rel ? { folder: rel } : {}) };
  }
  return { folder };
}

async function scopeFromArgs(core: Core, positionals: string[], v: OptionValues): Promise<ExportScope> {
  if (positionals.length > 0) {
    if (typeof v['search'] === 'string' || typeof v['folder'] === 'string' || v['captioned'] === true) {
      throw new InvalidInputError('Name photos, or choose them with --search / --folder / --captioned, not both.');
    }
    return { kind: 'photos', photoIds: positionals.map((p) => resolvePhotoArg(core, p)) };
  }
  const filters: PhotoFilters = { ...filtersFromOptions(v), ...(typeof v['folder'] === 'string' ? await folderFilter(core, v['folder']) : {}) };
  const query = typeof v['search'] === 'string' ? v['search'] : '';
  return { kind: 'search', query, filters };
}

function formatsFrom(v: OptionValues): ExportFormat[] {
  const raw = v['format'];
  const list = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : ['txt']).flatMap((f) => String(f).split(','));
  return [...new Set(list.map((f) => {
    const parsed = ExportFormat.safeParse(f.trim().toLowerCase());
    if (!parsed.success) throw new InvalidInputError(`Unknown export format “${f}”: choose txt, caption, csv or jsonl.`);
    return parsed.data;
  }))];
}

function optionsFrom(scope: ExportScope, v: OptionValues): ExportOptions {
  const maxSide = typeof v['max-side'] === 'string' ? Number(v['max-side']) : null;
  const parsed = ExportOptions.safeParse({
    scope,
    formats: formatsFrom(v),
    images: typeof v['images'] === 'string' ? v['images'] : 'none',
    maxSide,
    captions: typeof v['captions'] === 'string' ? v['captions'] : 'shown',
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what = issue?.path.join('.') === 'maxSide' ? '--max-side must be a whole number of pixels, 16 to 16384' : issue?.message ?? 'invalid options';
    const field = issue?.path[0];
    throw new InvalidInputError(field === 'images' ? '--images must be copy, link or none.' : field === 'captions' ? '--captions must be shown or all.' : what);
  }
  return parsed.data;
}

export function summaryLines(s: ExportSummary): string[] {
  const parts = [`${s.exported} photos exported to ${s.dest}`];
  if (s.images) parts.push(`${s.images} images${s.resized ? ` (${s.resized} resized)` : ''}`);
  if (s.sidecars) parts.push(`${s.sidecars} caption files`);
  if (s.manifests.length) parts.push(s.manifests.join(', '));
  const out = [`${s.cancelled ? 'Stopped' : 'Done'}: ${parts.join('; ')}.`];
  if (s.uncaptioned) out.push(`${s.uncaptioned} without a caption (exported without a caption file).`);
  if (s.renamed) out.push(`${s.renamed} renamed because another photo had the same name (e.g. IMG_0001-2.jpg).`);
  if (s.linkFallbacks) out.push(`${s.linkFallbacks} copied instead of hard-linked: the export folder is on another disk.`);
  if (s.skipped) {
    out.push(`${s.skipped} skipped:`);
    for (const k of s.skippedExamples) out.push(`  ${k.path}: ${k.reason}`);
    if (s.skipped > s.skippedExamples.length) out.push(`  … and ${s.skipped - s.skippedExamples.length} more`);
  }
  return out;
}

function progressPrinter(ctx: CliContext): { onProgress: (p: ExportProgress) => void; done: () => void } {
  const progress = new ProgressLine(ctx.stderr);
  return {
    onProgress: (p) => {
      if (ctx.json) return;
      const name = p.current ? `  ${p.current.split(/[\\/]/).pop()}` : '';
      progress.update(
        `${bar(p.done, p.total)} ${p.done}/${p.total}  ${p.ratePerSec.toFixed(1)} photos/s  ETA ${formatDuration(p.etaSec)}${name}`,
        p.phase !== 'exporting',
      );
    },
    done: () => progress.done(),
  };
}

export const exportCommand: CliCommand = {
  name: 'export',
  summary: 'Export a training dataset: caption .txt sidecars, CSV/JSONL manifests, images copied, resized or linked.',
  usage: 'export <dest> [<photo…> | --folder F | --search "q" | --captioned] [--format txt|caption|csv|jsonl] [--images copy|link|none] [--max-side N]',
  options: {
    folder: { type: 'string', description: 'photos in this folder (relative to its library folder, or a path inside one)' },
    search: { type: 'string', description: 'photos this search finds (captions, keywords, file names, folders, chats)' },
    captioned: { type: 'boolean', description: 'only photos with a caption' },
    from: { type: 'string', description: 'taken on or after this date (YYYY-MM-DD)' },
    to: { type: 'string', description: 'taken on or before this date (YYYY-MM-DD)' },
    format: { type: 'string', multiple: true, description: 'txt (default), caption, csv, jsonl; repeat or comma-separate for several' },
    images: { type: 'string', description: 'copy, link (hard links) or none (default): images into the export folder' },
    'max-side': { type: 'string', description: 'with --images copy: resize so the longer side is at most N pixels (upright, aspect kept)' },
    captions: { type: 'string', description: 'shown (default) or all: the shown caption, then each other model’s, one per line' },
  },
  async run(ctx, positionals, values) {
    const [dest, ...photos] = positionals;
    if (!dest) throw new InvalidInputError('Name the folder to export into: tandem export ~/datasets/cats --search cat');
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const options = optionsFrom(await scopeFromArgs(core, photos, values), values);
      await mkdir(resolve(dest), { recursive: true });
      const prepared = await core.exports.prepare(resolve(dest), options);
      if (!ctx.json) line(ctx, `Exporting ${prepared.photoIds.length} photos to ${prepared.dest}…`);
      const printer = progressPrinter(ctx);
      const summary = await core.exports.run(prepared, { signal: ctx.signal, onProgress: printer.onProgress });
      printer.done();
      if (ctx.json) printJson(ctx, summary);
      else for (const l of summaryLines(summary)) line(ctx, l);
      return summary.cancelled ? 130 : 0;
    } finally {
      await core.close();
    }
  },
};
