import type { ReactNode } from 'react';
import { PhotosIcon, SearchIcon } from './icons';

type Props = { kind: 'no-folders' | 'no-photos' | 'no-matches'; title: string; children?: ReactNode };

export function EmptyState({ kind, title, children }: Props) {
  const Icon = kind === 'no-matches' ? SearchIcon : PhotosIcon;
  return (
    <section className="empty-state" data-empty={kind}>
      <div className="empty-state__icon">
        <Icon />
      </div>
      <h2 className="empty-state__title">{title}</h2>
      {children}
    </section>
  );
}
