import type { AppSettings, Chat, ChatMessage, ChatRoute } from '../../../shared/api';
import { MAX_CHAT_MESSAGE_CHARS } from '../../../shared/text-limits';
import type { AnswerStore } from '../captions/answer-store';
import { errorMessage, InvalidInputError, NotFoundError, TandemError } from '../errors';
import type { EventBus } from '../event-bus';
import type { PhotoStore } from '../library/photo-store';
import type { Db } from '../store/database';
import type { BackendSettings } from './backend-factory';
import type { BlipAnswerer } from './blip-answerer';
import { ChatStore } from './chat-store';
import type { ChatBackend, ChatTurn } from './chat-types';
import { groundingPrompt } from './grounding';
import { chooseRoute, type AnswerRoute } from './route-question';

/** What one question may override of the saved settings. */
export type RunSettings = BackendSettings & Pick<AppSettings, 'temperature' | 'topP' | 'maxNewTokens'>;

export interface ChatServiceDeps {
  db: Db;
  photos: PhotoStore;
  answers: AnswerStore;
  events: EventBus;
  settings: () => AppSettings;
  blip: BlipAnswerer;
  /** Throws (with the install command) when the VQA model is not installed, before a question is stored. */
  checkBlip?: (vqaModel: string) => void;
  /** Builds the LLaVA backend the settings name (embedded, Ollama, OpenAI-compatible). */
  backend: (settings: BackendSettings) => ChatBackend;
}

export interface SendRequest {
  photoId: number;
  /** Continue this chat; without it the photo's last chat continues (a new one when it has none). */
  chatId?: number;
  text: string;
  route?: ChatRoute;
  /** Per-run backend and sampling choices (the CLI's flags); the saved settings otherwise. */
  backend?: Partial<RunSettings>;
}

export interface SendReply {
  chatId: number;
  userMessageId: number;
  assistantMessageId: number;
  route: AnswerRoute;
  /** Which model answers, e.g. 'model:blip-vqa-base', 'ollama:llava:7b'. */
  model: string;
}

/**
 * Multi-turn chats about a photo (DESIGN.md §2, §3). A question is stored with an empty answer at once;
 * the answer streams as `chat.token` events and ends with `chat.done`, when its text, model, timing and
 * token count are stored and the photo's search row picks the chat text up.
 */
export class ChatService {
  readonly store: ChatStore;
  private readonly running = new Map<number, AbortController>();
  private readonly finished = new Map<number, Promise<ChatMessage>>();

  constructor(private readonly deps: ChatServiceDeps) {
    this.store = new ChatStore(deps.db);
    this.store.failInterrupted('Tandem was closed before this answer finished.');
  }

  list(photoId: number): Chat[] {
    this.deps.photos.row(photoId);
    return this.store.listForPhoto(photoId);
  }

  newChat(photoId: number): Chat {
    this.deps.photos.row(photoId);
    return this.store.create(photoId);
  }

  /** Stores the question and starts the answer; resolves as soon as both rows exist. */
  send(req: SendRequest): SendReply {
    const text = req.text.trim();
    if (!text) throw new InvalidInputError('Type a question first.');
    // The contract caps the app's requests; the CLI (piped stdin) reaches here directly.
    if (text.length > MAX_CHAT_MESSAGE_CHARS) throw new InvalidInputError(`A message can be at most ${MAX_CHAT_MESSAGE_CHARS} characters long.`);
    const photo = this.deps.photos.row(req.photoId);
    const path = this.deps.photos.absolutePath(photo);
    const chat = this.chatFor(req.photoId, req.chatId);
    const history = this.history(chat.id);
    const route: AnswerRoute = chooseRoute(text, { requested: req.route ?? 'auto' }).route;
    const settings = { ...this.deps.settings(), ...req.backend };
    // Built before anything is stored: a missing model or a bad setting is the sender's error, not a failed answer.
    const backend = route === 'llava' ? this.deps.backend(settings) : null;
    if (route === 'blip') this.deps.checkBlip?.(settings.vqaModel);
    const model = backend ? backend.modelLabel : `model:${settings.vqaModel}`;
    const ids = this.store.addTurn(chat.id, text, route, model);
    const ctrl = new AbortController();
    this.running.set(ids.assistantMessageId, ctrl);
    let partial = '';
    let pieces = 0;
    const emitToken = (token: string): void => {
      // After a stop nothing more reaches the user, even a token that was already on its way.
      if (ctrl.signal.aborted || token === '') return;
      partial += token;
      pieces++;
      this.deps.events.emit('chat.token', { chatId: chat.id, assistantMessageId: ids.assistantMessageId, token });
    };
    const t0 = performance.now();
    const work: Promise<{ text: string; tokens: number | null; stopped: boolean }> = backend
      ? backend.generate(
          {
            imagePath: path,
            system: this.grounding(req.photoId),
            turns: [...history, { role: 'user', text }],
            sampling: { temperature: settings.temperature, topP: settings.topP, maxNewTokens: settings.maxNewTokens },
          },
          emitToken,
          ctrl.signal,
        )
      : this.deps.blip(req.photoId, path, text).then((a) => {
          emitToken(a.answer);
          return { text: a.answer, tokens: null, stopped: false };
        });
    const done = work
      .then(
        // A stopped answer is stored as the user saw it: tokens still in the pipe when the stop came are dropped.
        (r) => ({ text: ctrl.signal.aborted ? partial : r.text, tokens: ctrl.signal.aborted ? pieces : r.tokens, stopped: r.stopped || ctrl.signal.aborted, error: null }),
        (err: unknown) => ({ text: partial, tokens: null, stopped: ctrl.signal.aborted, error: err instanceof TandemError ? err.message : `Something went wrong: ${errorMessage(err)}` }),
      )
      .then((outcome) => {
        this.running.delete(ids.assistantMessageId);
        const message = this.store.finishAssistant(ids.assistantMessageId, { ...outcome, model, durationMs: performance.now() - t0 });
        this.deps.events.emit('chat.done', { chatId: chat.id, message });
        return message;
      })
      .finally(() => this.finished.delete(ids.assistantMessageId));
    // Storing can fail only if the database went away; whoever waits gets the error, nobody else must crash.
    done.catch(() => undefined);
    this.finished.set(ids.assistantMessageId, done);
    return { chatId: chat.id, ...ids, route, model };
  }

