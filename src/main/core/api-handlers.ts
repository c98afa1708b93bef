import { channels, type ChannelName, type Envelope, type ParsedRequestOf, type ReplyOf } from '../../shared/api';
import type { Core } from './core';
import { TandemError } from './errors';

/** Channels the core answers; `dialog.*` belong to the app shell (or the test harness). */
export type CoreChannel = Exclude<ChannelName, `dialog.${string}`>;

export type CoreHandlers = {
  [C in CoreChannel]: (request: ParsedRequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C>;
};

/** Binds every core channel to the service that does the work. No channel holds logic of its own. */
export function createCoreHandlers(core: Core): CoreHandlers {
  return {
    'library.status': () => core.library.status(),
    'library.listRoots': () => core.library.listRoots(),
    'library.addRoot': ({ path }) => core.library.addRoot(path),
    'library.removeRoot': ({ rootId }) => {
      core.library.removeRoot(rootId);
      return { ok: true as const };
    },
    'library.scan': ({ rootIds }) => core.library.scan(rootIds),
    'photos.list': ({ filters, sort, page }) => core.search.list(filters, sort, page.offset, page.limit),
    'photos.get': ({ id }) => core.photos.detail(id, core.captions.history(id)),
    'photos.folders': ({ rootId }) => core.search.folders(rootId),
    'captions.setUser': ({ photoId, text }) => {
      core.captions.add(photoId, 'user', text);
      return core.photos.detail(photoId, core.captions.history(photoId));
    },
    'search.query': ({ query, filters, page }) => core.search.search(query, filters, page.offset, page.limit),
  };
}

export type AnyHandlers = Partial<Record<ChannelName, (request: never) => unknown>>;

/**
 * Validates a request against the contract, runs the handler and validates the reply.
 * Errors come back as data with a readable message; stacks stay in the log.
 */
export async function dispatch(
  handlers: AnyHandlers,
  channel: string,
  rawRequest: unknown,
  log: (err: unknown) => void = (err) => console.error(err),
): Promise<Envelope<unknown>> {
  if (!Object.hasOwn(channels, channel)) {
    return { ok: false, error: { code: 'unknown_channel', message: `Unknown request: ${channel}` } };
  }
  const name = channel as ChannelName;
  const handler = handlers[name] as ((request: unknown) => unknown) | undefined;
  if (!handler) return { ok: false, error: { code: 'unknown_channel', message: `Nothing answers ${channel} here.` } };
  const parsed = channels[name].request.safeParse(rawRequest ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` (${issue.path.join('.')})` : '';
    return { ok: false, error: { code: 'invalid_request', message: `Invalid request for ${channel}${where}: ${issue?.message ?? 'bad input'}` } };
  }
  try {
    const value = await handler(parsed.data);
    const checked = channels[name].reply.safeParse(value);
    if (!checked.success) {
      log(new Error(`reply of ${channel} does not match the contract: ${checked.error.message}`));
      return { ok: false, error: { code: 'internal', message: 'Tandem produced an unexpected answer; see the log for details.' } };
    }
    return { ok: true, value: checked.data };
  } catch (err) {
    if (err instanceof TandemError) return { ok: false, error: { code: err.code, message: err.message } };
    log(err);
    return { ok: false, error: { code: 'internal', message: `Something went wrong: ${err instanceof Error ? err.message : String(err)}` } };
  }
}
