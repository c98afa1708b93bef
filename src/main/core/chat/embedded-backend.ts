import type { LlavaClient } from '../llava/llava-client';
import type { VisionResidencyChoice } from '../llava/llava-sessions';
import type { LlavaComponent, OnnxDType } from '../models/known-packs';
import type { ChatBackend, ChatRequest, ChatResult } from './chat-types';

/** Prefill on a laptop CPU grows with the prompt; past this many tokens the oldest turns are trimmed. */
export const EMBEDDED_MAX_CONTEXT_TOKENS = 4096;

export interface EmbeddedModel {
  /** Pack name (answers are stored as `model:<name>`). */
  name: string;
  dir: string;
  threads: number;
  dtypes?: Partial<Record<LlavaComponent, OnnxDType>>;
  /** default 'auto' */
  vision?: VisionResidencyChoice;
}

/** LLaVA on Tandem's own engine (llava-engine.ts) in the LLaVA inference process (llava-worker.ts), never in this process. */
export class EmbeddedBackend implements ChatBackend {
  readonly modelLabel: string;

  constructor(
    private readonly client: LlavaClient,
    private readonly model: EmbeddedModel,
  ) {
    this.modelLabel = `model:${model.name}`;
  }

  async generate(req: ChatRequest, onToken: (text: string) => void, signal: AbortSignal): Promise<ChatResult> {
    await this.load();
    const done = await this.client.chat(req, onToken, signal);
    return { text: done.text, tokens: done.tokens, stopped: done.stopped, droppedTurns: done.droppedTurns, firstTokenMs: done.firstTokenMs };
  }

  async check(): Promise<{ ok: boolean; message: string }> {
    try {
      const loaded = await this.load();
      const dtypes = Object.entries(loaded.dtypes)
        .map(([c, d]) => `${c} ${d}`)
        .join(', ');
      const vision = loaded.vision === 'resident' ? 'vision model kept loaded' : 'vision model loaded for each new photo';
      return { ok: true, message: `${this.model.name} is loaded (${dtypes}; ${loaded.contextTokens}-token context; ${vision}).` };
    } catch (err) {
      return { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private load() {
    return this.client.load({
      model: this.model.name,
      modelDir: this.model.dir,
      threads: this.model.threads,
      maxContextTokens: EMBEDDED_MAX_CONTEXT_TOKENS,
      ...(this.model.dtypes ? { dtypes: this.model.dtypes } : {}),
      ...(this.model.vision ? { vision: this.model.vision } : {}),
    });
  }
}
