/** What the caption history means for the UI: which entry is shown, who wrote each one, with which settings. */
import type { CaptionEntry } from '../../shared/api';

/** The core's rule (caption-store.ts): the newest user edit, else the newest from the file, else the newest model caption. */
function rank(source: string): number {
  if (source === 'user') return 3;
  if (source === 'file') return 2;
  return 1;
}

/** Id of the entry shown as the caption, given the history newest first; null when there is none. */
export function shownEntryId(history: readonly CaptionEntry[]): number | null {
  let best: CaptionEntry | null = null;
  for (const e of history) {
    if (!best || rank(e.source) > rank(best.source) || (rank(e.source) === rank(best.source) && e.id > best.id)) best = e;
  }
  return best ? best.id : null;
}

/** 'model:blip-base' → 'blip-base'; null for people and files. */
export function modelOfSource(source: string | null): string | null {
  return source?.startsWith('model:') ? source.slice('model:'.length) : null;
}

export type SourceKind = 'user' | 'file' | 'model';

export function sourceKind(source: string): SourceKind {
  if (source === 'user') return 'user';
  if (source === 'file') return 'file';
  return 'model';
}

/** Who wrote a caption, in words: "You", "From the file", "blip-base". */
export function sourceLabel(source: string | null): string {
  if (!source) return '';
  if (source === 'user') return 'You';
  if (source === 'file') return 'From the file';
  return modelOfSource(source) ?? source;
}

/** The precision a model caption was made at ('fp32' | 'int8'), from its stored settings; null when not recorded. */
export function precisionOf(settingsJson: string | null): string | null {
  if (!settingsJson) return null;
  try {
    const o = JSON.parse(settingsJson) as unknown;
    const p = o && typeof o === 'object' ? (o as Record<string, unknown>)['precision'] : undefined;
    return p === 'fp32' || p === 'int8' ? p : null;
  } catch {
    return null;
  }
}

/** Who wrote a caption, with the precision for model captions that recorded it: "blip-base · int8". */
export function sourceWithPrecision(source: string | null, settingsJson: string | null): string {
  const label = sourceLabel(source);
  const precision = modelOfSource(source) ? precisionOf(settingsJson) : null;
  return precision ? `${label} · ${precision}` : label;
}

/** The generation settings stored with a model caption, in a few words: "3 beams · prompt “a photo of”". */
export function settingsSummary(settingsJson: string | null): string {
  if (!settingsJson) return '';
  let s: unknown;
  try {
    s = JSON.parse(settingsJson);
  } catch {
    return '';
  }
  if (!s || typeof s !== 'object') return '';
  const o = s as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof o['numBeams'] === 'number') parts.push(o['numBeams'] === 1 ? 'greedy' : `${o['numBeams']} beams`);
  if (typeof o['maxLength'] === 'number') parts.push(`max ${o['maxLength']} tokens`);
  if (typeof o['prompt'] === 'string' && o['prompt']) parts.push(`prompt “${o['prompt']}”`);
  return parts.join(' · ');
}
