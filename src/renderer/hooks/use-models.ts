import { useCallback, useEffect, useRef, useState } from 'react';
import type { ModelDownloadProgress, ModelEntry } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

/**
 * `deleteSources`: a compiled pack (LLaVA) drops its downloaded weights once the compile is done.
 * `visionPrecision` / `embeddingPrecision`: compile (or recompile) a LLaVA pack's vision tower and embeddings at int8.
 */
export type InstallChoices = { deleteSources?: boolean; visionPrecision?: 'fp32' | 'int8'; embeddingPrecision?: 'fp32' | 'int8' };

export type Models = {
  /** null until the first answer. */
  list: ModelEntry[] | null;
  /** Downloads in progress (or just ended), by pack name. */
  downloads: ReadonlyMap<string, ModelDownloadProgress>;
  refresh(): void;
  install(name: string, options?: InstallChoices): void;
  cancelInstall(name: string): void;
  /** Asks for a folder, then imports it; resolves to the installed pack's name, or null. */
  importFolder(name?: string): Promise<string | null>;
  remove(name: string): Promise<boolean>;
  /** Deletes the downloaded weights of a compiled pack; it keeps running from its compiled folder. */
  deleteSources(name: string): Promise<boolean>;
};

export function isDownloading(p: ModelDownloadProgress | undefined): boolean {
  return p !== undefined && (p.phase === 'resolving' || p.phase === 'downloading' || p.phase === 'compiling');
}

/** Model packs and their downloads (`models.*` and `models.progress`). */
export function useModels(onError: (err: unknown) => void, enabled = true): Models {
  const api = useTandem();
  const [list, setList] = useState<ModelEntry[] | null>(null);
  const [downloads, setDownloads] = useState<ReadonlyMap<string, ModelDownloadProgress>>(new Map());

  const refresh = useCallback(() => {
    // A list taken while a download is moving its files into place can fail once; ask again before complaining.
    api
      .invoke('models.list', {})
      .catch(() => new Promise((done) => setTimeout(done, 400)).then(() => api.invoke('models.list', {})))
      .then(setList, onError);
  }, [api, onError]);
  useEffect(() => {
    if (enabled) refresh();
  }, [enabled, refresh]);

  // A finished download reports 'done' more than once (files fetched, then the pack moved into place):
  // list the packs once, after the last of them.
  const settleTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => clearTimeout(settleTimer.current ?? undefined), []);
  // An imported llava-hf folder is registered before it is compiled: its card appears with the first compile event.
  const askedFor = useRef(new Set<string>());
  useTandemEvent('models.progress', (p) => {
    setDownloads((all) => new Map(all).set(p.pack, p));
    if (p.phase === 'compiling' && list !== null && !list.some((m) => m.name === p.pack) && !askedFor.current.has(p.pack)) {
      askedFor.current.add(p.pack);
      refresh();
    }
    if (p.phase === 'done' || p.phase === 'failed' || p.phase === 'cancelled') {
      clearTimeout(settleTimer.current ?? undefined);
      settleTimer.current = setTimeout(refresh, 300);
    }
  });

  const install = useCallback(
    (name: string, options: InstallChoices = {}) => {
      // Shows the bar at once; the first progress event replaces this.
      setDownloads((all) =>
        new Map(all).set(name, {
          pack: name, phase: 'resolving', file: '', fileIndex: 0, fileCount: 0, fileBytes: 0, fileTotal: null,
          packBytes: 0, packTotal: null, bytesPerSecond: 0, etaSeconds: null, error: null,
        }),
      );
      api.invoke('models.install', { name, ...options }).catch((err: unknown) => {
        setDownloads((all) => {
          const next = new Map(all);
          next.delete(name);
          return next;
        });
        onError(err);
      });
    },
    [api, onError],
  );

  const cancelInstall = useCallback(
    (name: string) => {
      api.invoke('models.cancelInstall', { name }).catch(onError);
    },
    [api, onError],
  );

  const importFolder = useCallback(
    async (name?: string) => {
      try {
        // A grant from the main process's picker, spent by the import; the page never names the folder itself.
        const picked = await api.invoke('dialog.pickFolder', { purpose: 'model' });
        if (!picked.grant) return null;
        const entry = await api.invoke('models.import', { grant: picked.grant, ...(name ? { name } : {}) });
        refresh();
        return entry.name;
      } catch (err) {
        onError(err);
        return null;
      }
    },
    [api, onError, refresh],
  );

  const remove = useCallback(
    async (name: string) => {
      try {
        await api.invoke('models.remove', { name });
        refresh();
        return true;
      } catch (err) {
        onError(err);
        return false;
      }
    },
    [api, onError, refresh],
  );

  const deleteSources = useCallback(
    async (name: string) => {
      try {
        await api.invoke('models.deleteSources', { name });
        refresh();
        return true;
      } catch (err) {
        onError(err);
        return false;
      }
    },
    [api, onError, refresh],
  );

  return { list, downloads, refresh, install, cancelInstall, importFolder, remove, deleteSources };
}
