import { useEffect, useRef, useState } from 'react';
import type { PhotoDetail } from '../../../shared/api';
import { sourceKind, sourceLabel } from '../../lib/caption-history';
import { PencilIcon } from '../icons';

type Props = {
  detail: PhotoDetail | null;
  onSave(text: string): Promise<boolean>;
  /** Bump to start editing from outside (the E key). */
  editRequest: number;
};

/**
 * The shown caption, editable in place: Enter saves, Escape cancels. Saving is immediate (and undoable
 * from the toast or with Ctrl/Cmd+Z); the old caption stays in the history.
 */
export function CaptionEditor({ detail, onSave, editRequest }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [saving, setSaving] = useState(false);
  const input = useRef<HTMLInputElement | null>(null);
  const editButton = useRef<HTMLButtonElement | null>(null);

  const caption = detail?.caption ?? null;
  const source = detail?.captionSource ?? null;

  const start = () => {
    if (!detail) return;
    setDraft(caption ?? '');
    setEditing(true);
  };

  useEffect(() => {
    if (editRequest > 0) start();
    // Starting is the point of the request; `start` reads the latest caption.
  }, [editRequest]);

  // Leaving the photo drops an unsaved edit.
  useEffect(() => setEditing(false), [detail?.id]);

  useEffect(() => {
    if (editing) {
      input.current?.focus();
      input.current?.select();
    }
  }, [editing]);

  // After an edit, focus goes back to the control that started it, so the keyboard user stays in place.
  const refocus = useRef(false);
  const finish = () => {
    refocus.current = true;
    setEditing(false);
  };
  useEffect(() => {
    if (!editing && refocus.current) {
      refocus.current = false;
      editButton.current?.focus();
    }
  }, [editing]);

  const save = async () => {
    const text = draft.trim();
    if (text === (caption ?? '')) {
      finish();
      return;
    }
    setSaving(true);
    const ok = await onSave(text);
    setSaving(false);
    if (ok) finish();
  };

  if (editing) {
    return (
      <div className="caption-editor caption-editor--editing">
        <input
          ref={input}
          className="caption-editor__input"
          aria-label="Caption"
          value={draft}
          disabled={saving}
          placeholder="Describe this photo"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              void save();
            } else if (e.key === 'Escape') {
              // Escape here cancels the edit; it must not also close the photo.
              e.preventDefault();
              e.stopPropagation();
              finish();
            }
          }}
        />
        <div className="caption-editor__actions">
          <span className="caption-editor__hint">Enter to save · Esc to cancel</span>
          <button type="button" className="button button--quiet button--small" onClick={finish} disabled={saving}>
            Cancel
          </button>
          <button type="button" className="button button--primary button--small" onClick={() => void save()} disabled={saving}>
            Save
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="caption-editor">
      <p className={`caption-editor__text${caption ? '' : ' caption-editor__text--empty'}`} data-testid="shown-caption" onClick={start}>
        {caption ?? (detail ? 'No caption yet' : '…')}
      </p>
      {source && (
        <span className={`source-chip source-chip--${sourceKind(source)}`} data-testid="caption-source">
          {sourceKind(source) === 'model' ? `Model · ${sourceLabel(source)}` : sourceKind(source) === 'user' ? 'Edited by you' : 'From the file'}
        </span>
      )}
      <button ref={editButton} type="button" className="button button--quiet button--small" onClick={start} disabled={!detail} aria-keyshortcuts="E">
        <PencilIcon />
        <span>Edit caption</span>
      </button>
    </div>
  );
}
