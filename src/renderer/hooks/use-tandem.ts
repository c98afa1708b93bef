import { createContext, useContext, useEffect, useRef } from 'react';
import type { EventName, EventOf, TandemApi } from '../../shared/api';

/** The API the page talks to. Provided once in main.tsx from `window.tandem`; components never reach for globals. */
export const TandemContext = createContext<TandemApi | null>(null);

export function useTandem(): TandemApi {
  const api = useContext(TandemContext);
  if (!api) throw new Error('Tandem is not available: the page was opened outside the app.');
  return api;
}

/** Subscribes to a core event for the component's lifetime; the latest listener is always called. */
export function useTandemEvent<E extends EventName>(event: E, listener: (payload: EventOf<E>) => void): void {
  const api = useTandem();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => api.on(event, (payload) => latest.current(payload)), [api, event]);
}
