import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChatMessage, ChatRoute } from '../../../shared/api';
import { checkEngineUrl } from '../../../shared/engine-url';
import type { BackendSettings } from '../../core/chat/backend-factory';
import type { RunSettings, SendReply } from '../../core/chat/chat-service';
import { openCore, type Core } from '../../core/core';
import { InvalidInputError, NotFoundError } from '../../core/errors';
import type { PhotoRow } from '../../core/library/photo-store';
import type { CliCommand, CliContext, OptionSpec, OptionValues } from '../command';
import { errLine, line, printJsonLine, write } from '../output';

/** Backend options shared by `chat` and `ask --route llava`. */
export const backendOptions: Record<string, OptionSpec> = {
  backend: { type: 'string', description: 'LLaVA backend: embedded | ollama | openai (default: the saved setting)' },
  'base-url': { type: 'string', description: 'engine address, e.g. http://127.0.0.1:11434 (Ollama) or http://127.0.0.1:8080 (llama.cpp)' },
  'max-new-tokens': { type: 'string', description: 'longest answer in tokens (default 256)' },
  temperature: { type: 'string', description: '0 = always the likeliest word; higher = more varied (default 0.2)' },
};

const BACKENDS = ['embedded', 'ollama', 'openai'] as const;
const ROUTES = ['auto', 'blip', 'llava'] as const;

export function routeOption(values: OptionValues): ChatRoute | undefined {
  const v = values['route'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(ROUTES as readonly string[]).includes(v)) throw new InvalidInputError(`--route must be auto, blip or llava, got “${String(v)}”.`);
  return v as ChatRoute;
}

/** Per-run backend settings from the command line; `model` is the engine's model or the embedded pack's name. */
export function backendOverride(values: OptionValues, model: string | undefined, savedBackend: BackendSettings['chatBackend']): Partial<RunSettings> {
  const out: Partial<RunSettings> = {};
  const backend = values['backend'];
  if (backend !== undefined) {
    if (typeof backend !== 'string' || !(BACKENDS as readonly string[]).includes(backend)) {
      throw new InvalidInputError(`--backend must be embedded, ollama or openai, got “${String(backend)}”.`);
    }
    out.chatBackend = backend as BackendSettings['chatBackend'];
  }
  if (typeof values['base-url'] === 'string') {
    const check = checkEngineUrl(values['base-url']);
    if (!check.ok) throw new InvalidInputError(`--base-url: ${check.reason}`);
    out.engineBaseUrl = values['base-url'];
  }
  if (model) {
    if ((out.chatBackend ?? savedBackend) === 'embedded') out.chatModel = model;
    else out.engineModel = model;
  }
  if (values['max-new-tokens'] !== undefined) {
    const n = Number(values['max-new-tokens']);
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new InvalidInputError('--max-new-tokens must be a whole number from 1 to 4096.');
    out.maxNewTokens = n;
  }
  if (values['temperature'] !== undefined) {
    const t = Number(values['temperature']);
    if (!(t >= 0 && t <= 2)) throw new InvalidInputError('--temperature must be a number from 0 to 2.');
    out.temperature = t;
  }
  return out;
}

/**
 * One line for stderr when --base-url points the chat at another machine: the photo leaves this computer with
 * every question (shared/engine-url.ts decides what counts as this machine, as the settings screen does).
 */
export function remoteEngineNotice(override: Partial<RunSettings>, savedBackend: BackendSettings['chatBackend']): string | null {
  if (override.engineBaseUrl === undefined || (override.chatBackend ?? savedBackend) === 'embedded') return null;
  const check = checkEngineUrl(override.engineBaseUrl);
  return check.ok && !check.thisMachine ? `Note: the engine is not on this computer: photos will be sent to ${check.host}.` : null;
}

/** A photo by library id or by path; chats are stored per library photo, so it must be indexed. */
export function libraryPhoto(core: Core, photo: string): PhotoRow {
  if (/^\d+$/.test(photo)) return core.photos.row(Number(photo));
  const row = core.photos.findByPath(resolve(photo));
  if (!row) {
    throw new NotFoundError(`${resolve(photo)} is not in the library. Index its folder first (tandem index <folder>), then talk about it.`);
  }
  return row;
}

function who(reply: Pick<SendReply, 'route' | 'model'>): string {
  return `${reply.route === 'blip' ? 'BLIP' : 'LLaVA'} · ${reply.model.replace(/^model:/, '')}`;
}

