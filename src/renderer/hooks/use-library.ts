import { useCallback, useEffect, useState } from 'react';
import type { LibraryStatus, Root } from '../../shared/api';
import type { FolderCount } from '../lib/folder-tree';
import { useTandem, useTandemEvent } from './use-tandem';

export type Library = {
  /** null until the first answer arrives, so the page does not flash the first-run screen. */
  roots: Root[] | null;
  status: LibraryStatus | null;
  folders: FolderCount[];
  refresh(): void;
};

/**
 * Library folders, counts by status and the folder tree's counts; kept fresh by `library.changed`.
 * The counts wait for `countsEnabled`, so at start-up the first page of photos is asked for first.
 */
export function useLibrary(onError: (err: unknown) => void, countsEnabled = true): Library {
  const api = useTandem();
  const [roots, setRoots] = useState<Root[] | null>(null);
  const [status, setStatus] = useState<LibraryStatus | null>(null);
  const [folders, setFolders] = useState<FolderCount[]>([]);

  const refreshRoots = useCallback(() => {
    api.invoke('library.listRoots', {}).then(setRoots, onError);
  }, [api, onError]);
  const refreshCounts = useCallback(() => {
    if (!countsEnabled) return;
    api.invoke('library.status', {}).then(setStatus, onError);
    api.invoke('photos.folders', {}).then(setFolders, onError);
  }, [api, onError, countsEnabled]);
  const refresh = useCallback(() => {
    refreshRoots();
    refreshCounts();
  }, [refreshRoots, refreshCounts]);
  useEffect(refreshRoots, [refreshRoots]);
  useEffect(refreshCounts, [refreshCounts]);
  useTandemEvent('library.changed', refresh);
  return { roots, status, folders, refresh };
}
