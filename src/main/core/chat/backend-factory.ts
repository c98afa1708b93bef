import type { AppSettings } from '../../../shared/api';
import { LlavaClient } from '../llava/llava-client';
import type { SpawnWorker } from '../inference/worker-handle';
import type { ModelStore } from '../models/model-store';
import type { ChatBackend } from './chat-types';
import { EmbeddedBackend } from './embedded-backend';
import { OllamaBackend } from './ollama-backend';
import { OpenAiBackend } from './openai-backend';

/** The settings that pick and reach a backend; the CLI overrides them per run. */
export type BackendSettings = Pick<AppSettings, 'chatBackend' | 'chatModel' | 'engineBaseUrl' | 'engineModel' | 'engineTimeoutSec' | 'threads'>;

export interface BackendFactoryDeps {
  models: Pick<ModelStore, 'resolve'>;
  spawnWorker: SpawnWorker;
}

/**
 * Builds the backend the settings name. The embedded backend's LLaVA process is started once and shared
 * by every chat; `close()` stops it.
 */
export class ChatBackends {
  private llava: LlavaClient | null = null;

  constructor(private readonly deps: BackendFactoryDeps) {}

  /** Throws a TandemError with the install command when the embedded model is not installed. */
  create(s: BackendSettings): ChatBackend {
    const engine = { baseUrl: s.engineBaseUrl, model: s.engineModel, timeoutSec: s.engineTimeoutSec };
    switch (s.chatBackend) {
      case 'ollama':
        return new OllamaBackend(engine);
      case 'openai':
        return new OpenAiBackend(engine);
      case 'embedded':
        return new EmbeddedBackend(this.client(), { name: s.chatModel, dir: this.deps.models.resolve(s.chatModel), threads: s.threads });
    }
  }

  /** The LLaVA process client, started on first use. */
  client(): LlavaClient {
    this.llava ??= new LlavaClient(this.deps.spawnWorker);
    return this.llava;
  }

  async close(): Promise<void> {
    await this.llava?.close();
    this.llava = null;
  }
}
