import type { AnswerStore } from '../captions/answer-store';
import type { CaptionService } from '../jobs/caption-service';
import type { SettingsStore } from '../settings/settings-store';

export interface BlipAnswer {
  answer: string;
  /** e.g. 'model:blip-vqa-base' */
  model: string;
  ms: number;
}

/** Short factual answers from BLIP VQA; each is kept in `answers` so later LLaVA turns are grounded on it. */
export type BlipAnswerer = (photoId: number, path: string, question: string) => Promise<BlipAnswer>;

export function blipAnswerer(captioning: CaptionService, answers: AnswerStore, settings: SettingsStore, modelCacheDir: string): BlipAnswerer {
  return async (photoId, path, question) => {
    const app = settings.get();
    const ref = captioning.resolveModel({ model: app.vqaModel });
    const client = captioning.ensureClient();
    await client.load({ model: ref.name, modelDir: ref.dir, cacheDir: modelCacheDir, threads: app.threads });
    const reply = await client.answer({ path, question, settings: captioning.settings(app.caption) });
    const model = `model:${ref.name}`;
    answers.add(photoId, question, reply.answer, model);
    return { answer: reply.answer, model, ms: reply.ms };
  };
}
