import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { AppSettings } from '../../shared/api';
import { useNotices } from './use-notices';
import { useTandem } from './use-tandem';

type SettingsState = {
  /** null until the core has answered. */
  settings: AppSettings | null;
  /** Saves a change at once; resolves to the stored settings (or null when the core refused it). */
  update(patch: Partial<AppSettings>): Promise<AppSettings | null>;
};

const SettingsContext = createContext<SettingsState | null>(null);

export function SettingsProvider({ children }: { children: ReactNode }) {
  const api = useTandem();
  const { reportError } = useNotices();
  const [settings, setSettings] = useState<AppSettings | null>(null);

  useEffect(() => {
    api.invoke('settings.get', {}).then(setSettings, reportError);
  }, [api, reportError]);

  const update = useCallback(
    async (patch: Partial<AppSettings>) => {
      // Shown at once (a radio button must not wait for the round trip), then replaced by what the core stored.
      let before: AppSettings | null = null;
      setSettings((cur) => {
        before = cur;
        return cur ? { ...cur, ...patch } : cur;
      });
      try {
        const next = await api.invoke('settings.set', patch);
        setSettings(next);
        return next;
      } catch (err) {
        if (before) setSettings(before);
        reportError(err);
        return null;
      }
    },
    [api, reportError],
  );

  const value = useMemo(() => ({ settings, update }), [settings, update]);
  return <SettingsContext value={value}>{children}</SettingsContext>;
}

export function useSettings(): SettingsState {
  const s = useContext(SettingsContext);
  if (!s) throw new Error('useSettings needs a SettingsProvider');
  return s;
}

/** Applies the theme setting to the page: 'system' follows the OS, the others force one look. */
export function useThemeAttribute(theme: AppSettings['theme'] | undefined): void {
  useEffect(() => {
    const root = document.documentElement;
    if (!theme || theme === 'system') delete root.dataset['theme'];
    else root.dataset['theme'] = theme;
  }, [theme]);
}
