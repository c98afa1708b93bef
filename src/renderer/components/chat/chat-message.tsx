import { useState } from 'react';
import type { ChatMessage } from '../../../shared/api';
import { modelOfSource } from '../../lib/caption-history';
import { formatDuration } from '../../lib/format';
import { CheckIcon, CopyIcon } from '../icons';

export const ROUTE_NAME = { blip: 'BLIP VQA', llava: 'LLaVA' } as const;

/** "BLIP VQA · blip-vqa-base": which model answered. */
export function answeredBy(route: 'blip' | 'llava' | null, model: string | null): string {
  const name = modelOfSource(model) ?? model;
  const family = route ? ROUTE_NAME[route] : null;
  return [family, name].filter(Boolean).join(' · ');
}

type BubbleProps = {
  role: 'user' | 'assistant' | 'system';
  text: string;
  route?: 'blip' | 'llava' | null;
  model?: string | null;
  durationMs?: number | null;
  tokens?: number | null;
  stopped?: boolean;
  streaming?: boolean;
  messageId?: number;
};

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** One turn of the conversation; answers say which model wrote them and can be copied. */
export function ChatBubble({ role, text, route = null, model = null, durationMs = null, tokens = null, stopped = false, streaming = false, messageId }: BubbleProps) {
  const [copied, setCopied] = useState(false);
  if (role === 'system') return null;
  const by = role === 'assistant' ? answeredBy(route, model) : '';
  const facts = [formatDuration(durationMs), tokens ? `${tokens} ${tokens === 1 ? 'token' : 'tokens'}` : ''].filter(Boolean).join(' · ');
  return (
    <div
      className={`bubble bubble--${role}${streaming ? ' bubble--streaming' : ''}`}
      data-role={role}
      data-route={route ?? undefined}
      data-message-id={messageId}
      data-testid={role === 'assistant' ? 'assistant-message' : 'user-message'}
    >
      {role === 'assistant' && (
        <div className="bubble__meta">
          <span className={`route-badge route-badge--${route ?? 'none'}`} data-testid="answered-by">
            {by || (streaming ? 'Choosing a model…' : 'Assistant')}
          </span>
          {stopped && <span className="bubble__stopped">Stopped</span>}
          {facts && <span className="bubble__facts">{facts}</span>}
        </div>
      )}
      <p className="bubble__text" data-testid="message-text">
        {text}
        {streaming && <span className="caret" aria-hidden="true" />}
      </p>
      {role === 'assistant' && !streaming && text && (
        <button
          type="button"
          className="icon-button icon-button--small bubble__copy"
          aria-label={copied ? 'Copied' : 'Copy message'}
          title={copied ? 'Copied' : 'Copy message'}
          onClick={() =>
            void copyText(text).then((ok) => {
              setCopied(ok);
              if (ok) setTimeout(() => setCopied(false), 1500);
            })
          }
        >
          {copied ? <CheckIcon /> : <CopyIcon />}
        </button>
      )}
    </div>
  );
}

export function StoredBubble({ m }: { m: ChatMessage }) {
  return (
    <ChatBubble
      role={m.role}
      text={m.text}
      route={m.route}
      model={m.model}
      durationMs={m.durationMs}
      tokens={m.tokens}
      stopped={m.stopped}
      messageId={m.id}
    />
  );
}
