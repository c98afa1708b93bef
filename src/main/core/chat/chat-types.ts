/** What a chat backend is given and what it gives back; shared by the embedded and engine backends. */

/** One turn of the conversation as the model sees it. The photo is attached to the first user turn. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  text: string;
}

export interface SamplingSettings {
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  maxNewTokens: number;
}

export interface ChatRequest {
  /** The photo on disk; backends decode and encode it as they need. */
  imagePath: string;
  /** Grounding and instructions (BLIP's caption and answers); see grounding.ts. */
  system: string;
  /** Oldest first; the last one is the user's new question. */
  turns: ChatTurn[];
  sampling: SamplingSettings;
}

export interface ChatResult {
  text: string;
  /** Generated tokens, when the backend reports them. */
  tokens: number | null;
  /** True when the user stopped the answer before it was complete. */
  stopped: boolean;
  /** Turns left out (oldest first) so the conversation fits the model's context window. */
  droppedTurns: number;
  /** Milliseconds to the first streamed token, when one arrived. */
  firstTokenMs: number | null;
}

export interface ChatBackend {
  /** Stored with each answer, e.g. 'model:llava-interleave-qwen-0.5b' or 'ollama:llava:7b'. */
  readonly modelLabel: string;
  /** Streams the answer through `onToken`; `signal` stops it (the promise then resolves with stopped = true). */
  generate(request: ChatRequest, onToken: (text: string) => void, signal: AbortSignal): Promise<ChatResult>;
  /** Checks that the backend can answer: reachable, model present, vision-capable where that can be known. */
  check(): Promise<{ ok: boolean; message: string }>;
}
