import { useEffect, useId } from 'react';
import type { AppSettings } from '../../../shared/api';
import type { SearchByMeaning } from '../../hooks/use-search-by-meaning';
import { formatCount } from '../../lib/format';

type Props = {
  settings: AppSettings;
  onSettings(patch: Partial<AppSettings>): Promise<unknown>;
  meaning: SearchByMeaning;
};

const RUNNING: ReadonlySet<string> = new Set(['loading', 'running', 'pausing']);

/**
 * "Search by meaning": BLIP's retrieval model reads every photo once (one more vision pass per photo) so searches
 * find photos whose captions lack the words, and "Find similar photos" works. On by default once the pack is
 * installed; the card says what it costs and how far the reading is.
 */
export function SearchByMeaningCard({ settings, onSettings, meaning }: Props) {
  const id = useId();
  const { refresh } = meaning;
  // Counts read when the card opens, so they are today's (photos may have been read or added meanwhile).
  useEffect(refresh, [refresh]);
  const s = meaning.status;
  const running = s?.progress ? RUNNING.has(s.progress.state) : false;
  const toggle = (on: boolean) => {
    void onSettings({ searchByMeaning: on }).then(() => {
      // Turning it on reads what is missing right away; off keeps the embeddings (turning it on again is free).
      if (on) void meaning.start();
      else meaning.refresh();
    });
  };
  return (
    <section className="card" aria-labelledby={`${id}-meaning`}>
      <h2 id={`${id}-meaning`} className="card__title">
        Search by meaning
      </h2>
      <label className="check-inline">
        <input type="checkbox" checked={settings.searchByMeaning} onChange={(e) => toggle(e.target.checked)} aria-describedby={`${id}-meaning-cost`} />
        <span>Find photos by what they show, not only by their words</span>
      </label>
      <p id={`${id}-meaning-cost`} className="setting__hint">
        Cost: {s?.cost ?? 'one more vision pass per photo.'}
      </p>
      {s && !s.installed && (
        <p className="muted" data-testid="meaning-status">
          Needs the {s.model} model pack: install it under Models.
        </p>
      )}
      {s && s.installed && (
        <p className="muted" data-testid="meaning-status">
          {formatCount(s.embedded, 'photo')} of {formatCount(s.photos, 'photo')} read with {s.model}
          {running && s.progress ? ` · reading ${s.progress.done + s.progress.failed} of ${s.progress.total}…` : ''}
          {s.counts.failed > 0 ? ` · ${formatCount(s.counts.failed, 'photo')} could not be read` : ''}
        </p>
      )}
      {s && s.installed && settings.searchByMeaning && s.embedded < s.photos && !running && (
        <button type="button" className="button button--small" onClick={() => void meaning.start()}>
          Read the remaining photos now
        </button>
      )}
    </section>
  );
}
