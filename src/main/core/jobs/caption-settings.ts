/** What a caption was made with. Two runs with equal settings give the same caption, so the key deduplicates work. */
export interface CaptionSettings {
  numBeams: number;
  maxLength: number;
  minLength: number;
  repetitionPenalty: number;
  prompt: string | null;
}

export const DEFAULT_CAPTION_SETTINGS: CaptionSettings = {
  numBeams: 1,
  maxLength: 20,
  minLength: 0,
  repetitionPenalty: 1,
  prompt: null,
};

/**
 * Photos per captioning batch unless the user sets another. Decoding reads the model's weights once per step for
 * the whole batch, so 8 ran 8% faster end to end than 4 (fp32, 12 MP JPEGs: 0.99 vs 0.92 photos/s) for 9 MiB more
 * at the peak; since the decoder no longer keeps 40 MiB of cross keys/values per photo, a photo costs a few MB.
 */
export const DEFAULT_CAPTION_BATCH_SIZE = 8;

/** Canonical JSON (fixed key order) used as the jobs' settings_key and stored with each caption. */
export function captionSettingsKey(s: CaptionSettings): string {
  return JSON.stringify({
    numBeams: s.numBeams,
    maxLength: s.maxLength,
    minLength: s.minLength,
    repetitionPenalty: s.repetitionPenalty,
    prompt: s.prompt,
  });
}

/**
 * Numeric precision of the caption model: 'fp32' (token-exact to the Hugging Face reference, the default) or
 * 'int8' (weights quantized per column; about 2.1× faster on CPUs, captions may differ slightly).
 *
 * Precision is deliberately NOT part of `captionSettingsKey`: a caption made at the other precision is still a
 * BLIP caption of the same model and generation settings, so switching precision must not silently recaption
 * the whole library (`caption --all` after a switch skips photos already captioned; `--regenerate` redoes them).
 * It is recorded with each stored caption instead (`captionRecord`), so the history says which one made it.
 */
export type CaptionPrecision = 'fp32' | 'int8';
export const CAPTION_PRECISIONS: readonly CaptionPrecision[] = ['fp32', 'int8'];
export const DEFAULT_CAPTION_PRECISION: CaptionPrecision = 'fp32';

export function isCaptionPrecision(v: unknown): v is CaptionPrecision {
  return v === 'fp32' || v === 'int8';
}

/** The settings stored with a caption: the generation settings (in key order) plus the precision that made it. */
export function captionRecord(s: CaptionSettings, precision: CaptionPrecision): Record<string, unknown> {
  return { ...(JSON.parse(captionSettingsKey(s)) as Record<string, unknown>), precision };
}

export function parseCaptionSettings(key: string): CaptionSettings {
  const v = JSON.parse(key) as Partial<CaptionSettings>;
  return { ...DEFAULT_CAPTION_SETTINGS, ...v };
}
