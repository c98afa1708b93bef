import type { CaptionService } from '../jobs/caption-service';
import type { SettingsStore } from '../settings/settings-store';
import type { VqaAnswer, VqaService } from '../vqa/vqa-service';

export type BlipAnswer = VqaAnswer;

/** Short factual answers from BLIP VQA; each is kept in `answers` so later LLaVA turns are grounded on it. */
export type BlipAnswerer = (photoId: number, path: string, question: string) => Promise<BlipAnswer>;

export function blipAnswerer(captioning: CaptionService, vqa: VqaService, settings: SettingsStore): BlipAnswerer {
  return async (photoId, path, question) => {
    const app = settings.get();
    return vqa.ask({
      photoId,
      path,
      question,
      model: captioning.resolveModel({ model: app.vqaModel }),
      threads: app.threads,
      settings: captioning.settings(app.caption),
    });
  };
}
