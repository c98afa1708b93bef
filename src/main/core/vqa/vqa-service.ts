import type { AnswerStore } from '../captions/answer-store';
import { IdleReaper } from '../inference/idle-reaper';
import { InferenceClient } from '../inference/inference-client';
import type { SpawnWorker } from '../inference/worker-handle';
import type { CaptionSettings } from '../jobs/caption-settings';
import type { ModelRef } from '../jobs/caption-service';

export interface VqaQuestion {
  /** Library photo the answer is stored with; null for a file outside the library (answered, not stored). */
  photoId: number | null;
  path: string;
  question: string;
  model: ModelRef;
  threads: number;
  settings: CaptionSettings;
}

export interface VqaAnswer {
  answer: string;
  /** e.g. 'model:blip-vqa-base' */
  model: string;
  ms: number;
}

export interface VqaServiceDeps {
  answers: AnswerStore;
  modelCacheDir: string;
  spawnWorker: SpawnWorker;
  /** The VQA process is stopped after this long without a question, to give its memory back. */
  idleMs?: number;
}

/**
 * BLIP VQA in an inference process of its own. Sharing the captioning process would swap the caption
 * model out under a running bulk job (and its crash recovery reloads only one model), so a question
 * asked while the library is being captioned gets its own process, started on demand and stopped when idle.
 */
export class VqaService {
  private client: InferenceClient | null = null;
  private readonly reaper: IdleReaper;

  constructor(private readonly deps: VqaServiceDeps) {
    this.reaper = new IdleReaper(deps.idleMs ?? 10 * 60_000, () => void this.stop());
  }

  ask(q: VqaQuestion): Promise<VqaAnswer> {
    return this.reaper.run(async () => {
      this.client ??= new InferenceClient(this.deps.spawnWorker);
      const client = this.client;
      await client.load({ model: q.model.name, modelDir: q.model.dir, cacheDir: this.deps.modelCacheDir, threads: q.threads });
      const reply = await client.answer({ path: q.path, question: q.question, settings: q.settings });
      const model = `model:${q.model.name}`;
      if (q.photoId !== null) this.deps.answers.add(q.photoId, q.question, reply.answer, model);
      return { answer: reply.answer, model, ms: reply.ms };
    });
  }

  /** The process id while the VQA process runs (tests, diagnostics). */
  get pid(): number | undefined {
    return this.client?.pid;
  }

  async close(): Promise<void> {
    this.reaper.cancel();
    await this.stop();
  }

  private async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.close();
  }
}
