import { availableParallelism } from 'node:os';
import { AppSettings } from '../../../shared/api';
import { DEFAULT_CAPTION_BATCH_SIZE, DEFAULT_CAPTION_SETTINGS } from '../jobs/caption-settings';
import type { Db } from '../store/database';

export const DEFAULT_SETTINGS: AppSettings = {
  threads: Math.max(1, Math.min(8, availableParallelism())),
  batchSize: DEFAULT_CAPTION_BATCH_SIZE,
  caption: DEFAULT_CAPTION_SETTINGS,
  captionPrecision: 'fp32',
  captionModel: 'blip-base',
  vqaModel: 'blip-vqa-base',
  chatModel: 'llava-interleave-qwen-0.5b',
  chatBackend: 'embedded',
  engineBaseUrl: 'http://127.0.0.1:11434',
  engineModel: 'llava:7b',
  engineTimeoutSec: 120,
  temperature: 0.2,
  topP: 0.9,
  maxNewTokens: 256,
  theme: 'system',
  writeMetadataAfterCaptioning: false,
  writeMetadataAfterEdit: false,
  previewCacheMB: 1024,
  searchByMeaning: true,
  retrievalModel: 'blip-itm-base-coco',
  chatVisionResidency: 'auto',
};

/** User settings in the `settings` table, one JSON value per key; unknown or invalid values fall back to defaults. */
export class SettingsStore {
  constructor(private readonly db: Db) {}

  get(): AppSettings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const stored: Record<string, unknown> = {};
    for (const r of rows) {
      try {
        stored[r.key] = JSON.parse(r.value);
      } catch {
        // A damaged value is ignored; the default stands.
      }
    }
    const merged = { ...DEFAULT_SETTINGS, ...stored };
    const parsed = AppSettings.safeParse(merged);
    if (parsed.success) return parsed.data;
    // Keep the valid keys, reset the ones that fail.
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const [k, v] of Object.entries(stored)) {
      const one = AppSettings.shape[k as keyof AppSettings]?.safeParse(v);
      if (one?.success) out[k] = one.data;
    }
    return AppSettings.parse(out);
  }

  set(patch: Partial<AppSettings>): AppSettings {
    const next = AppSettings.parse({ ...this.get(), ...patch });
    const put = this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const k of Object.keys(patch) as (keyof AppSettings)[]) put.run(k, JSON.stringify(next[k]));
    })();
    return next;
  }
}
