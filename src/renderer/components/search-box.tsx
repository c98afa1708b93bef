import { SearchIcon } from './icons';

type Props = { value: string; onChange(value: string): void };

export function SearchBox({ value, onChange }: Props) {
  return (
    <div className="search-box" role="search">
      <SearchIcon className="search-box__icon" />
      <input
        type="search"
        className="search-box__input"
        aria-label="Search photos"
        placeholder="Search captions, file names, folders…"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onChange('');
        }}
        spellCheck={false}
        autoComplete="off"
      />
    </div>
  );
}
