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

export function parseCaptionSettings(key: string): CaptionSettings {
  const v = JSON.parse(key) as Partial<CaptionSettings>;
  return { ...DEFAULT_CAPTION_SETTINGS, ...v };
}
