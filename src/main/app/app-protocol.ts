import { protocol } from 'electron';
import { APP_SCHEME, appResponse, type AppResponseOptions } from './app-scheme';

/** Serves the built renderer on `app://tandem/…` (see app-scheme.ts); call once `app` is ready. */
export function handleAppProtocol(opts: AppResponseOptions): void {
  protocol.handle(APP_SCHEME, (request) => appResponse(opts, request.url, request.method));
}
