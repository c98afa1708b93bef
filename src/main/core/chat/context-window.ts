import type { ChatTurn } from './chat-types';

/**
 * Fits a conversation into a model's context window. The system prompt, the image and the newest user turn
 * always stay; the oldest earlier turns go first, a user turn together with the answer that followed it,
 * so the model never sees an answer without its question. The image rides on the first user turn that is
 * kept, wherever the cut falls.
 */
export interface TrimBudget {
  /** The model's context length in tokens. */
  contextTokens: number;
  /** Tokens reserved for the answer. */
  maxNewTokens: number;
  /** Tokens the image takes (729 for SigLIP-384, 576 for CLIP-336). */
  imageTokens: number;
  /** Tokens the chat template adds per turn (role markers, separators). */
  perTurnOverhead: number;
}

export interface TrimResult {
  turns: ChatTurn[];
  dropped: number;
}

export function trimTurns(system: string, turns: readonly ChatTurn[], budget: TrimBudget, countTokens: (text: string) => number): TrimResult {
  const available = budget.contextTokens - budget.maxNewTokens - budget.imageTokens - countTokens(system) - budget.perTurnOverhead;
  const cost = turns.map((t) => countTokens(t.text) + budget.perTurnOverhead);
  let start = 0;
  let total = cost.reduce((a, b) => a + b, 0);
  // Keep at least the last turn, even when it alone is over budget: the model then truncates nothing
  // of the question, and a too-long question is the user's to shorten.
  while (total > available && start < turns.length - 1) {
    const next = nextStart(turns, start);
    for (let i = start; i < next; i++) total -= cost[i] as number;
    start = next;
  }
  return { turns: turns.slice(start), dropped: start };
}

/** Where the conversation starts once its oldest exchange goes: never on an assistant turn, never past the last turn. */
function nextStart(turns: readonly ChatTurn[], start: number): number {
  let next = start + 1;
  // Never start on an assistant turn: drop it with the question it answered.
  while (next < turns.length - 1 && turns[next]?.role === 'assistant') next++;
  return Math.min(next, turns.length - 1);
}

/**
 * The oldest exchange dropped (as trimTurns drops them), for a caller that measured the rendered prompt exactly
 * and found the estimate short; null when only the last turn is left.
 */
export function dropOldestExchange(turns: readonly ChatTurn[]): ChatTurn[] | null {
  return turns.length > 1 ? turns.slice(nextStart(turns, 0)) : null;
}

/** A rough count for engines whose tokenizer Tandem does not have: ~3.5 characters per token for English. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3.5);
}
