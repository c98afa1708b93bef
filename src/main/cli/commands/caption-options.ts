import { InvalidInputError } from '../../core/errors';
import { CAPTION_PRECISIONS, DEFAULT_CAPTION_BATCH_SIZE, isCaptionPrecision, type CaptionPrecision, type CaptionSettings } from '../../core/jobs/caption-settings';
import type { OptionSpec, OptionValues } from '../command';

/** Generation and model options shared by `caption`, `index --caption` and `ask`. */
export const generationOptions: Record<string, OptionSpec> = {
  model: { type: 'string', description: 'installed model pack (default blip-base; ask: blip-vqa-base)' },
  'model-dir': { type: 'string', description: 'use a Hugging Face BLIP folder directly instead of an installed pack' },
  beams: { type: 'string', description: 'beam search width (default 1 = greedy)' },
  'max-length': { type: 'string', description: 'maximum tokens, counting the start token and prompt (default 20)' },
  'min-length': { type: 'string', description: 'minimum tokens (default 0)' },
  'repetition-penalty': { type: 'string', description: 'penalty for repeated tokens, e.g. 1.2 (default 1)' },
  prompt: { type: 'string', description: 'text the caption continues, e.g. "a photography of"' },
  threads: { type: 'string', description: 'inference threads (default: number of cores, up to 8)' },
};

/** Model precision, for `caption` and `index --caption` (not `ask`). */
export const precisionOptions: Record<string, OptionSpec> = {
  precision: { type: 'string', description: 'fp32 (default, exact to the reference) or int8 (about 2.1× faster on CPUs, captions may differ slightly)' },
};

/** `--precision`; undefined when not given (the caller's default applies). */
export function precisionFromOptions(values: OptionValues): CaptionPrecision | undefined {
  const v = values['precision'];
  if (v === undefined) return undefined;
  if (!isCaptionPrecision(v)) throw new InvalidInputError(`--precision must be one of ${CAPTION_PRECISIONS.join(', ')}, got “${String(v)}”.`);
  return v;
}

export const batchOptions: Record<string, OptionSpec> = {
  'batch-size': { type: 'string', description: `photos per inference batch (default ${DEFAULT_CAPTION_BATCH_SIZE})` },
  regenerate: { type: 'boolean', description: 'caption again photos already captioned by this model and settings' },
};

function intOption(values: OptionValues, name: string, min: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidInputError(`--${name} must be a whole number of at least ${min}, got “${String(v)}”.`);
  return n;
}

export function settingsFromOptions(values: OptionValues): Partial<CaptionSettings> {
  const s: Partial<CaptionSettings> = {};
  const beams = intOption(values, 'beams', 1);
  if (beams !== undefined) s.numBeams = beams;
  const max = intOption(values, 'max-length', 2);
  if (max !== undefined) s.maxLength = max;
  const min = intOption(values, 'min-length', 0);
  if (min !== undefined) s.minLength = min;
  if (values['repetition-penalty'] !== undefined) {
    const r = Number(values['repetition-penalty']);
    if (!(r > 0)) throw new InvalidInputError(`--repetition-penalty must be a positive number, got “${String(values['repetition-penalty'])}”.`);
    s.repetitionPenalty = r;
  }
  if (typeof values['prompt'] === 'string' && values['prompt'].trim()) s.prompt = values['prompt'].trim();
  return s;
}

export function runOptions(values: OptionValues): { batchSize?: number; threads?: number } {
  const o: { batchSize?: number; threads?: number } = {};
  const b = intOption(values, 'batch-size', 1);
  if (b !== undefined) o.batchSize = b;
  const t = intOption(values, 'threads', 1);
  if (t !== undefined) o.threads = t;
  return o;
}
