import { useEffect, useId, useState } from 'react';
import type { AppSettings, Root } from '../../../shared/api';
import { formatCount, formatTimestamp } from '../../lib/format';
import { AddFolderButton } from '../add-folder-button';
import { RefreshIcon, TrashIcon } from '../icons';
import { NumberField } from './number-field';
import { MetadataSettingsCard } from '../metadata/metadata-settings';
import type { SearchByMeaning } from '../../hooks/use-search-by-meaning';
import { SearchByMeaningCard } from './search-by-meaning-card';

type Props = {
  settings: AppSettings | null;
  onSettings(patch: Partial<AppSettings>): Promise<unknown>;
  roots: Root[];
  onAddFolder(): void;
  onRescan(rootId: number): void;
  onRemoveRoot(rootId: number): void;
  scanning: boolean;
  /** Search by meaning's status; the card is left out where the page is shown without it. */
  meaning?: SearchByMeaning;
};

const THEMES: { value: AppSettings['theme']; label: string }[] = [
  { value: 'system', label: 'Same as the system' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

function RootRow({ root, onRescan, onRemove, scanning }: { root: Root; onRescan(): void; onRemove(): void; scanning: boolean }) {
  const [confirming, setConfirming] = useState(false);
  return (
    <li className="root-row">
      <div className="root-row__main">
        <strong className="root-row__path">{root.path}</strong>
        <span className="muted">
          {formatCount(root.photoCount, 'photo')} · added {formatTimestamp(root.addedAt)}
        </span>
      </div>
      {confirming ? (
        <span className="confirm" role="group" aria-label={`Remove ${root.path}?`}>
          <span>Forget this folder? Photos stay on disk.</span>
          <button type="button" className="button button--danger button--small" onClick={onRemove}>
            Remove
          </button>
          <button type="button" className="button button--quiet button--small" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      ) : (
        <span className="button-row">
          <button type="button" className="button button--quiet button--small" onClick={onRescan} disabled={scanning} aria-label={`Rescan ${root.path}`}>
            <RefreshIcon />
            Rescan
          </button>
          <button type="button" className="button button--quiet button--small" onClick={() => setConfirming(true)} aria-label={`Remove ${root.path}`}>
            <TrashIcon />
            Remove
          </button>
        </span>
      )}
    </li>
  );
}

/** Library folders, performance, caption defaults, chat sampling and theme. Every change is saved at once. */
export function SettingsPage({ settings, onSettings, roots, onAddFolder, onRescan, onRemoveRoot, scanning, meaning }: Props) {
  const id = useId();
  const [prompt, setPrompt] = useState(settings?.caption.prompt ?? '');
  useEffect(() => setPrompt(settings?.caption.prompt ?? ''), [settings?.caption.prompt]);

  if (!settings) return <div className="page" />;
  const caption = (patch: Partial<AppSettings['caption']>) => void onSettings({ caption: { ...settings.caption, ...patch } });

  return (
    <div className="page" aria-labelledby="settings-title">
      <header className="page__header">
        <div>
          <h1 id="settings-title" className="page__title">
            Settings
          </h1>
          <p className="page__subtitle">Changes are saved as you make them.</p>
        </div>
      </header>

      <section className="card" aria-labelledby={`${id}-library`}>
        <div className="card__head">
          <h2 id={`${id}-library`} className="card__title">
            Library folders
          </h2>
          <AddFolderButton onClick={onAddFolder} busy={scanning} variant="quiet" />
        </div>
        {roots.length === 0 ? (
          <p className="muted">No folders yet.</p>
        ) : (
          <ul className="root-list">
            {roots.map((r) => (
              <RootRow key={r.id} root={r} scanning={scanning} onRescan={() => onRescan(r.id)} onRemove={() => onRemoveRoot(r.id)} />
            ))}
          </ul>
        )}
      </section>

      {meaning && <SearchByMeaningCard settings={settings} onSettings={onSettings} meaning={meaning} />}

      <MetadataSettingsCard settings={settings} onSettings={onSettings} roots={roots} />

      <section className="card" aria-labelledby={`${id}-appearance`}>
        <h2 id={`${id}-appearance`} className="card__title">
          Appearance
        </h2>
        <div className="radio-list" role="radiogroup" aria-label="Theme">
          {THEMES.map((t) => (
            <label key={t.value} className="radio">
              <input type="radio" name={`${id}-theme`} value={t.value} checked={settings.theme === t.value} onChange={() => void onSettings({ theme: t.value })} />
              <span>{t.label}</span>
            </label>
          ))}
        </div>
      </section>

      <section className="card" aria-labelledby={`${id}-captions`}>
        <h2 id={`${id}-captions`} className="card__title">
          Captions
        </h2>
        <div className="settings-grid">
          <NumberField label="Beams" hint="1 is fastest (greedy); 3–5 gives more careful captions." value={settings.caption.numBeams} min={1} max={16} onCommit={(v) => caption({ numBeams: v })} />
          <NumberField label="Maximum length (tokens)" value={settings.caption.maxLength} min={2} max={512} onCommit={(v) => caption({ maxLength: v })} />
          <NumberField label="Minimum length (tokens)" value={settings.caption.minLength} min={0} max={512} onCommit={(v) => caption({ minLength: v })} />
          <NumberField
            label="Repetition penalty"
            hint="Above 1 discourages repeated words."
            value={settings.caption.repetitionPenalty}
            min={0.1}
            max={10}
            step={0.1}
            integer={false}
            onCommit={(v) => caption({ repetitionPenalty: v })}
          />
          <div className="setting">
            <label className="setting__label" htmlFor={`${id}-prompt`}>
              Prompt prefix
            </label>
            <input
              id={`${id}-prompt`}
              className="input"
              value={prompt}
              placeholder="none (e.g. “a photography of”)"
              onChange={(e) => setPrompt(e.target.value)}
              onBlur={() => prompt.trim() !== (settings.caption.prompt ?? '') && caption({ prompt: prompt.trim() || null })}
            />
          </div>
        </div>
      </section>

      <section className="card" aria-labelledby={`${id}-performance`}>
        <h2 id={`${id}-performance`} className="card__title">
          Performance
        </h2>
        <div className="settings-grid">
          <div className="setting">
            <label className="setting__label" htmlFor={`${id}-precision`}>
              Caption precision
            </label>
            <select
              id={`${id}-precision`}
              className="select"
              value={settings.captionPrecision}
              aria-describedby={`${id}-precision-hint`}
              onChange={(e) => void onSettings({ captionPrecision: e.target.value === 'int8' ? 'int8' : 'fp32' })}
            >
              <option value="fp32">Exact (fp32)</option>
              <option value="int8">Fast (int8)</option>
            </select>
            <p id={`${id}-precision-hint`} className="setting__hint">
              Fast: about 2.1× faster on CPUs; its captions can differ from the reference in a few words.
            </p>
          </div>
          <NumberField label="Threads" hint="CPU threads for the models." value={settings.threads} min={1} max={64} onCommit={(v) => void onSettings({ threads: v })} />
          <NumberField label="Batch size" hint="Photos captioned together; 8 is about 8% faster than 4, for a few MB more." value={settings.batchSize} min={1} max={64} onCommit={(v) => void onSettings({ batchSize: v })} />
          <NumberField
            label="Preview cache (MB)"
            hint="Large previews are made when a photo is first opened; past this size the least recently viewed are removed."
            value={settings.previewCacheMB}
            min={16}
            max={65536}
            onCommit={(v) => void onSettings({ previewCacheMB: v })}
          />
        </div>
      </section>

      <section className="card" aria-labelledby={`${id}-chat`}>
        <h2 id={`${id}-chat`} className="card__title">
          Chat answers
        </h2>
        <div className="settings-grid">
          <NumberField label="Temperature" hint="0 is most literal." value={settings.temperature} min={0} max={2} step={0.1} integer={false} onCommit={(v) => void onSettings({ temperature: v })} />
          <NumberField label="Top p" value={settings.topP} min={0} max={1} step={0.05} integer={false} onCommit={(v) => void onSettings({ topP: v })} />
          <NumberField label="Maximum answer length (tokens)" value={settings.maxNewTokens} min={1} max={4096} onCommit={(v) => void onSettings({ maxNewTokens: v })} />
        </div>
        <div className="setting">
          <label className="setting__label" htmlFor={`${id}-vision-residency`}>
            Vision model between photos
          </label>
          <select
            id={`${id}-vision-residency`}
            className="select"
            value={settings.chatVisionResidency}
            aria-describedby={`${id}-vision-residency-hint`}
            onChange={(e) => {
              const v = e.target.value;
              void onSettings({ chatVisionResidency: v === 'resident' || v === 'on-demand' ? v : 'auto' });
            }}
          >
            <option value="auto">Automatic (per model)</option>
            <option value="resident">Keep loaded</option>
            <option value="on-demand">Load for each new photo</option>
          </select>
          <p id={`${id}-vision-residency-hint`} className="setting__hint">
            Kept loaded, a chat on a new photo starts about a second sooner; loaded for each new photo, the chat model holds
            0.3–1.3 GB less memory. Automatic keeps it for small models and loads it per photo for LLaVA-1.5. Follow-ups and
            photos already read are not affected.
          </p>
        </div>
      </section>
    </div>
  );
}
