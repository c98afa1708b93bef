import { useState } from 'react';
import type { ModelDownloadProgress, ModelEntry } from '../../../shared/api';
import { isDownloading, type InstallChoices } from '../../hooks/use-models';
import { formatBytes, formatBytesPerSec, formatEta, formatTimestamp } from '../../lib/format';
import { CloseIcon, DownloadIcon, TrashIcon } from '../icons';

export const KIND_LABEL: Record<string, string> = {
  'blip-caption': 'Captions · BLIP',
  'blip-vqa': 'Questions · BLIP VQA',
  llava: 'Chat · LLaVA',
};

type Props = {
  model: ModelEntry;
  download: ModelDownloadProgress | undefined;
  usedFor: string[];
  onInstall(options: InstallChoices): void;
  onCancel(): void;
  onRemove(): Promise<boolean>;
  onDeleteSources(): Promise<boolean>;
};

/** "2 min", "40 s": the compile's ETA in the detail line, coarser than a download's. */
function compileEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `ETA ${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `ETA ${m} min` : `ETA ${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One model pack: what it is, where it came from, its size, and download / cancel / remove. */
export function ModelCard({ model, download, usedFor, onInstall, onCancel, onRemove, onDeleteSources }: Props) {
  const [confirming, setConfirming] = useState(false);
  const [dropSources, setDropSources] = useState(false);
  const compiledFast = model.compiled?.visionPrecision === 'int8';
  // Before the first compile the box shows the pack's own default, so leaving it alone installs what it says.
  const [fastVision, setFastVision] = useState(model.compiled ? compiledFast : model.defaultVisionPrecision === 'int8');
  const precision = fastVision ? 'int8' : 'fp32';
  const fastChoice: InstallChoices = { visionPrecision: precision, embeddingPrecision: precision };
  const downloading = isDownloading(download);
  const compiling = download?.phase === 'compiling';
  const compile = compiling ? download?.compile : undefined;
  const installed = model.status === 'installed';
  const broken = model.status === 'broken';
  const percent = compiling
    ? compile && compile.total > 0
      ? Math.min(100, (compile.done / compile.total) * 100)
      : null
    : download?.packTotal
      ? Math.min(100, (download.packBytes / download.packTotal) * 100)
      : null;
  const statusLabel = compiling ? 'Compiling' : downloading ? 'Downloading' : installed ? 'Installed' : broken ? 'Needs repair' : 'Not installed';
  const onDisk = model.bytesOnDisk + (model.compiled?.bytes ?? 0);
  const source = model.repo ? `${model.repo}${model.revision ? ` @ ${model.revision.slice(0, 12)}` : ''}` : model.source === 'import' ? 'Imported folder' : '—';

  return (
    <li className={`model-card model-card--${model.status}`} data-testid="model-card" data-model={model.name} aria-label={model.name}>
      <div className="model-card__head">
        <div>
          <h3 className="model-card__name">{model.name}</h3>
          <p className="model-card__desc">{model.description ?? 'Imported model pack'}</p>
        </div>
        <span className={`status-pill status-pill--${downloading ? 'downloading' : model.status}`} data-testid="model-status">
          {statusLabel}
        </span>
      </div>
      <dl className="model-card__facts">
        <div>
          <dt>Kind</dt>
          <dd>{KIND_LABEL[model.kind] ?? model.kind}</dd>
        </div>
        <div>
          <dt>{installed || broken ? 'On disk' : 'Download'}</dt>
          <dd data-testid="model-size">{installed || broken ? formatBytes(onDisk) : model.downloadBytes ? `about ${formatBytes(model.downloadBytes)}` : '—'}</dd>
        </div>
        {model.compiled && (
          <div className="model-card__fact--wide">
            <dt>Compiled</dt>
            <dd data-testid="model-compiled">
              {[
                model.compiled.precision ? `${model.compiled.precision} decoder` : '',
                model.compiled.visionPrecision === 'int8' ? 'int8 vision' : '',
                formatBytes(model.compiled.bytes),
                model.sourcesDeleted ? 'sources deleted' : '',
              ]
                .filter(Boolean)
                .join(' · ')}
            </dd>
          </div>
        )}
        <div className="model-card__fact--wide">
          <dt>Source</dt>
          <dd className="model-card__repo" title={model.dir ?? undefined}>
            {source}
          </dd>
        </div>
        {model.installedAt && (
          <div>
            <dt>Installed</dt>
            <dd>{formatTimestamp(model.installedAt)}</dd>
          </div>
        )}
        {usedFor.length > 0 && (
          <div>
            <dt>Used for</dt>
            <dd>{usedFor.join(', ')}</dd>
          </div>
        )}
      </dl>
      {model.problem && <p className="inline-error">{model.problem}</p>}
      {!installed && model.stagedBytes > 0 && !downloading && <p className="muted">{formatBytes(model.stagedBytes)} already downloaded; the download resumes from there.</p>}
      {download?.phase === 'failed' && download.error && (
        <p className="inline-error" role="alert">
          {download.compile ? 'Compile failed' : 'Download failed'}: {download.error}
        </p>
      )}
      {download?.phase === 'cancelled' && !installed && <p className="muted">{download.compile ? 'Compile cancelled; the download is kept.' : 'Download cancelled.'}</p>}

      {downloading && download && (
        <div className="model-card__progress">
          <div
            className={`progress${percent === null ? ' progress--indeterminate' : ''}`}
            role="progressbar"
            aria-label={`${compiling ? 'Compiling' : 'Downloading'} ${model.name}`}
            aria-valuemin={0}
            aria-valuemax={compiling ? compile?.total : (download.packTotal ?? undefined)}
            aria-valuenow={percent === null ? undefined : compiling ? compile?.done : download.packBytes}
          >
            <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
          </div>
          <p className="muted" data-testid="download-detail">
            {compiling
              ? ['Compiling', compile?.label ?? '', compileEta(download.etaSeconds)].filter(Boolean).join(' — ')
              : [
              download.packTotal ? `${formatBytes(download.packBytes)} of ${formatBytes(download.packTotal)}` : download.phase === 'resolving' ? 'Checking files…' : formatBytes(download.packBytes),
              download.fileCount > 0 ? `file ${Math.min(download.fileIndex + 1, download.fileCount)} of ${download.fileCount}` : '',
              formatBytesPerSec(download.bytesPerSecond),
              formatEta(download.etaSeconds),
            ]
              .filter(Boolean)
              .join(' · ')}
          </p>
        </div>
      )}

      <div className="model-card__actions">
        {downloading ? (
          <button
            type="button"
            className="button button--quiet button--small"
            onClick={onCancel}
            aria-label={`Cancel ${compiling ? 'compile' : 'download'} of ${model.name}`}
          >
            <CloseIcon />
            Cancel
          </button>
        ) : (
          <>
            {model.known && !installed && (
              <button
                type="button"
                className="button button--primary button--small"
                onClick={() => onInstall({ ...fastChoice, ...(dropSources ? { deleteSources: true } : {}) })}
                aria-label={`Download ${model.name}`}
              >
                <DownloadIcon />
                {broken ? (model.compilable && !model.compiled ? 'Compile' : 'Repair') : model.stagedBytes > 0 ? 'Resume download' : 'Download'}
              </button>
            )}
            {model.known && !installed && !broken && model.compilable && (
              <label className="check-inline" title="The pack runs from the compiled folder; a recompile then needs a new download.">
                <input type="checkbox" checked={dropSources} onChange={(e) => setDropSources(e.target.checked)} />
                <span>Delete the downloaded weights once compiled</span>
              </label>
            )}
            {model.known && model.compilable && !model.sourcesDeleted && (
              <label
                className="check-inline"
                title="Compiles the vision tower and token embeddings at int8: images are read about 2.5× faster with about 1 GB less memory; answers may differ slightly."
              >
                <input type="checkbox" checked={fastVision} onChange={(e) => setFastVision(e.target.checked)} />
                <span>Faster image reading (int8 vision, slightly less exact)</span>
              </label>
            )}
            {installed && model.compiled && !model.sourcesDeleted && model.known && fastVision !== compiledFast && (
              <button
                type="button"
                className="button button--primary button--small"
                onClick={() => onInstall(fastChoice)}
                aria-label={`Compile ${model.name} again`}
              >
                Compile
              </button>
            )}
            {installed && model.compiled && !model.sourcesDeleted && (
              <button
                type="button"
                className="button button--quiet button--small"
                onClick={() => void onDeleteSources()}
                aria-label={`Delete the downloaded weights of ${model.name}`}
                title="Keeps the compiled model; frees the space the downloaded weights take."
              >
                <TrashIcon />
                Delete sources
              </button>
            )}
            {(installed || broken) &&
              (confirming ? (
                <span className="confirm" role="group" aria-label={`Remove ${model.name}?`}>
                  <span>Remove {model.name} from this computer?</span>
                  <button
                    type="button"
                    className="button button--danger button--small"
                    onClick={() => void onRemove().then(() => setConfirming(false))}
                  >
                    Remove
                  </button>
                  <button type="button" className="button button--quiet button--small" onClick={() => setConfirming(false)}>
                    Keep
                  </button>
                </span>
              ) : (
                <button type="button" className="button button--quiet button--small" onClick={() => setConfirming(true)} aria-label={`Remove ${model.name}`}>
                  <TrashIcon />
                  Remove
                </button>
              ))}
          </>
        )}
      </div>
    </li>
  );
}
