import type { Chat, ChatMessage } from '../../../shared/api';
import { NotFoundError } from '../errors';
import { refreshSearchRow } from '../search/search-index';
import { nowIso, type Db } from '../store/database';

interface MessageRow {
  id: number;
  chat_id: number;
  role: 'system' | 'user' | 'assistant';
  text: string;
  model: string | null;
  route: 'blip' | 'llava' | null;
  created_at: string;
  duration_ms: number | null;
  tokens: number | null;
  stopped: number;
  error: string | null;
}

interface ChatRow {
  id: number;
  photo_id: number;
  title: string | null;
  created_at: string;
  updated_at: string;
}

function toMessage(r: MessageRow): ChatMessage {
  return {
    id: r.id,
    chatId: r.chat_id,
    role: r.role,
    text: r.text,
    model: r.model,
    route: r.route,
    createdAt: r.created_at,
    durationMs: r.duration_ms,
    tokens: r.tokens,
    stopped: r.stopped === 1,
    error: r.error,
  };
}

export interface AssistantOutcome {
  text: string;
  model: string;
  durationMs: number;
  tokens: number | null;
  stopped: boolean;
  error: string | null;
}

/** Chats and their messages per photo. Every change that touches chat text refreshes the photo's search row. */
export class ChatStore {
  constructor(private readonly db: Db) {}

  /** The photo's chats, newest first, each with its messages in order. */
  listForPhoto(photoId: number): Chat[] {
    const chats = this.db.prepare('SELECT * FROM chats WHERE photo_id = ? ORDER BY updated_at DESC, id DESC').all(photoId) as ChatRow[];
    return chats.map((c) => this.withMessages(c));
  }

  get(chatId: number): Chat {
    return this.withMessages(this.row(chatId));
  }

  row(chatId: number): ChatRow {
    const row = this.db.prepare('SELECT * FROM chats WHERE id = ?').get(chatId) as ChatRow | undefined;
    if (!row) throw new NotFoundError(`Chat ${chatId} does not exist.`);
    return row;
  }

  /** The chat the user spoke in last for this photo, if any. */
  latestForPhoto(photoId: number): ChatRow | undefined {
    return this.db.prepare('SELECT * FROM chats WHERE photo_id = ? ORDER BY updated_at DESC, id DESC LIMIT 1').get(photoId) as ChatRow | undefined;
  }

  create(photoId: number): Chat {
    const now = nowIso();
    const info = this.db.prepare('INSERT INTO chats (photo_id, title, created_at, updated_at) VALUES (?, NULL, ?, ?)').run(photoId, now, now);
    return this.get(Number(info.lastInsertRowid));
  }

  messages(chatId: number): ChatMessage[] {
    return (this.db.prepare('SELECT * FROM messages WHERE chat_id = ? ORDER BY id').all(chatId) as MessageRow[]).map(toMessage);
  }

  message(id: number): ChatMessage {
    const row = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    if (!row) throw new NotFoundError(`Message ${id} does not exist.`);
    return toMessage(row);
  }

  /**
   * Stores the user's turn and an empty assistant turn to stream into, in one transaction, so a crash never
   * leaves a question without its (possibly failed) answer.
   */
  addTurn(chatId: number, text: string, route: 'blip' | 'llava', model: string): { userMessageId: number; assistantMessageId: number } {
    return this.db.transaction(() => {
      const chat = this.row(chatId);
      const now = nowIso();
      const insert = this.db.prepare(
        'INSERT INTO messages (chat_id, role, text, model, route, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const user = insert.run(chatId, 'user', text, null, null, now);
      const assistant = insert.run(chatId, 'assistant', '', model, route, now);
      // The first question names the chat in lists.
      if (chat.title === null) this.db.prepare('UPDATE chats SET title = ? WHERE id = ?').run(titleFrom(text), chatId);
      this.db.prepare('UPDATE chats SET updated_at = ? WHERE id = ?').run(now, chatId);
      refreshSearchRow(this.db, chat.photo_id);
      return { userMessageId: Number(user.lastInsertRowid), assistantMessageId: Number(assistant.lastInsertRowid) };
    })();
  }

  finishAssistant(messageId: number, outcome: AssistantOutcome): ChatMessage {
    return this.db.transaction(() => {
      const msg = this.message(messageId);
      this.db
        .prepare('UPDATE messages SET text = ?, model = ?, duration_ms = ?, tokens = ?, stopped = ?, error = ? WHERE id = ?')
        .run(outcome.text, outcome.model, Math.round(outcome.durationMs), outcome.tokens, outcome.stopped ? 1 : 0, outcome.error, messageId);
      this.db.prepare('UPDATE chats SET updated_at = ? WHERE id = ?').run(nowIso(), msg.chatId);
      refreshSearchRow(this.db, this.row(msg.chatId).photo_id);
      return this.message(messageId);
    })();
  }

  /**
   * Answers left empty by a run that died with the app (the process was killed mid-answer) are marked
   * failed at start-up, so the UI never waits for a stream that will not come.
   */
  failInterrupted(message: string): number {
    const info = this.db
      .prepare("UPDATE messages SET error = ? WHERE role = 'assistant' AND text = '' AND error IS NULL AND duration_ms IS NULL")
      .run(message);
    return info.changes;
  }

  private withMessages(c: ChatRow): Chat {
    return { id: c.id, photoId: c.photo_id, title: c.title, createdAt: c.created_at, updatedAt: c.updated_at, messages: this.messages(c.id) };
  }
}

function titleFrom(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}
