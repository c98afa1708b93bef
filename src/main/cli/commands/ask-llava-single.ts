/**
 * `tandem ask <photo> "…" --route llava --no-grounding [--greedy] [--max-new-tokens N] [--llava-model P] [--json]`:
 * one embedded LLaVA answer from the pack's chat template alone — no BLIP facts, no system text, no chat
 * history, nothing stored — so its token ids can be compared with a reference implementation's.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Core } from '../../core/core';
import { InvalidInputError } from '../../core/errors';
import { EMBEDDED_MAX_CONTEXT_TOKENS } from '../../core/chat/embedded-backend';
import { answerOnce } from '../../core/llava/llava-single-answer';
import type { CliContext, OptionSpec, OptionValues } from '../command';
import { line, printJson, write } from '../output';
import { runOptions } from './caption-options';
import { backendOverride } from './chat-command';

export const singleAnswerOptions: Record<string, OptionSpec> = {
  greedy: { type: 'boolean', description: 'LLaVA: always the likeliest token (plain greedy decoding, as --temperature 0)' },
  'no-grounding': {
    type: 'boolean',
    description: "LLaVA (embedded): answer from the pack's template alone — no BLIP facts, no system text, no chat, nothing stored; --json adds the token ids",
  },
};

export function wantsSingleAnswer(values: OptionValues): boolean {
  return values['no-grounding'] === true;
}

/** A pack folder given as a path, else an installed pack's name (default: the saved chat model). */
function packDir(core: Core, name: string | undefined): { model: string; dir: string } {
  if (name && existsSync(join(resolve(name), 'config.json'))) return { model: name, dir: resolve(name) };
  const model = name ?? core.settings.get().chatModel;
  return { model, dir: core.models.resolve(model) };
}

export async function runSingleAnswer(ctx: CliContext, core: Core, photo: string, question: string, values: OptionValues): Promise<number> {
  const backend = values['backend'];
  if (backend !== undefined && backend !== 'embedded') throw new InvalidInputError('--no-grounding runs the embedded LLaVA only (--backend embedded).');
  const row = /^\d+$/.test(photo) ? core.photos.row(Number(photo)) : undefined;
  const imagePath = row ? core.photos.absolutePath(row) : resolve(photo);
  if (!existsSync(imagePath)) throw new InvalidInputError(`No photo at ${imagePath}.`);
  const settings = core.settings.get();
  const overrides = backendOverride(values, undefined, 'embedded');
  const greedy = values['greedy'] === true;
  const { model, dir } = packDir(core, typeof values['llava-model'] === 'string' ? values['llava-model'] : undefined);
  const answer = await answerOnce(
    {
      model,
      modelDir: dir,
      imagePath,
      question,
      system: '',
      sampling: { greedy, temperature: greedy ? 0 : (overrides.temperature ?? settings.temperature), topP: settings.topP, maxNewTokens: overrides.maxNewTokens ?? settings.maxNewTokens },
      threads: runOptions(values).threads ?? settings.threads,
      maxContextTokens: EMBEDDED_MAX_CONTEXT_TOKENS,
    },
    { onToken: (t) => !ctx.json && write(ctx, t), signal: ctx.signal },
  );
  if (ctx.json) {
    printJson(ctx, {
      path: imagePath,
      question,
      route: 'llava',
      model: `model:${model}`,
      greedy,
      answer: answer.text,
      tokenIds: answer.tokenIds,
      promptTokens: answer.promptTokens,
      tokens: answer.tokens,
      stopped: answer.stopped,
      firstTokenMs: answer.firstTokenMs === null ? null : Math.round(answer.firstTokenMs),
      ms: Math.round(answer.totalMs),
    });
  } else {
    line(ctx);
  }
  return 0;
}
