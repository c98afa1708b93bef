import { useCallback, useEffect, useState } from 'react';
import type { ScanCounts, ScanProgress } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type ScanState =
  | { kind: 'idle' }
  | { kind: 'starting'; folder: string | null }
  | { kind: 'scanning'; progress: ScanProgress }
  | { kind: 'finished'; counts: ScanCounts };

export type FolderScan = {
  state: ScanState;
  /** Picks a folder, adds it to the library and indexes it. Resolves once the scan has finished. */
  addFolder(): Promise<void>;
  dismiss(): void;
};

const FINISHED_VISIBLE_MS = 8000;

/**
 * The "Add folder…" flow and the scan progress panel. Progress comes from `scan.progress` events, so a scan
 * started elsewhere (the CLI, another window) shows up as well.
 */
export function useFolderScan(onError: (err: unknown) => void, onScanned: () => void): FolderScan {
  const api = useTandem();
  const [state, setState] = useState<ScanState>({ kind: 'idle' });

  useTandemEvent('scan.progress', (progress) => {
    // Events are ordered among themselves, so the last one of a scan is always 'done', even when it
    // arrives after the scan's own answer.
    setState(progress.phase === 'done' ? { kind: 'finished', counts: progress.counts } : { kind: 'scanning', progress });
  });

  useEffect(() => {
    if (state.kind !== 'finished') return;
    const timer = setTimeout(() => setState({ kind: 'idle' }), FINISHED_VISIBLE_MS);
    return () => clearTimeout(timer);
  }, [state]);

  const addFolder = useCallback(async () => {
    try {
      // The picker runs in the main process and answers with a grant for the folder the user chose, not a path.
      const picked = await api.invoke('dialog.pickFolder', { purpose: 'library' });
      if (!picked.grant) return;
      setState({ kind: 'starting', folder: picked.path });
      const root = await api.invoke('library.addRoot', { grant: picked.grant });
      const counts = await api.invoke('library.scan', { rootIds: [root.id] });
      setState({ kind: 'finished', counts });
      onScanned();
    } catch (err) {
      setState({ kind: 'idle' });
      onError(err);
    }
  }, [api, onError, onScanned]);

  const dismiss = useCallback(() => setState({ kind: 'idle' }), []);
  return { state, addFolder, dismiss };
}
