import { channels, type ChannelName, type Envelope, type ParsedRequestOf, type ReplyOf } from '../../shared/api';
import { createChatHandlers } from './chat/chat-handlers';
import type { Core } from './core';
import { MAX_KEYWORDS_PER_PHOTO } from '../../shared/text-limits';
import { InvalidInputError, TandemError } from './errors';
import { FolderGrants } from './grants/folder-grants';
import { keywordSuggestions } from './library/keyword-suggestions';
import { createMetadataHandlers } from './metadata/metadata-handlers';
import { createEmbeddingHandlers } from './retrieval/embedding-handlers';
import { EMBED_KIND } from './retrieval/embed-job-store';

/** Channels the core answers; `dialog.*` belong to the app shell (or the test harness). */
export type CoreChannel = Exclude<ChannelName, `dialog.${string}`>;
export type Handler<C extends ChannelName> = (request: ParsedRequestOf<C>) => Promise<ReplyOf<C>> | ReplyOf<C>;

export type CoreHandlers = { [C in CoreChannel]: Handler<C> };

/**
 * Binds every core channel to the service that does the work. No channel holds logic of its own.
 * Folders arrive as grants that only the host's picker issues into `grants`; without a picker none can be redeemed.
 */
export function createCoreHandlers(core: Core, grants: FolderGrants = new FolderGrants()): CoreHandlers {
  return {
    // Chat channels are bound by the chat service's own handler module.
    ...createChatHandlers(core),
    ...createMetadataHandlers(core),
    // Search (words fused with meaning) and search by meaning's channels.
    ...createEmbeddingHandlers(core),
    'library.status': () => core.library.status(),
    'library.listRoots': () => core.library.listRoots(),
    'library.addRoot': ({ grant }) => core.library.addRoot(grants.redeem(grant, 'library')),
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
      core.metadata.afterEdit([photoId]);
      return core.photos.detail(photoId, core.captions.history(photoId));
    },
    'keywords.list': ({ photoId }) => photoKeywords(core, photoId),
    'keywords.vocabulary': ({ prefix, limit }) => (prefix.trim() ? keywordSuggestions(core.db, prefix, limit) : core.keywords.vocabulary(limit)),
    'keywords.add': ({ photoId, keywords }) => {
      const had = new Set(core.keywords.list(photoId).map((k) => k.keyword));
      const fresh = [...new Set(keywords)].filter((k) => !had.has(k));
      if (had.size + fresh.length > MAX_KEYWORDS_PER_PHOTO) {
        throw new InvalidInputError(`A photo can have at most ${MAX_KEYWORDS_PER_PHOTO} keywords.`);
      }
      core.db.transaction(() => {
        for (const k of fresh) core.keywords.add(photoId, k, 'user');
      })();
      core.metadata.afterEdit([photoId]);
      return photoKeywords(core, photoId);
    },
    'keywords.remove': ({ photoId, keyword }) => {
      core.keywords.remove(photoId, keyword);
      core.metadata.afterEdit([photoId]);
      return photoKeywords(core, photoId);
    },
    'export.start': ({ grant, options }) => core.exports.start(grants.redeem(grant, 'export'), options),
    'export.cancel': ({ exportId }) => {
      core.exports.cancel(exportId);
      return { ok: true as const };
    },
    'captions.history': ({ photoId }) => {
      core.photos.row(photoId);
      return core.captions.history(photoId);
    },
    'captions.revert': ({ photoId, captionId }) => {
      core.captions.revertTo(photoId, captionId);
      core.metadata.afterEdit([photoId]);
      return core.photos.detail(photoId, core.captions.history(photoId));
    },
    'captions.start': ({ scope, model, settings, regenerate }) => {
      const app = core.settings.get();
      const ref = core.captioning.resolveModel({ model: model ?? app.captionModel });
      const full = core.captioning.settings({ ...app.caption, ...settings });
      const queued = core.captioning.enqueue(scope, ref.name, full, { regenerate: regenerate ?? false });
      core.captioning.startInBackground({ model: ref.name, settings: full, precision: app.captionPrecision, batchSize: app.batchSize, threads: app.threads });
      return { queued, model: ref.name };
    },
    'captions.pause': () => {
      core.captioning.pause();
      return { ok: true as const };
    },
    'captions.resume': () => {
      core.captioning.resume();
      return { ok: true as const };
    },
    'captions.cancel': ({ model }) => {
      core.captioning.cancel(model ?? core.captioning.lastProgress?.model);
      return { ok: true as const };
    },
    'jobs.status': () => ({ counts: core.captioning.jobs.counts(), progress: core.captioning.lastProgress }),
    'jobs.failures': ({ limit }) =>
      // Search by meaning's failures are counted on its settings card: here they would read as failed captioning.
      core.captioning.jobs.failures(limit).filter((f) => f.kind !== EMBED_KIND).map((f) => ({
        jobId: f.id,
        photoId: f.photo_id,
        relPath: f.rel_path,
        model: f.model,
        error: f.error,
        attempts: f.attempts,
      })),
    'jobs.retry': ({ jobIds }) => {
      const requeued = core.captioning.jobs.retry(jobIds ? { jobIds } : {});
      const model = core.captioning.lastProgress?.model ?? core.settings.get().captionModel;
      const app = core.settings.get();
      if (requeued > 0) core.captioning.startInBackground({ model, settings: app.caption, precision: app.captionPrecision, batchSize: app.batchSize, threads: app.threads });
      // Failed metadata writes (read-only files, …) are in the same list; retrying them needs the write queue running.
      if (requeued > 0 && core.metadata.store.counts().queued > 0) void core.metadata.resumeQueued();
      // "Retry all" also re-queues failed embeddings (same table); they need the embedding run going.
      if (requeued > 0 && core.embeddings.jobs.counts().queued > 0) core.embeddings.startInBackground({ batchSize: app.batchSize });
      return { requeued };
    },
    'jobs.prioritize': ({ photoId }) => {
      core.captioning.jobs.prioritize(photoId);
      return { ok: true as const };
    },
    'models.list': () => core.models.list(),
    'models.install': ({ name, deleteSources, visionPrecision, embeddingPrecision }) => {
      core.downloads.start(name, {
        ...(deleteSources ? { deleteSources } : {}),
        ...(visionPrecision ? { visionPrecision } : {}),
        ...(embeddingPrecision ? { embeddingPrecision } : {}),
      });
      return { ok: true as const };
    },
    'models.deleteSources': ({ name }) => core.models.deleteSources(name),
    'models.cancelInstall': ({ name }) => {
      core.downloads.cancel(name);
      return { ok: true as const };
    },
    'models.import': async ({ grant, name }) => {
      const installed = await core.downloads.importFolder(grants.redeem(grant, 'model'), name);
      const entry = (await core.models.list()).find((m) => m.name === installed.name);
      if (!entry) throw new TandemError('internal', `Imported ${installed.name} but cannot list it.`);
      return entry;
    },
    'models.remove': async ({ name }) => {
      await core.models.remove(name);
      return { ok: true as const };
    },
    'settings.get': () => core.settings.get(),
    'settings.set': (patch) => core.settings.set(patch),
    'vqa.list': ({ photoId }) => {
      core.photos.row(photoId);
      return core.answers.forPhoto(photoId).reverse();
    },
    'vqa.ask': async ({ photoId, question }) => {
      const row = core.photos.row(photoId);
      const app = core.settings.get();
      return core.vqa.ask({
        photoId,
        path: core.photos.absolutePath(row),
        question,
        model: core.captioning.resolveModel({ model: app.vqaModel }),
        threads: app.threads,
        settings: core.captioning.settings(app.caption),
      });
    },
  };
}

function photoKeywords(core: Core, photoId: number): { photoId: number; keywords: { keyword: string; source: string }[] } {
  core.photos.row(photoId);
  return { photoId, keywords: core.keywords.list(photoId).map((k) => ({ keyword: k.keyword, source: k.source })) };
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
