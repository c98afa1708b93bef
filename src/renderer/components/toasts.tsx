import { useNotices } from '../hooks/use-notices';
import { CloseIcon } from './icons';

/** Short confirmations ("Caption saved · Undo"), announced politely. */
export function Toasts() {
  const { toasts, dismissToast } = useNotices();
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className="toast" data-testid="toast">
          <span className="toast__message">{t.message}</span>
          {t.action && (
            <button
              type="button"
              className="button button--link toast__action"
              onClick={() => {
                t.action!.run();
                dismissToast(t.id);
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" className="icon-button icon-button--small" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
