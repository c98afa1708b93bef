import type { ReactNode } from 'react';
import { LogoIcon } from './icons';

export function AppHeader({ children }: { children: ReactNode }) {
  return (
    <header className="app-header">
      <div className="brand">
        <LogoIcon className="brand__logo" />
        <span className="brand__name">Tandem</span>
      </div>
      <div className="app-header__tools">{children}</div>
    </header>
  );
}
