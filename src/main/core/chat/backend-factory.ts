import type { AppSettings } from '../../../shared/api';
import { IdleReaper } from '../inference/idle-reaper';
import { LlavaClient } from '../llava/llava-client';
import type { SpawnWorker } from '../inference/worker-handle';
import type { ModelStore } from '../models/model-store';
import type { ChatBackend } from './chat-types';
import { EmbeddedBackend } from './embedded-backend';
import { OllamaBackend } from './ollama-backend';
import { OpenAiBackend } from './openai-backend';

/** The settings that pick and reach a backend; the CLI overrides them per run. */
export type BackendSettings = Pick<AppSettings, 'chatBackend' | 'chatModel' | 'engineBaseUrl' | 'engineModel' | 'engineTimeoutSec' | 'threads' | 'chatVisionResidency'>;

export interface BackendFactoryDeps {
  models: Pick<ModelStore, 'resolve'>;
  spawnWorker: SpawnWorker;
  /** The LLaVA process is stopped after this long without a chat, to give its memory back (default 10 min). */
  idleMs?: number;
}

/**
 * Builds the backend the settings name. The embedded backend's LLaVA process is shared by every chat,
 * started on first use and stopped when idle; `close()` stops it.
 */
export class ChatBackends {
  private llava: LlavaClient | null = null;
  private readonly reaper: IdleReaper;

  constructor(private readonly deps: BackendFactoryDeps) {
    this.reaper = new IdleReaper(deps.idleMs ?? 10 * 60_000, () => void this.stopLlava());
  }

  /** Throws a TandemError with the install command when the embedded model is not installed. */
  create(s: BackendSettings): ChatBackend {
    const engine = { baseUrl: s.engineBaseUrl, model: s.engineModel, timeoutSec: s.engineTimeoutSec };
    switch (s.chatBackend) {
      case 'ollama':
        return new OllamaBackend(engine);
      case 'openai':
        return new OpenAiBackend(engine);
      case 'embedded': {
        const model = {
          name: s.chatModel,
          dir: this.deps.models.resolve(s.chatModel),
          threads: s.threads,
          vision: s.chatVisionResidency,
        };
        // A fresh backend per call, so a process stopped while idle is started again by the next chat.
        const backend = () => new EmbeddedBackend(this.client(), model);
        return {
          modelLabel: backend().modelLabel,
          generate: (req, onToken, signal) => this.reaper.run(() => backend().generate(req, onToken, signal)),
          check: () => this.reaper.run(() => backend().check()),
        };
      }
    }
  }

  /** The LLaVA process id while it runs (tests, diagnostics). */
  get llavaPid(): number | undefined {
    return this.llava?.pid;
  }

  /** The LLaVA process client, started on first use. */
  private client(): LlavaClient {
    this.llava ??= new LlavaClient(this.deps.spawnWorker);
    return this.llava;
  }

  async close(): Promise<void> {
    this.reaper.cancel();
    await this.stopLlava();
  }

  private async stopLlava(): Promise<void> {
    const client = this.llava;
    this.llava = null;
    await client?.close();
  }
}
