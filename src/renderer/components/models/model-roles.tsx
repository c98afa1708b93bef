import { useId } from 'react';
import type { AppSettings, ModelEntry } from '../../../shared/api';

type Role = { key: 'captionModel' | 'vqaModel' | 'chatModel'; label: string; kind: string; hint: string };

export const ROLES: Role[] = [
  { key: 'captionModel', label: 'Captions', kind: 'blip-caption', hint: 'Writes the caption of every photo.' },
  { key: 'vqaModel', label: 'Quick questions', kind: 'blip-vqa', hint: 'Short factual answers (BLIP VQA).' },
  { key: 'chatModel', label: 'Chat', kind: 'llava', hint: 'Open-ended conversation (embedded LLaVA).' },
];

type Props = { models: ModelEntry[]; settings: AppSettings; onChange(patch: Partial<AppSettings>): void };

/** Which pack does which job: captions, VQA, chat. */
export function ModelRoles({ models, settings, onChange }: Props) {
  const id = useId();
  return (
    <div className="roles">
      {ROLES.map((role) => {
        const candidates = models.filter((m) => m.kind === role.kind);
        const value = settings[role.key];
        const names = candidates.map((m) => m.name);
        return (
          <div key={role.key} className="roles__item">
            <label htmlFor={`${id}-${role.key}`} className="roles__label">
              {role.label}
            </label>
            <select id={`${id}-${role.key}`} className="select" value={value} onChange={(e) => onChange({ [role.key]: e.target.value })}>
              {!names.includes(value) && <option value={value}>{value} (not listed)</option>}
              {candidates.map((m) => (
                <option key={m.name} value={m.name}>
                  {m.name}
                  {m.status === 'installed' ? '' : ' (not installed)'}
                </option>
              ))}
            </select>
            <p className="roles__hint">{role.hint}</p>
          </div>
        );
      })}
    </div>
  );
}
