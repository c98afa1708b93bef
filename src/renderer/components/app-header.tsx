import type { ReactNode } from 'react';
import { ChipIcon, LogoIcon, PhotosIcon, SettingsIcon } from './icons';

export type View = 'library' | 'models' | 'settings';

const NAV: { view: View; label: string; icon: ReactNode }[] = [
  { view: 'library', label: 'Library', icon: <PhotosIcon /> },
  { view: 'models', label: 'Models', icon: <ChipIcon /> },
  { view: 'settings', label: 'Settings', icon: <SettingsIcon /> },
];

type Props = { view: View; onView(view: View): void; children: ReactNode };

export function AppHeader({ view, onView, children }: Props) {
  return (
    <header className="app-header">
      <div className="brand">
        <LogoIcon className="brand__logo" />
        <span className="brand__name">Tandem</span>
      </div>
      <nav className="main-nav" aria-label="Main">
        {NAV.map((n) => (
          <button
            key={n.view}
            type="button"
            className={`main-nav__item${view === n.view ? ' main-nav__item--current' : ''}`}
            aria-current={view === n.view ? 'page' : undefined}
            onClick={() => onView(n.view)}
          >
            {n.icon}
            <span>{n.label}</span>
          </button>
        ))}
      </nav>
      <div className="app-header__tools">{children}</div>
    </header>
  );
}
