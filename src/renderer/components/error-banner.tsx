import { AlertIcon, CloseIcon } from './icons';

type Props = { message: string; onDismiss(): void };

export function ErrorBanner({ message, onDismiss }: Props) {
  return (
    <div className="error-banner" role="alert">
      <AlertIcon className="error-banner__icon" />
      <p className="error-banner__message">{message}</p>
      <button type="button" className="icon-button" aria-label="Dismiss error" onClick={onDismiss}>
        <CloseIcon />
      </button>
    </div>
  );
}
