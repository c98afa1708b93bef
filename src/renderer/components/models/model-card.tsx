import { useState } from 'react';
import type { ModelDownloadProgress, ModelEntry } from '../../../shared/api';
import { isDownloading } from '../../hooks/use-models';
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
  onInstall(): void;
  onCancel(): void;
  onRemove(): Promise<boolean>;
};

/** One model pack: what it is, where it came from, its size, and download / cancel / remove. */
export function ModelCard({ model, download, usedFor, onInstall, onCancel, onRemove }: Props) {
  const [confirming, setConfirming] = useState(false);
  const downloading = isDownloading(download);
  const installed = model.status === 'installed';
  const broken = model.status === 'broken';
  const percent = download?.packTotal ? Math.min(100, (download.packBytes / download.packTotal) * 100) : null;
  const statusLabel = downloading ? 'Downloading' : installed ? 'Installed' : broken ? 'Needs repair' : 'Not installed';
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
          <dd data-testid="model-size">{installed || broken ? formatBytes(model.bytesOnDisk) : model.downloadBytes ? `about ${formatBytes(model.downloadBytes)}` : '—'}</dd>
        </div>
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
          Download failed: {download.error}
        </p>
      )}
      {download?.phase === 'cancelled' && !installed && <p className="muted">Download cancelled.</p>}

      {downloading && download && (
        <div className="model-card__progress">
          <div
            className={`progress${percent === null ? ' progress--indeterminate' : ''}`}
            role="progressbar"
            aria-label={`Downloading ${model.name}`}
            aria-valuemin={0}
            aria-valuemax={download.packTotal ?? undefined}
            aria-valuenow={percent === null ? undefined : download.packBytes}
          >
            <div className="progress__bar" style={percent === null ? undefined : { width: `${percent}%` }} />
          </div>
          <p className="muted" data-testid="download-detail">
            {[
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
          <button type="button" className="button button--quiet button--small" onClick={onCancel} aria-label={`Cancel download of ${model.name}`}>
            <CloseIcon />
            Cancel
          </button>
        ) : (
          <>
            {model.known && !installed && (
              <button type="button" className="button button--primary button--small" onClick={onInstall} aria-label={`Download ${model.name}`}>
                <DownloadIcon />
                {broken ? 'Repair' : model.stagedBytes > 0 ? 'Resume download' : 'Download'}
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
