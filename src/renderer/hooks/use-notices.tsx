import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { readableError } from '../lib/format';

export type Toast = { id: number; message: string; action?: { label: string; run(): void } };

type Notices = {
  error: string | null;
  toasts: Toast[];
  /** Shows a readable message for anything the core (or the browser) threw. */
  reportError(err: unknown): void;
  dismissError(): void;
  /** A short confirmation at the bottom of the window, optionally with one action (e.g. "Undo"). */
  toast(message: string, action?: Toast['action']): void;
  dismissToast(id: number): void;
};

const NoticesContext = createContext<Notices | null>(null);

const TOAST_MS = 7000;

export function NoticesProvider({ children }: { children: ReactNode }) {
  const [error, setError] = useState<string | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const reportError = useCallback((err: unknown) => setError(readableError(err)), []);
  const dismissError = useCallback(() => setError(null), []);
  const dismissToast = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const toast = useCallback(
    (message: string, action?: Toast['action']) => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-2), { id, message, ...(action ? { action } : {}) }]);
      setTimeout(() => dismissToast(id), TOAST_MS);
    },
    [dismissToast],
  );

  const value = useMemo(
    () => ({ error, toasts, reportError, dismissError, toast, dismissToast }),
    [error, toasts, reportError, dismissError, toast, dismissToast],
  );
  return <NoticesContext value={value}>{children}</NoticesContext>;
}

export function useNotices(): Notices {
  const n = useContext(NoticesContext);
  if (!n) throw new Error('useNotices needs a NoticesProvider');
  return n;
}
