import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { EmbedScope } from '../../core/retrieval/embedding-service';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';
import { runOptions } from './caption-options';
import { captionProgressPrinter } from './caption-progress';

export const embedCommand: CliCommand = {
  name: 'embed',
  summary: 'Read photos for search by meaning (one BLIP vision pass per photo content; resumable).',
  usage: 'embed [--all|--folder F] [--model M] [--model-dir D] [--batch-size N] [--threads N]',
  options: {
    all: { type: 'boolean', description: 'every readable photo without an embedding (the default)' },
    folder: { type: 'string', description: 'only photos in this folder (relative to its library folder)' },
    model: { type: 'string', description: 'retrieval pack (default: the settings’, blip-itm-base-coco)' },
    'model-dir': { type: 'string', description: 'a BlipForImageTextRetrieval folder in Hugging Face layout, used directly' },
    'batch-size': { type: 'string', description: 'photos per inference batch (default 4)' },
    threads: { type: 'string', description: 'inference threads' },
    'retry-failed': { type: 'boolean', description: 'try again photos that failed before' },
  },
  async run(ctx, positionals, values) {
    if (positionals.length > 0) throw new InvalidInputError('tandem embed takes no photo names; use --folder to narrow it.');
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const model = {
        ...(typeof values['model'] === 'string' ? { model: values['model'] } : {}),
        ...(typeof values['model-dir'] === 'string' ? { modelDir: values['model-dir'] } : {}),
      };
      const ref = core.embeddings.resolveModel(model);
      const scope: EmbedScope = typeof values['folder'] === 'string' ? { kind: 'folder', folder: values['folder'] } : { kind: 'all' };
      const queued = core.embeddings.enqueue(scope, ref.name, { retryFailed: values['retry-failed'] === true });
      const waiting = core.embeddings.jobs.counts(ref.name).queued;
      if (!ctx.json) line(ctx, `Reading photos for search by meaning with ${ref.name}: ${waiting} to read (${queued} newly queued).`);
      const printer = captionProgressPrinter(ctx);
      const result = await core.embeddings.run({ ...model, model: ref.name, ...runOptions(values), signal: ctx.signal, onProgress: printer.onProgress });
      printer.done();
      const stopped = result.state === 'paused';
      if (ctx.json) printJson(ctx, { ...result, status: core.embeddings.status() });
      else line(ctx, `${stopped ? 'Stopped' : 'Done'}: ${result.done} read, ${result.failed} failed${stopped ? '; run the command again to continue' : ''}.`);
      return stopped ? 130 : 0;
    } finally {
      await core.close();
    }
  },
};
