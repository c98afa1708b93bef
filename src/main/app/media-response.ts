import { TandemError } from '../core/errors';
import { readMedia, type MediaReply } from '../core/library/media-service';

export interface MediaResolver {
  resolve(urlPath: string): Promise<MediaReply>;
}

/** `tandem://thumb/12?size=small` → `thumb/12?size=small`, the form `MediaService.resolve` takes. */
export function mediaPathOfTandemUrl(url: string): string {
  const u = new URL(url);
  return `${u.host}${u.pathname}${u.search}`;
}

/**
 * Answers a media request by photo id. Shared by the `tandem:` protocol and the E2E harness's HTTP server,
 * so tests load thumbnails through the same code as the app.
 */
export async function mediaResponse(media: MediaResolver, urlPath: string, method = 'GET'): Promise<Response> {
  if (method !== 'GET' && method !== 'HEAD') return new Response('Method not allowed', { status: 405 });
  try {
    // `resolve` checked that the real file lies inside its library folder; `readMedia` holds it to that while reading.
    const reply = await media.resolve(urlPath);
    const body = method === 'HEAD' ? null : await readMedia(reply);
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': reply.mime,
        // Ids are stable but a rescan may replace a photo's content, so always revalidate.
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      },
    });
  } catch (err) {
    const code = err instanceof TandemError ? err.code : null;
    const status = code === 'not_found' ? 404 : code === 'outside_library' ? 403 : 500;
    const message = err instanceof Error ? err.message : String(err);
    return new Response(message, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
}
