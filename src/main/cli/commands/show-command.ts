import { resolve } from 'node:path';
import { openCore, type Core } from '../../core/core';
import { NotFoundError } from '../../core/errors';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';

/** A photo named on the command line: a numeric id, or a path inside a library folder. */
export function resolvePhotoArg(core: Core, arg: string): number {
  if (/^\d+$/.test(arg)) {
    core.photos.row(Number(arg));
    return Number(arg);
  }
  const row = core.photos.findByPath(resolve(arg));
  if (!row) throw new NotFoundError(`${arg} is not a photo in the library (index its folder first: tandem index <folder>).`);
  return row.id;
}

export const showCommand: CliCommand = {
  name: 'show',
  summary: 'Show one photo: status, size, date, camera, GPS, captions and their history.',
  usage: 'show <photo-id|path>',
  options: {},
  async run(ctx, positionals) {
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const arg = positionals[0];
      if (!arg) throw new NotFoundError('Name a photo: tandem show <photo-id|path>');
      const id = resolvePhotoArg(core, arg);
      const d = core.photos.detail(id, core.captions.history(id));
      if (ctx.json) {
        printJson(ctx, d);
        return 0;
      }
      line(ctx, `Photo ${d.id}: ${d.path}`);
      line(ctx, `  status:   ${d.status}${d.statusReason ? ` (${d.statusReason})` : ''}`);
      if (d.width) line(ctx, `  size:     ${d.width}×${d.height} ${d.format?.toUpperCase() ?? ''}, ${(d.size / 1024).toFixed(0)} KiB`);
      if (d.takenAt) line(ctx, `  taken:    ${d.takenAt}`);
      if (d.cameraMake || d.cameraModel) line(ctx, `  camera:   ${[d.cameraMake, d.cameraModel].filter(Boolean).join(' ')}`);
      if (d.gpsLat !== null) line(ctx, `  GPS:      ${d.gpsLat.toFixed(5)}, ${d.gpsLon?.toFixed(5)}`);
      if (d.tags.length) line(ctx, `  tags:     ${d.tags.join(', ')}`);
      line(ctx, `  caption:  ${d.caption ? `“${d.caption}” (${d.captionSource})` : '(none)'}`);
      for (const c of d.captions) line(ctx, `    ${c.createdAt}  ${withPrecision(c.source, c.settings).padEnd(18)} ${c.text || '(cleared)'}`);
      return 0;
    } finally {
      await core.close();
    }
  },
};

/** 'model:blip-base' made at int8 → 'model:blip-base · int8'; captions without a recorded precision as they are. */
function withPrecision(source: string, settings: string | null): string {
  if (!source.startsWith('model:') || !settings) return source;
  try {
    const p = (JSON.parse(settings) as Record<string, unknown> | null)?.['precision'];
    return p === 'fp32' || p === 'int8' ? `${source} · ${p}` : source;
  } catch {
    return source;
  }
}
