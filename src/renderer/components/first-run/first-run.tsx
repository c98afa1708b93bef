import type { Models } from '../../hooks/use-models';
import { isDownloading } from '../../hooks/use-models';
import { formatBytes } from '../../lib/format';
import { AddFolderButton } from '../add-folder-button';
import { CheckIcon, DownloadIcon, LogoIcon } from '../icons';
import { KIND_LABEL } from '../models/model-card';

/** Downloads above this size are not offered on the first screen. */
const STARTER_MAX_BYTES = 5e9;

type Props = { models: Models; onAddFolder(): void; scanning: boolean; onOpenModels(): void };

/**
 * The first screen of a fresh install: pick a photo folder, and fetch the models (with their sizes) or
 * import ones already on disk. Downloads continue in the background after the folder is added.
 */
export function FirstRun({ models, onAddFolder, scanning, onOpenModels }: Props) {
  const all = (models.list ?? []).filter((m) => m.known);
  // A first session offers what a laptop should start with; the multi-gigabyte LLaVA-1.5 packs wait in the manager.
  const known = all.filter((m) => m.status === 'installed' || (m.downloadBytes ?? 0) <= STARTER_MAX_BYTES);
  const bigger = all.filter((m) => !known.includes(m));
  return (
    <section className="first-run" aria-labelledby="first-run-title">
      <div className="first-run__hero">
        <LogoIcon className="first-run__logo" />
        <h1 id="first-run-title" className="first-run__title">
          Welcome to Tandem
        </h1>
        <p className="first-run__lead">
          Tandem captions your photos with BLIP, finds them by what they show, and lets you talk about any photo with LLaVA. Everything runs on this
          computer; your photos stay where they are and nothing leaves your machine.
        </p>
      </div>

      <ol className="first-run__steps">
        <li className="first-run__step">
          <h2 className="first-run__step-title">No library folders yet</h2>
          <p className="muted">Choose a folder of photos. Tandem indexes it and makes thumbnails; subfolders are included.</p>
          <AddFolderButton onClick={onAddFolder} busy={scanning} />
        </li>
        <li className="first-run__step">
          <h2 className="first-run__step-title">Models</h2>
          <p className="muted">
            Downloaded once from the Hugging Face hub. You can start with the captioner and add the others later, or{' '}
            <button type="button" className="button button--link" onClick={() => void models.importFolder()}>
              import a folder
            </button>{' '}
            you already have.
          </p>
          <ul className="first-run__models" aria-label="Model downloads">
            {known.map((m) => {
              const d = models.downloads.get(m.name);
              const downloading = isDownloading(d);
              const percent = d?.packTotal ? Math.round((d.packBytes / d.packTotal) * 100) : null;
              return (
                <li key={m.name} className="first-run__model" data-model={m.name}>
                  <div>
                    <strong>{m.name}</strong>
                    <span className="muted"> · {KIND_LABEL[m.kind] ?? m.kind}</span>
                    <p className="muted first-run__model-desc">{m.description}</p>
                  </div>
                  <span className="first-run__size" data-testid="download-size">
                    {m.status === 'installed' ? formatBytes(m.bytesOnDisk) : m.downloadBytes ? formatBytes(m.downloadBytes) : ''}
                  </span>
                  {m.status === 'installed' ? (
                    <span className="status-pill status-pill--installed">
                      <CheckIcon /> Installed
                    </span>
                  ) : downloading ? (
                    <button type="button" className="button button--quiet button--small" onClick={() => models.cancelInstall(m.name)} aria-label={`Cancel download of ${m.name}`}>
                      {percent === null ? 'Starting…' : `${percent}%`} · Cancel
                    </button>
                  ) : (
                    <button type="button" className="button button--quiet button--small" onClick={() => models.install(m.name)} aria-label={`Download ${m.name}`}>
                      <DownloadIcon />
                      Download
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
          {bigger.length > 0 && (
            <p className="muted" data-testid="bigger-models">
              Bigger models ({bigger.map((m) => `${m.name}${m.downloadBytes ? `, ${formatBytes(m.downloadBytes)}` : ''}`).join('; ')}) are in the model manager.
            </p>
          )}
          <button type="button" className="button button--link" onClick={onOpenModels}>
            Open the model manager
          </button>
        </li>
      </ol>
    </section>
  );
}
