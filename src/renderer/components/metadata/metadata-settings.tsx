import { useCallback, useEffect, useId, useState } from 'react';
import type { AppSettings, Root } from '../../../shared/api';
import { readableError } from '../../lib/format';
import { useTandem } from '../../hooks/use-tandem';

type Props = {
  settings: AppSettings;
  onSettings(patch: Partial<AppSettings>): Promise<unknown>;
  roots: Root[];
};

/**
 * "Captions in files": when Tandem writes captions and keywords out on its own, and, per library folder, whether it
 * may rewrite the photo files themselves (off: an XMP sidecar beside each photo, the photo untouched).
 */
export function MetadataSettingsCard({ settings, onSettings, roots }: Props) {
  const api = useTandem();
  const id = useId();
  const [embedRoots, setEmbedRoots] = useState<ReadonlySet<number>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    api.invoke('metadata.embedFolders', {}).then((r) => setEmbedRoots(new Set(r.rootIds)), (err: unknown) => setError(readableError(err)));
  }, [api]);
  useEffect(reload, [reload, roots]);
  const setEmbed = (rootId: number, enabled: boolean) => {
    // Shown at once; the core's answer (or its refusal) settles it.
    setEmbedRoots((prev) => {
      const next = new Set(prev);
      if (enabled) next.add(rootId);
      else next.delete(rootId);
      return next;
    });
    setError(null);
    api.invoke('metadata.setEmbed', { rootId, enabled }).then(reload, (err: unknown) => {
      setError(readableError(err));
      reload();
    });
  };
  return (
    <section className="card" aria-labelledby={`${id}-files`}>
      <h2 id={`${id}-files`} className="card__title">
        Captions in files
      </h2>
      <p className="muted">
        Tandem writes captions and keywords to an XMP sidecar next to each photo (<code>photo.jpg.xmp</code>), which Lightroom, digiKam and
        darktable read. The photo itself is not touched unless you allow it for its folder below.
      </p>
      <div className="radio-list">
        <label className="check-inline">
          <input
            type="checkbox"
            checked={settings.writeMetadataAfterCaptioning}
            onChange={(e) => void onSettings({ writeMetadataAfterCaptioning: e.target.checked })}
          />
          <span>Write to files after captioning</span>
        </label>
        <label className="check-inline">
          <input type="checkbox" checked={settings.writeMetadataAfterEdit} onChange={(e) => void onSettings({ writeMetadataAfterEdit: e.target.checked })} />
          <span>Write to files after each edit</span>
        </label>
      </div>
      {roots.length > 0 && (
        <ul className="root-list" aria-label="Embed into photo files">
          {roots.map((r) => (
            <li key={r.id} className="root-row">
              <label className="check-inline">
                <input type="checkbox" checked={embedRoots.has(r.id)} onChange={(e) => setEmbed(r.id, e.target.checked)} aria-label={`Embed into photo files in ${r.path}`} />
                <span>
                  Embed into the photo files in <strong>{r.path}</strong>
                </span>
              </label>
              <span className="muted">Rewrites each photo’s metadata in place (atomically, keeping its date); the pixels stay as they are.</span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
