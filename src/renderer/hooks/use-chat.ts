import { useCallback, useEffect, useRef, useState } from 'react';
import type { Chat, ChatMessage, ChatRoute } from '../../shared/api';
import { readableError } from '../lib/format';
import { useTandem, useTandemEvent } from './use-tandem';

/** The turn being answered right now: the user's words and the tokens streamed so far. */
export type PendingTurn = {
  userText: string;
  chatId: number | null;
  assistantMessageId: number | null;
  route: 'blip' | 'llava' | null;
  text: string;
  stopping: boolean;
  /** Set by `chat.done`, until the stored conversation has been reloaded. */
  final: ChatMessage | null;
};

export type ChatState = {
  /** Conversations about this photo, newest first; null while loading. */
  chats: Chat[] | null;
  current: Chat | null;
  pending: PendingTurn | null;
  /** A readable problem (chat unavailable, model missing…), shown in the panel. */
  error: string | null;
  select(chatId: number): void;
  newChat(): Promise<void>;
  send(text: string, route: ChatRoute): Promise<void>;
  stop(): void;
  clearError(): void;
};

const byNewest = (a: Chat, b: Chat) => b.updatedAt.localeCompare(a.updatedAt) || b.id - a.id;

/** Per-photo conversations (`chat.*`), with answers streamed token by token (`chat.token`, `chat.done`). */
export function useChat(photoId: number): ChatState {
  const api = useTandem();
  const [chats, setChats] = useState<Chat[] | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [pending, setPending] = useState<PendingTurn | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Tokens by assistant message id: they can arrive before `chat.send` has answered with that id. */
  const streamed = useRef(new Map<number, string>());
  /** Answers that ended, by assistant message id (`chat.done` can beat `chat.send`'s reply too). */
  const finished = useRef(new Map<number, ChatMessage>());
  const pendingRef = useRef<PendingTurn | null>(null);
  const update = useCallback((next: PendingTurn | null) => {
    pendingRef.current = next;
    setPending(next);
  }, []);

  const load = useCallback(async () => {
    try {
      const list = await api.invoke('chat.list', { photoId });
      setChats([...list].sort(byNewest));
      return list;
    } catch (err) {
      setChats([]);
      setError(readableError(err));
      return null;
    }
  }, [api, photoId]);

  useEffect(() => {
    setChats(null);
    setSelected(null);
    setError(null);
    update(null);
    streamed.current.clear();
    finished.current.clear();
    void load();
  }, [load, update]);

  useTandemEvent('chat.token', (e) => {
    streamed.current.set(e.assistantMessageId, (streamed.current.get(e.assistantMessageId) ?? '') + e.token);
    const p = pendingRef.current;
    if (p && p.assistantMessageId === e.assistantMessageId) update({ ...p, text: streamed.current.get(e.assistantMessageId) ?? '' });
  });

  const finish = useCallback(
    (p: PendingTurn, message: ChatMessage) => {
      update({ ...p, text: message.text, final: message });
      void load().then(() => {
        if (pendingRef.current?.assistantMessageId === message.id) update(null);
      });
    },
    [load, update],
  );

  useTandemEvent('chat.done', (e) => {
    finished.current.set(e.message.id, e.message);
    const p = pendingRef.current;
    if (p && p.assistantMessageId === e.message.id) finish(p, e.message);
  });

  const current = chats === null ? null : (chats.find((c) => c.id === selected) ?? (selected === null ? (chats[0] ?? null) : null));

  const send = useCallback(
    async (text: string, route: ChatRoute) => {
      setError(null);
      const turn: PendingTurn = { userText: text, chatId: current?.id ?? null, assistantMessageId: null, route: null, text: '', stopping: false, final: null };
      update(turn);
      try {
        const r = await api.invoke('chat.send', { photoId, text, route, ...(current ? { chatId: current.id } : {}) });
        setSelected(r.chatId);
        const soFar = pendingRef.current;
        if (soFar !== turn && soFar?.userText !== text) return;
        const started: PendingTurn = { ...turn, chatId: r.chatId, assistantMessageId: r.assistantMessageId, route: r.route, text: streamed.current.get(r.assistantMessageId) ?? '' };
        update(started);
        const done = finished.current.get(r.assistantMessageId);
        if (done) finish(started, done);
      } catch (err) {
        update(null);
        setError(readableError(err));
      }
    },
    [api, photoId, current, update, finish],
  );

  const stop = useCallback(() => {
    const p = pendingRef.current;
    if (!p || p.assistantMessageId === null || p.final) return;
    update({ ...p, stopping: true });
    api.invoke('chat.stop', { assistantMessageId: p.assistantMessageId }).catch((err: unknown) => setError(readableError(err)));
  }, [api, update]);

  const newChat = useCallback(async () => {
    try {
      const chat = await api.invoke('chat.new', { photoId });
      setChats((all) => [chat, ...(all ?? []).filter((c) => c.id !== chat.id)]);
      setSelected(chat.id);
    } catch (err) {
      setError(readableError(err));
    }
  }, [api, photoId]);

  return {
    chats,
    current,
    pending,
    error,
    select: setSelected,
    newChat,
    send,
    stop,
    clearError: () => setError(null),
  };
}
