import { useEffect, useId, useState } from 'react';

type Props = {
  label: string;
  hint?: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  integer?: boolean;
  onCommit(value: number): void;
};

/** A number that is saved when the field is left or Enter is pressed; out-of-range input snaps back with a note. */
export function NumberField({ label, hint, value, min, max, step = 1, integer = true, onCommit }: Props) {
  const id = useId();
  const [draft, setDraft] = useState(String(value));
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setDraft(String(value)), [value]);

  const commit = () => {
    const n = Number(draft);
    if (draft.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      setProblem(`Use ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
      setDraft(String(value));
      return;
    }
    setProblem(null);
    if (n !== value) onCommit(n);
  };

  return (
    <div className="setting">
      <label className="setting__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className="input input--number"
        type="number"
        min={min}
        max={max}
        step={step}
        value={draft}
        aria-describedby={hint || problem ? `${id}-hint` : undefined}
        aria-invalid={problem ? true : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
      {(hint || problem) && (
        <p id={`${id}-hint`} className={problem ? 'setting__hint setting__hint--problem' : 'setting__hint'}>
          {problem ?? hint}
        </p>
      )}
    </div>
  );
}
