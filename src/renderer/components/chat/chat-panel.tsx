import { useEffect, useId, useRef, useState } from 'react';
import type { ChatRoute } from '../../../shared/api';
import { useChat } from '../../hooks/use-chat';
import { formatTimestamp } from '../../lib/format';
import { PlusIcon, SendIcon, StopIcon } from '../icons';
import { ChatBubble, StoredBubble } from './chat-message';

const ROUTES: { value: ChatRoute; label: string; hint: string }[] = [
  { value: 'auto', label: 'Auto', hint: 'Short factual questions go to BLIP, open ones to LLaVA' },
  { value: 'blip', label: 'BLIP', hint: 'BLIP VQA: short, precise answers' },
  { value: 'llava', label: 'LLaVA', hint: 'LLaVA: open-ended conversation' },
];

const SUGGESTIONS = ['What colour is it?', 'Describe this photo in detail.'];

/** Conversations about one photo: streamed answers, stop, the model on every answer, route choice, history, copy. */
export function ChatPanel({ photoId }: { photoId: number }) {
  const chat = useChat(photoId);
  const [text, setText] = useState('');
  const [route, setRoute] = useState<ChatRoute>('auto');
  const log = useRef<HTMLDivElement | null>(null);
  const input = useRef<HTMLTextAreaElement | null>(null);
  const id = useId();
  const streaming = chat.pending !== null && chat.pending.final === null;

  // Follow the conversation as it grows.
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [chat.current, chat.pending?.text, chat.pending?.userText]);

  const send = (words = text) => {
    const t = words.trim();
    if (!t || streaming) return;
    setText('');
    void chat.send(t, route);
  };

  const messages = chat.current?.messages ?? [];
  const pending = chat.pending;
  // The stored conversation may already hold the turn being finished; never show it twice.
  const showPending = pending !== null && !(pending.final && messages.some((m) => m.id === pending.final!.id));

  return (
    <div className="chat" data-testid="chat-panel">
      <div className="chat__bar">
        <label className="visually-hidden" htmlFor={`${id}-history`}>
          Conversation
        </label>
        <select
          id={`${id}-history`}
          className="select chat__history"
          value={chat.current?.id ?? ''}
          onChange={(e) => chat.select(Number(e.target.value))}
          disabled={!chat.chats || chat.chats.length === 0}
        >
          {(!chat.chats || chat.chats.length === 0) && <option value="">New conversation</option>}
          {chat.chats?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.title || `Chat of ${formatTimestamp(c.createdAt)}`} ({c.messages.filter((m) => m.role !== 'system').length})
            </option>
          ))}
        </select>
        <button type="button" className="button button--quiet button--small" onClick={() => void chat.newChat()} disabled={streaming}>
          <PlusIcon />
          <span>New chat</span>
        </button>
      </div>

      <div ref={log} className="chat__log" role="log" aria-label="Conversation" aria-live="polite" aria-busy={streaming}>
        {messages.length === 0 && !showPending && (
          <div className="chat__empty">
            <p>Ask anything about this photo. Short factual questions are answered by BLIP, open ones by LLaVA.</p>
            <div className="chat__suggestions">
              {SUGGESTIONS.map((s) => (
                <button key={s} type="button" className="suggestion" onClick={() => send(s)}>
                  {s}
                </button>
              ))}
            </div>
          </div>
        )}
        {messages.map((m) => (
          <StoredBubble key={m.id} m={m} />
        ))}
        {showPending && pending && (
          <>
            <ChatBubble role="user" text={pending.userText} />
            <ChatBubble
              role="assistant"
              text={pending.text}
              route={pending.final?.route ?? pending.route}
              model={pending.final?.model ?? null}
              stopped={pending.final?.stopped ?? false}
              streaming={pending.final === null}
              {...(pending.assistantMessageId !== null ? { messageId: pending.assistantMessageId } : {})}
            />
          </>
        )}
      </div>

      {chat.error && (
        <div className="inline-error" role="alert">
          {chat.error}
          <button type="button" className="button button--link" onClick={chat.clearError}>
            Dismiss
          </button>
        </div>
      )}

      <form
        className="chat__composer"
        onSubmit={(e) => {
          e.preventDefault();
          send();
        }}
      >
        <div className="segmented" role="radiogroup" aria-label="Route">
          {ROUTES.map((r) => (
            <label key={r.value} className={`segmented__option${route === r.value ? ' segmented__option--on' : ''}`} title={r.hint}>
              <input type="radio" name={`${id}-route`} value={r.value} checked={route === r.value} onChange={() => setRoute(r.value)} />
              <span>{r.label}</span>
            </label>
          ))}
        </div>
        <div className="chat__input-row">
          <textarea
            ref={input}
            className="chat__input"
            aria-label="Message"
            placeholder="Ask about this photo…"
            rows={2}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                send();
              }
            }}
          />
          {streaming ? (
            <button type="button" className="button button--danger" onClick={chat.stop} disabled={chat.pending?.stopping || chat.pending?.assistantMessageId === null}>
              <StopIcon />
              <span>Stop</span>
            </button>
          ) : (
            <button type="submit" className="button button--primary" disabled={!text.trim()}>
              <SendIcon />
              <span>Send</span>
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
