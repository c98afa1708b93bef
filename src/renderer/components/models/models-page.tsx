import type { AppSettings } from '../../../shared/api';
import type { Models } from '../../hooks/use-models';
import { formatBytes } from '../../lib/format';
import { FolderPlusIcon } from '../icons';
import { EngineBackend } from './engine-backend';
import { ModelCard } from './model-card';
import { ModelRoles, ROLES } from './model-roles';

type Props = { models: Models; settings: AppSettings | null; onSettings(patch: Partial<AppSettings>): Promise<unknown> };

/** Model packs: installed and available, downloads, import, removal, which pack does what, and the chat engine. */
export function ModelsPage({ models, settings, onSettings }: Props) {
  const list = models.list ?? [];
  const onDisk = list.reduce((n, m) => n + (m.status === 'installed' ? m.bytesOnDisk + (m.compiled?.bytes ?? 0) : 0), 0);
  const usedFor = (name: string) => (settings ? ROLES.filter((r) => settings[r.key] === name).map((r) => r.label) : []);
  return (
    <div className="page" aria-labelledby="models-title">
      <header className="page__header">
        <div>
          <h1 id="models-title" className="page__title">
            Models
          </h1>
          <p className="page__subtitle">
            Everything runs on this computer. {list.length > 0 && `${list.filter((m) => m.status === 'installed').length} installed · ${formatBytes(onDisk)} on disk.`}
          </p>
        </div>
        <button type="button" className="button button--quiet" onClick={() => void models.importFolder()}>
          <FolderPlusIcon />
          Import folder…
        </button>
      </header>

      {settings && (
        <section className="card" aria-labelledby="roles-title">
          <h2 id="roles-title" className="card__title">
            Used for
          </h2>
          <ModelRoles models={list} settings={settings} onChange={(p) => void onSettings(p)} />
        </section>
      )}

      <section aria-labelledby="packs-title">
        <h2 id="packs-title" className="section-title">
          Model packs
        </h2>
        {models.list === null ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className="model-list">
            {list.map((m) => (
              <ModelCard
                key={m.name}
                model={m}
                download={models.downloads.get(m.name)}
                usedFor={usedFor(m.name)}
                onInstall={(options) => models.install(m.name, options)}
                onCancel={() => models.cancelInstall(m.name)}
                onRemove={() => models.remove(m.name)}
                onDeleteSources={() => models.deleteSources(m.name)}
              />
            ))}
          </ul>
        )}
      </section>

      {settings && (
        <section className="card" aria-labelledby="engine-title">
          <h2 id="engine-title" className="card__title">
            Chat engine
          </h2>
          <p className="muted">
            The embedded LLaVA runs on the CPU from graphs Tandem compiles once per pack (LLaVA‑1.5‑7B and ‑13B with a 4‑bit decoder: about 8 and 16 GB
            of memory). For bigger models or a GPU, point Tandem at an engine you already run (Ollama, llama.cpp server, vLLM).
          </p>
          <EngineBackend settings={settings} onChange={onSettings} />
        </section>
      )}
    </div>
  );
}
