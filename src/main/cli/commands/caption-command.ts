import { resolve } from 'node:path';
import { openCore, type Core } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import { captionRecord, captionSettingsKey, DEFAULT_CAPTION_BATCH_SIZE } from '../../core/jobs/caption-settings';
import type { CaptionScope } from '../../core/jobs/caption-service';
import type { CliCommand, CliContext, OptionValues } from '../command';
import { line, printJson } from '../output';
import { batchOptions, generationOptions, precisionFromOptions, precisionOptions, runOptions, settingsFromOptions } from './caption-options';
import { captionProgressPrinter } from './caption-progress';
import { terminalText } from '../terminal-text';

/** Queues and runs captioning for library photos, then prints a summary. Shared by `caption` and `index --caption`. */
export async function captionLibrary(ctx: CliContext, core: Core, scope: CaptionScope, values: OptionValues): Promise<number> {
  const ref = core.captioning.resolveModel({
    ...(typeof values['model'] === 'string' ? { model: values['model'] } : {}),
    ...(typeof values['model-dir'] === 'string' ? { modelDir: values['model-dir'] } : {}),
  });
  const settings = core.captioning.settings(settingsFromOptions(values));
  const precision = precisionFromOptions(values) ?? 'fp32';
  const queued = core.captioning.enqueue(scope, ref.name, settings, { regenerate: values['regenerate'] === true });
  const waiting = core.captioning.jobs.counts(ref.name).queued;
  if (!ctx.json) line(ctx, `Captioning with ${ref.name} · ${precision}: ${waiting} photos to caption (${queued} newly queued).`);
  const printer = captionProgressPrinter(ctx);
  const result = await core.captioning.run({
    model: ref.name,
    modelDir: ref.dir,
    settings,
    precision,
    ...runOptions(values),
    signal: ctx.signal,
    onProgress: printer.onProgress,
  });
  printer.done();
  const failures = core.captioning.jobs.failures(50).filter((f) => f.model === ref.name && f.settings_key === captionSettingsKey(settings));
  if (ctx.json) {
    printJson(ctx, { ...result, failures: failures.map((f) => ({ photoId: f.photo_id, path: f.rel_path, error: f.error })) });
  } else {
    const stopped = result.state === 'paused';
    line(ctx, `${stopped ? 'Stopped' : 'Done'}: ${result.done} captioned, ${result.failed} failed${stopped ? '; run the command again to continue' : ''}.`);
    for (const f of failures) line(ctx, terminalText(`  failed: ${f.rel_path}: ${f.error}`, { oneLine: true }));
  }
  return result.state === 'paused' ? 130 : 0;
}

export const captionCommand: CliCommand = {
  name: 'caption',
  summary: 'Caption photos with BLIP: given photos, or --all / --missing / --folder of the library.',
  usage: 'caption [<photo…>] [--all|--missing|--folder F] [--model M] [--precision fp32|int8] [--beams N] [--prompt …]',
  options: {
    all: { type: 'boolean', description: 'every decodable photo in the library' },
    missing: { type: 'boolean', description: 'photos without any caption' },
    folder: { type: 'string', description: 'photos in this folder (relative to its library folder)' },
    ...generationOptions,
    ...precisionOptions,
    ...batchOptions,
  },
  async run(ctx, positionals, values) {
    precisionFromOptions(values);
    const scopes = [values['all'] === true, values['missing'] === true, typeof values['folder'] === 'string', positionals.length > 0].filter(Boolean);
    if (scopes.length !== 1) {
      throw new InvalidInputError('Say what to caption: photo ids or paths, or one of --all, --missing, --folder <folder>.');
    }
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      if (positionals.length > 0) return await captionPhotos(ctx, core, positionals, values);
      const scope: CaptionScope =
        values['all'] === true ? { kind: 'all' } : values['missing'] === true ? { kind: 'missing' } : { kind: 'folder', folder: String(values['folder']) };
      return await captionLibrary(ctx, core, scope, values);
    } finally {
      await core.close();
    }
  },
};

/**
 * Photos named on the command line. Library photos get a stored caption (a user edit stays shown);
 * any other image file is captioned and printed without touching the library.
 */
async function captionPhotos(ctx: CliContext, core: Core, args: string[], values: OptionValues): Promise<number> {
  const ref = core.captioning.resolveModel({
    ...(typeof values['model'] === 'string' ? { model: values['model'] } : {}),
    ...(typeof values['model-dir'] === 'string' ? { modelDir: values['model-dir'] } : {}),
  });
  const settings = core.captioning.settings(settingsFromOptions(values));
  const precision = precisionFromOptions(values) ?? 'fp32';
  const items = args.map((arg, i) => {
    const row = /^\d+$/.test(arg) ? core.photos.row(Number(arg)) : core.photos.findByPath(resolve(arg));
    return { jobId: i, photoId: row?.id ?? -1, path: row ? core.photos.absolutePath(row) : resolve(arg) };
  });
  const client = core.captioning.ensureClient();
  await client.load({ model: ref.name, modelDir: ref.dir, cacheDir: core.paths.modelCacheDir, threads: runOptions(values).threads ?? 2, precision });
  const { batchSize = DEFAULT_CAPTION_BATCH_SIZE } = runOptions(values);
  const out: { photoId: number | null; path: string; caption: string | null; error: string | null; model: string; precision: string }[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const reply = await client.caption({ items: items.slice(i, i + batchSize), settings });
    for (const r of reply.results) {
      const item = items[r.jobId]!;
      if (r.ok && item.photoId >= 0) core.captions.add(item.photoId, `model:${ref.name}`, r.text, captionRecord(settings, precision));
      out.push({
        photoId: item.photoId >= 0 ? item.photoId : null,
        path: item.path,
        caption: r.ok ? r.text : null,
        error: r.ok ? null : r.error,
        model: ref.name,
        precision,
      });
    }
  }
  if (ctx.json) printJson(ctx, out.length === 1 ? out[0] : out);
  else for (const o of out) line(ctx, terminalText(o.caption !== null ? `${o.path}: ${o.caption}` : `${o.path}: failed: ${o.error}`, { oneLine: true }));
  return out.some((o) => o.error) ? 1 : 0;
}
