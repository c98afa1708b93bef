import { useCallback, useEffect, useState } from 'react';
import type { Root } from '../../shared/api';
import { useTandem, useTandemEvent } from './use-tandem';

export type LibraryRoots = {
  /** null until the first answer arrives, so the page does not flash the "no folders" state. */
  roots: Root[] | null;
  refresh(): void;
};

export function useLibraryRoots(onError: (err: unknown) => void): LibraryRoots {
  const api = useTandem();
  const [roots, setRoots] = useState<Root[] | null>(null);
  const refresh = useCallback(() => {
    api.invoke('library.listRoots', {}).then(setRoots, onError);
  }, [api, onError]);
  useEffect(refresh, [refresh]);
  useTandemEvent('library.changed', refresh);
  return { roots, refresh };
}
