import { resolve } from 'node:path';
import { routeQuestion } from '../../core/chat/route-question';
import { openCore } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { CliCommand } from '../command';
import { line, printJson } from '../output';
import { generationOptions, runOptions, settingsFromOptions } from './caption-options';
import { backendOptions, backendOverride, libraryPhoto, routeOption, streamAnswer } from './chat-command';

export const DEFAULT_VQA_MODEL = 'blip-vqa-base';

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'Ask about a photo: short factual questions go to BLIP VQA ("how many dogs?" → "two"), open ones to LLaVA.',
  usage: 'ask <photo> "<question>" [--route auto|blip|llava] [--model M] [--model-dir D] [--backend B] [--llava-model M]',
  options: {
    ...generationOptions,
    ...backendOptions,
    route: { type: 'string', description: 'auto (default): BLIP for short factual questions, LLaVA otherwise; or force blip / llava' },
    'llava-model': { type: 'string', description: 'engine model (e.g. llava:7b) or embedded pack for LLaVA answers' },
  },
  async run(ctx, positionals, values) {
    const [photo, ...words] = positionals;
    const question = words.join(' ').trim();
    if (!photo || !question) throw new InvalidInputError('Usage: tandem ask <photo-id|path> "<question>" [--route auto|blip|llava]');
    const requested = routeOption(values) ?? 'auto';
    const route = requested === 'auto' ? routeQuestion(question).route : requested;
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      if (route === 'llava') {
        // LLaVA answers are chat turns: they continue the photo's last chat and are stored and searchable.
        const row = libraryPhoto(core, photo);
        const llavaModel = typeof values['llava-model'] === 'string' ? values['llava-model'] : undefined;
        const backend = backendOverride(values, llavaModel, core.settings.get().chatBackend);
        const { reply, message } = await streamAnswer(ctx, core, { photoId: row.id, text: question, route: 'llava', backend });
        if (ctx.json) {
          printJson(ctx, { photoId: row.id, question, route: 'llava', answer: message.text, model: message.model, stopped: message.stopped, error: message.error, ms: message.durationMs, chatId: reply.chatId });
        }
        return message.error ? 1 : 0;
      }
      const row = /^\d+$/.test(photo) ? core.photos.row(Number(photo)) : core.photos.findByPath(resolve(photo));
      const path = row ? core.photos.absolutePath(row) : resolve(photo);
      const ref = core.captioning.resolveModel({
        model: typeof values['model'] === 'string' ? values['model'] : DEFAULT_VQA_MODEL,
        ...(typeof values['model-dir'] === 'string' ? { modelDir: values['model-dir'] } : {}),
      });
      const reply = await core.vqa.ask({
        photoId: row?.id ?? null,
        path,
        question,
        model: ref,
        threads: runOptions(values).threads ?? 2,
        settings: core.captioning.settings(settingsFromOptions(values)),
      });
      if (ctx.json) printJson(ctx, { photoId: row?.id ?? null, path, question, route: 'blip', answer: reply.answer, model: ref.name, ms: Math.round(reply.ms) });
      else line(ctx, `${reply.answer}    (BLIP · ${ref.name})`);
      return 0;
    } finally {
      await core.close();
    }
  },
};
