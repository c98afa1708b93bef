import { protocol } from 'electron';
import { mediaPathOfTandemUrl, mediaResponse, type MediaResolver } from './media-response';

export const MEDIA_SCHEME = 'tandem';

/** Must run before `app` is ready: a standard, secure scheme can be used by <img>, fetch and streams. */
export function registerMediaSchemeAsPrivileged(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

/** `tandem://thumb/<id>` and `tandem://photo/<id>`: database ids in, bytes out; the page never names a path. */
export function handleMediaProtocol(media: MediaResolver): void {
  protocol.handle(MEDIA_SCHEME, (request) => {
    let urlPath: string;
    try {
      urlPath = mediaPathOfTandemUrl(request.url);
    } catch {
      return new Response('Bad media address', { status: 400 });
    }
    return mediaResponse(media, urlPath, request.method);
  });
}
