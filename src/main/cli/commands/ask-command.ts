import { resolve } from 'node:path';
import { chooseRoute } from '../../core/chat/route-question';
import { openCore, type Core } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import type { ChatRoute } from '../../../shared/api';
import { MAX_CHAT_MESSAGE_CHARS, MAX_QUESTION_CHARS } from '../../../shared/text-limits';
import type { CliCommand, OptionValues } from '../command';
import { errLine, line, printJson } from '../output';
import { generationOptions, runOptions, settingsFromOptions } from './caption-options';
import { backendOptions, backendOverride, libraryPhoto, remoteEngineNotice, routeOption, streamAnswer } from './chat-command';
import { namedModelKind } from './named-model';
import { runSingleAnswer, singleAnswerOptions, wantsSingleAnswer } from './ask-llava-single';

export const DEFAULT_VQA_MODEL = 'blip-vqa-base';

export const askCommand: CliCommand = {
  name: 'ask',
  summary: 'Ask about a photo: short factual questions go to BLIP VQA ("how many dogs?" → "two"), open ones to LLaVA; --model picks BLIP.',
  usage: 'ask <photo> "<question>" [--route auto|blip|llava] [--model M] [--model-dir D] [--backend B] [--llava-model M] [--greedy] [--no-grounding]',
  options: {
    ...generationOptions,
    ...backendOptions,
    route: { type: 'string', description: 'auto (default): BLIP for short factual questions, LLaVA otherwise; or force blip / llava' },
    'llava-model': { type: 'string', description: 'engine model (e.g. llava:7b) or embedded pack for LLaVA answers' },
    ...singleAnswerOptions,
  },
  async run(ctx, positionals, values) {
    const [photo, ...words] = positionals;
    const question = words.join(' ').trim();
    if (!photo || !question) throw new InvalidInputError('Usage: tandem ask <photo-id|path> "<question>" [--route auto|blip|llava]');
    const requested = routeOption(values) ?? 'auto';
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const route = chooseRoute(question, { requested, namedModel: await blipModelNamed(core, values, requested) }).route;
      // The same limits the app's requests have (text-limits.ts).
      const limit = route === 'blip' ? MAX_QUESTION_CHARS : MAX_CHAT_MESSAGE_CHARS;
      if (question.length > limit) throw new InvalidInputError(`A question for ${route === 'blip' ? 'BLIP' : 'LLaVA'} can be at most ${limit} characters long.`);
      if (route === 'llava') {
        // Deterministic mode (ask-llava-single.ts): the pack's template alone, nothing stored.
        if (wantsSingleAnswer(values)) return await runSingleAnswer(ctx, core, photo, question, values);
        // LLaVA answers are chat turns: they continue the photo's last chat and are stored and searchable.
        const row = libraryPhoto(core, photo);
        const llavaModel = typeof values['llava-model'] === 'string' ? values['llava-model'] : undefined;
        const savedBackend = core.settings.get().chatBackend;
        const backend = backendOverride(values, llavaModel, savedBackend);
        const notice = remoteEngineNotice(backend, savedBackend);
        if (notice) errLine(ctx, notice);
        if (values['greedy'] === true) backend.temperature = 0;
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

/**
 * `--model` and `--model-dir` name the BLIP VQA model, so naming one sends the question to BLIP whatever its
 * wording ("color of the sky" with --model blip-vqa-base must not end up with LLaVA). A model that cannot
 * answer there, or a forced LLaVA route, is a contradiction the user hears about before anything runs.
 */
async function blipModelNamed(core: Core, values: OptionValues, requested: ChatRoute): Promise<'blip' | null> {
  const model = typeof values['model'] === 'string' ? values['model'] : undefined;
  const modelDir = typeof values['model-dir'] === 'string' ? values['model-dir'] : undefined;
  if (model === undefined && modelDir === undefined) return null;
  const label = modelDir ?? model!;
  if (requested === 'llava') {
    throw new InvalidInputError('--model and --model-dir name the BLIP model, which does not answer with --route llava. Name the LLaVA model with --llava-model.');
  }
  const kind = await namedModelKind(core, { ...(model !== undefined ? { model } : {}), ...(modelDir !== undefined ? { modelDir } : {}) });
  if (kind === 'llava') throw new InvalidInputError(`${label} is a LLaVA model; name it with --llava-model (and --backend embedded).`);
  if (kind === 'blip-caption') {
    throw new InvalidInputError(`${label} is a BLIP captioning model and cannot answer questions; name a BLIP VQA model such as ${DEFAULT_VQA_MODEL}.`);
  }
  return 'blip';
}
