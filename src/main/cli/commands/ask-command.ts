import { resolve } from 'node:path';
import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';
import { generationOptions, runOptions, settingsFromOptions } from './caption-options';

export const DEFAULT_VQA_MODEL = 'blip-vqa-base';

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'Ask a short factual question about a photo; BLIP VQA answers ("how many dogs?" → "two").',
  usage: 'ask <photo> "<question>" [--model M] [--model-dir D]',
  options: { ...generationOptions },
  async run(ctx, positionals, values) {
    const [photo, ...words] = positionals;
    const question = words.join(' ').trim();
    if (!photo || !question) throw new InvalidInputError('Usage: tandem ask <photo-id|path> "<question>"');
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const row = /^\d+$/.test(photo) ? core.photos.row(Number(photo)) : core.photos.findByPath(resolve(photo));
      const path = row ? core.photos.absolutePath(row) : resolve(photo);
      const ref = core.captioning.resolveModel({
        model: typeof values['model'] === 'string' ? values['model'] : DEFAULT_VQA_MODEL,
        ...(typeof values['model-dir'] === 'string' ? { modelDir: values['model-dir'] } : {}),
      });
      const client = core.captioning.ensureClient();
      await client.load({ model: ref.name, modelDir: ref.dir, cacheDir: core.paths.modelCacheDir, threads: runOptions(values).threads ?? 2 });
      const reply = await client.answer({ path, question, settings: core.captioning.settings(settingsFromOptions(values)) });
      if (row) {
        core.answers.add(row.id, question, reply.answer, `model:${ref.name}`);
      }
      if (ctx.json) printJson(ctx, { photoId: row?.id ?? null, path, question, answer: reply.answer, model: ref.name, ms: Math.round(reply.ms) });
      else line(ctx, `${reply.answer}    (${ref.name})`);
      return 0;
    } finally {
      await core.close();
    }
  },
};
