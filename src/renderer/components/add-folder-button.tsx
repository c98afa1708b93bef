import { FolderPlusIcon } from './icons';

type Props = { onClick(): void; busy: boolean; variant?: 'primary' | 'quiet' };

export function AddFolderButton({ onClick, busy, variant = 'primary' }: Props) {
  return (
    <button type="button" className={`button button--${variant}`} onClick={onClick} disabled={busy} aria-busy={busy}>
      <FolderPlusIcon />
      <span>Add folder…</span>
    </button>
  );
}