/**
 * Sends one question and streams the answer to stdout. Ctrl-C stops the answer within one token and keeps
 * what arrived; the returned message says whether it was stopped or failed.
 */
export async function streamAnswer(
  ctx: CliContext,
  core: Core,
  send: Parameters<Core['chat']['send']>[0],
): Promise<{ reply: SendReply; message: ChatMessage }> {
  const reply = core.chat.send(send);
  const off = core.events.on('chat.token', (e) => {
    if (e.assistantMessageId === reply.assistantMessageId && !ctx.json) write(ctx, e.token);
  });
  const onAbort = (): void => core.chat.stop(reply.assistantMessageId);
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (!ctx.json) write(ctx, `[${who(reply)}] `);
  try {
    const message = await core.chat.wait(reply.assistantMessageId);
    if (!ctx.json) {
      ctx.stdout.write('\n');
      if (message.stopped) ctx.stderr.write('(stopped)\n');
      if (message.error) errLine(ctx, `tandem: ${message.error}`);
    }
    return { reply, message };
  } finally {
    off();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export const chatCommand: CliCommand = {
  name: 'chat',
  summary: 'Talk about a photo, one question per line on stdin (works piped); LLaVA or BLIP answers, streamed.',
  usage: 'chat <photo> [--backend embedded|ollama|openai] [--base-url URL] [--model M] [--route auto|blip|llava] [--new]',
  options: {
    ...backendOptions,
    model: { type: 'string', description: 'engine model (e.g. llava:7b) or embedded pack (default: the saved setting)' },
    route: { type: 'string', description: 'auto (default): short factual questions to BLIP, the rest to LLaVA; or force blip / llava' },
    new: { type: 'boolean', description: 'start a new chat instead of continuing the last one' },
    chat: { type: 'string', description: 'continue this chat id' },
  },
  async run(ctx, positionals, values) {
    const [photo, ...extra] = positionals;
    if (!photo || extra.length > 0) throw new InvalidInputError('Usage: tandem chat <photo-id|path> [--backend …] (then type questions, one per line)');
    const route = routeOption(values) ?? 'auto';
    const core = openCore({ dataDir: ctx.dataDir });
    try {
      const savedBackend = core.settings.get().chatBackend;
      const backend = backendOverride(values, typeof values['model'] === 'string' ? values['model'] : undefined, savedBackend);
      const notice = remoteEngineNotice(backend, savedBackend);
      if (notice) errLine(ctx, notice);
      const row = libraryPhoto(core, photo);
      let chatId: number | undefined;
      if (values['new']) chatId = core.chat.newChat(row.id).id;
      else if (typeof values['chat'] === 'string') chatId = core.chat.store.row(Number(values['chat'])).id;
      const summary = core.photos.summary(row.id);
      if (!ctx.json) {
        errLine(
          ctx,
          `Talking about ${summary.relPath}${summary.caption ? ` (“${summary.caption}”)` : ''}. One question per line; /new starts a new chat, an empty input or Ctrl-D ends.`,
        );
      }
      const interactive = (ctx.stdin as { isTTY?: boolean }).isTTY === true;
      const rl = createInterface({ input: ctx.stdin, terminal: false });
      let failures = 0;
      if (interactive) ctx.stdout.write('> ');
      for await (const raw of rl) {
        if (ctx.signal.aborted) break;
        const text = raw.trim();
        if (text === '/quit' || text === '/exit') break;
        if (text === '/new') {
          chatId = core.chat.newChat(row.id).id;
          if (!ctx.json) ctx.stderr.write('(new chat)\n');
        } else if (text) {
          const { reply, message } = await streamAnswer(ctx, core, { photoId: row.id, text, route, backend, ...(chatId !== undefined ? { chatId } : {}) });
          chatId = reply.chatId;
          if (message.error) failures++;
          // One JSON object per line (NDJSON), so a script can read answers as they complete.
          if (ctx.json) printJsonLine(ctx, { chatId: reply.chatId, question: text, route: reply.route, model: message.model, answer: message.text, stopped: message.stopped, error: message.error, ms: message.durationMs, tokens: message.tokens });
          if (ctx.signal.aborted) break;
        }
        if (interactive) ctx.stdout.write('> ');
      }
      rl.close();
      if (interactive) line(ctx);
      return failures > 0 ? 1 : 0;
    } finally {
      await core.close();
    }
  },
};
