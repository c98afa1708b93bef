import { useEffect, useId, useState } from 'react';
import type { AppSettings, ModelEntry } from '../../../shared/api';

type Props = {
  models: ModelEntry[];
  settings: AppSettings | null;
  /** True when the shown caption is a person's, so a new model caption will not replace it. */
  userCaptionShown: boolean;
  onRegenerate(request: { model: string; numBeams: number; maxLength: number; prompt: string | null }): Promise<boolean>;
  /** Set when a new model caption for this photo has arrived since the request. */
  arrived: boolean;
};

/** "Regenerate with…": another model, more beams or a prompt prefix, for this photo only. */
export function RegenerateForm({ models, settings, userCaptionShown, onRegenerate, arrived }: Props) {
  const captioners = models.filter((m) => m.kind === 'blip-caption' && m.status === 'installed');
  const [model, setModel] = useState('');
  const [beams, setBeams] = useState(3);
  const [maxLength, setMaxLength] = useState(30);
  const [prompt, setPrompt] = useState('');
  const [state, setState] = useState<'idle' | 'queued'>('idle');
  const id = useId();

  useEffect(() => {
    if (!settings) return;
    setModel((m) => m || settings.captionModel);
    setBeams(settings.caption.numBeams);
    setMaxLength(settings.caption.maxLength);
    setPrompt(settings.caption.prompt ?? '');
  }, [settings]);

  useEffect(() => {
    if (arrived) setState('idle');
  }, [arrived]);

  const installedNames = captioners.map((m) => m.name);
  const options = installedNames.includes(model) || !model ? installedNames : [model, ...installedNames];

  return (
    <form
      className="regenerate"
      onSubmit={(e) => {
        e.preventDefault();
        void onRegenerate({ model, numBeams: beams, maxLength, prompt: prompt.trim() || null }).then((ok) => ok && setState('queued'));
      }}
    >
      <div className="form-grid">
        <label htmlFor={`${id}-model`}>Model</label>
        <select id={`${id}-model`} className="select" value={model} onChange={(e) => setModel(e.target.value)}>
          {options.length === 0 && <option value="">No captioning model installed</option>}
          {options.map((name) => (
            <option key={name} value={name}>
              {name}
              {installedNames.includes(name) ? '' : ' (not installed)'}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-beams`}>Beams</label>
        <input id={`${id}-beams`} className="input input--number" type="number" min={1} max={16} value={beams} onChange={(e) => setBeams(Math.max(1, Math.min(16, Number(e.target.value) || 1)))} />
        <label htmlFor={`${id}-max`}>Max length</label>
        <input id={`${id}-max`} className="input input--number" type="number" min={5} max={120} value={maxLength} onChange={(e) => setMaxLength(Math.max(5, Math.min(120, Number(e.target.value) || 30)))} />
        <label htmlFor={`${id}-prompt`}>Prompt</label>
        <input id={`${id}-prompt`} className="input" value={prompt} placeholder="e.g. a photography of" onChange={(e) => setPrompt(e.target.value)} />
      </div>
      <div className="regenerate__footer">
        <button type="submit" className="button button--primary button--small" disabled={!model || state === 'queued'}>
          {state === 'queued' ? 'Generating…' : 'Regenerate'}
        </button>
        <p className="muted" role="status">
          {state === 'queued'
            ? 'Queued first in line. The new caption appears in the history below.'
            : userCaptionShown
              ? 'Your own caption stays shown; the new one is added to the history, where you can pick it.'
              : ''}
        </p>
      </div>
    </form>
  );
}