  /** Sends and waits for the whole answer (CLI, tests). Tokens still stream through `onToken`. */
  async ask(req: SendRequest, onToken?: (token: string) => void): Promise<{ reply: SendReply; message: ChatMessage }> {
    let reply: SendReply | null = null;
    const early: string[] = [];
    const off = this.deps.events.on('chat.token', (e) => {
      if (!reply) early.push(e.token);
      else if (e.assistantMessageId === reply.assistantMessageId) onToken?.(e.token);
    });
    try {
      reply = this.send(req);
      for (const t of early) onToken?.(t);
      return { reply, message: await this.wait(reply.assistantMessageId) };
    } finally {
      off();
    }
  }

  /** Resolves with the stored answer once it is complete (at once if it already is). */
  async wait(assistantMessageId: number): Promise<ChatMessage> {
    return this.finished.get(assistantMessageId) ?? this.store.message(assistantMessageId);
  }

  /** Stops an answer; the text that arrived so far is kept and marked stopped. */
  stop(assistantMessageId: number): void {
    this.running.get(assistantMessageId)?.abort();
  }

  /** Stops every answer in flight (Ctrl-C, app quit). */
  stopAll(): void {
    for (const ctrl of this.running.values()) ctrl.abort();
  }

  /** Stops what is running and waits until each stopped answer is stored, so the database can close after. */
  async close(): Promise<void> {
    this.stopAll();
    await Promise.allSettled([...this.finished.values()]);
  }

  async testBackend(override: Partial<BackendSettings> = {}): Promise<{ ok: boolean; message: string }> {
    try {
      return await this.deps.backend({ ...this.deps.settings(), ...override }).check();
    } catch (err) {
      if (err instanceof TandemError) return { ok: false, message: err.message };
      throw err;
    }
  }

  /** LLaVA's system context for the photo: BLIP's caption and earlier answers (grounding.ts). */
  grounding(photoId: number): string {
    const summary = this.deps.photos.summary(photoId);
    return groundingPrompt({
      caption: summary.caption,
      captionSource: summary.captionSource,
      answers: this.deps.answers.forPhoto(photoId),
      takenAt: summary.takenAt,
    });
  }

  private chatFor(photoId: number, chatId: number | undefined): { id: number } {
    if (chatId !== undefined) {
      const chat = this.store.row(chatId);
      if (chat.photo_id !== photoId) throw new NotFoundError(`Chat ${chatId} is not about photo ${photoId}.`);
      return chat;
    }
    return this.store.latestForPhoto(photoId) ?? this.store.create(photoId);
  }

  /** Earlier complete exchanges, oldest first; a failed answer drops its question too. */
  private history(chatId: number): ChatTurn[] {
    const messages = this.store.messages(chatId);
    const turns: ChatTurn[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const next = messages[i + 1];
      if (m.role !== 'user' || next?.role !== 'assistant') continue;
      if (next.error || next.text.trim() === '') continue;
      turns.push({ role: 'user', text: m.text }, { role: 'assistant', text: next.text });
      i++;
    }
    return turns;
  }
}
