import { forwardRef } from 'react';
import { CloseIcon, SearchIcon } from './icons';

type Props = { value: string; onChange(value: string): void; onSubmit?(): void };

/** One box for everything: captions, file names, folders, chats; results as you type. */
export const SearchBox = forwardRef<HTMLInputElement, Props>(function SearchBox({ value, onChange, onSubmit }, ref) {
  return (
    <div className="search-box" role="search">
      <SearchIcon className="search-box__icon" />
      <input
        ref={ref}
        type="search"
        className="search-box__input"
        aria-label="Search photos"
        aria-keyshortcuts="/ Control+F"
        placeholder="Search captions, file names, folders…"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onChange('');
          if (e.key === 'Enter' || e.key === 'ArrowDown') {
            e.preventDefault();
            onSubmit?.();
          }
        }}
        spellCheck={false}
        autoComplete="off"
      />
      {value && (
        <button type="button" className="search-box__clear icon-button icon-button--small" aria-label="Clear search" onClick={() => onChange('')}>
          <CloseIcon />
        </button>
      )}
    </div>
  );
});
