import { useCallback, useEffect, useId, useState, type KeyboardEvent } from 'react';
import type { PhotoKeywords } from '../../../shared/api';
import { useDebouncedValue } from '../../hooks/use-debounced-value';
import { useTandem } from '../../hooks/use-tandem';
import { readableError } from '../../lib/format';
import { keywordProblem, splitKeywords } from '../../lib/keyword-input';
import { CloseIcon } from '../icons';

type Props = { photoId: number };

const MAX_SUGGESTIONS = 8;

/**
 * The photo's keywords as chips. Enter or a comma adds what was typed, × or Backspace in the empty box removes,
 * and keywords already used in the library are suggested as the user types (↑/↓ to pick one).
 */
export function TagEditor({ photoId }: Props) {
  const api = useTandem();
  const listId = useId();
  const [keywords, setKeywords] = useState<PhotoKeywords['keywords'] | null>(null);
  const [typed, setTyped] = useState('');
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const [active, setActive] = useState(-1);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const prefix = useDebouncedValue(typed.trim(), 120);

  useEffect(() => {
    let live = true;
    setKeywords(null);
    setError(null);
    api.invoke('keywords.list', { photoId }).then(
      (r) => live && setKeywords(r.keywords),
      (err: unknown) => live && setError(readableError(err)),
    );
    return () => {
      live = false;
    };
  }, [api, photoId]);

  useEffect(() => {
    let live = true;
    if (!prefix) {
      setSuggestions([]);
      return;
    }
    api.invoke('keywords.vocabulary', { prefix, limit: MAX_SUGGESTIONS * 2 }).then(
      (vocab) => {
        if (!live) return;
        const have = new Set((keywords ?? []).map((k) => k.keyword.toLocaleLowerCase()));
        setSuggestions(vocab.map((v) => v.keyword).filter((k) => !have.has(k.toLocaleLowerCase())).slice(0, MAX_SUGGESTIONS));
        setActive(-1);
      },
      () => live && setSuggestions([]),
    );
    return () => {
      live = false;
    };
  }, [api, prefix, keywords]);

  const add = useCallback(
    async (words: string[]) => {
      const problem = words.map(keywordProblem).find((p) => p !== null);
      if (problem) return setError(problem);
      if (words.length === 0) return;
      setBusy(true);
      setError(null);
      try {
        const r = await api.invoke('keywords.add', { photoId, keywords: words });
        setKeywords(r.keywords);
        setTyped('');
        setSuggestions([]);
      } catch (err) {
        setError(readableError(err));
      } finally {
        setBusy(false);
      }
    },
    [api, photoId],
  );

  const remove = useCallback(
    async (keyword: string) => {
      setError(null);
      try {
        const r = await api.invoke('keywords.remove', { photoId, keyword });
        setKeywords(r.keywords);
      } catch (err) {
        setError(readableError(err));
      }
    },
    [api, photoId],
  );

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      const picked = active >= 0 ? suggestions[active] : undefined;
      void add(picked ? [picked] : splitKeywords(typed));
    } else if (e.key === 'Backspace' && typed === '' && keywords && keywords.length > 0) {
      e.preventDefault();
      void remove(keywords[keywords.length - 1]!.keyword);
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && suggestions.length > 0) {
      e.preventDefault();
      // -1 is the typed text itself; the cursor cycles through it and the suggestions.
      const n = suggestions.length;
      setActive((a) => (e.key === 'ArrowDown' ? (a + 1 >= n ? -1 : a + 1) : a - 1 < -1 ? n - 1 : a - 1));
    }
  };

  const open = suggestions.length > 0 && typed.trim() !== '';
  return (
    <div className="tag-editor">
      <ul className="tag-editor__chips" aria-label="Keywords" aria-busy={keywords === null}>
        {(keywords ?? []).map((k) => (
          <li key={k.keyword} className={`tag-chip${k.source === 'file' ? ' tag-chip--file' : ''}`} title={k.source === 'file' ? 'From the file' : undefined}>
            <span className="tag-chip__text" data-testid="keyword">
              {k.keyword}
            </span>
            <button type="button" className="tag-chip__remove" aria-label={`Remove keyword ${k.keyword}`} onClick={() => void remove(k.keyword)}>
              <CloseIcon />
            </button>
          </li>
        ))}
      </ul>
      <div className="tag-editor__field">
        <input
          className="input tag-editor__input"
          aria-label="Add keyword"
          placeholder={keywords && keywords.length ? 'Add a keyword…' : 'Add keywords, Enter or comma after each…'}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={onKeyDown}
          readOnly={busy}
          role="combobox"
          aria-expanded={open}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={open && active >= 0 ? `${listId}-${active}` : undefined}
        />
        {open && (
          <ul className="tag-editor__suggestions" role="listbox" id={listId} aria-label="Keyword suggestions">
            {suggestions.map((s, i) => (
              <li
                key={s}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                className={`tag-editor__suggestion${i === active ? ' tag-editor__suggestion--active' : ''}`}
                // Before the input loses focus, so the click lands.
                onMouseDown={(e) => {
                  e.preventDefault();
                  void add([s]);
                }}
              >
                {s}
              </li>
            ))}
          </ul>
        )}
      </div>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
