import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelFileError, TandemError } from '../errors';
import {
  cancelledError,
  connectError,
  HubError,
  interruptedError,
  statusError,
  timeoutError,
  type HubRequestContext,
} from './hub-errors';
import { MAX_REDIRECTS, mayCarryToken, originOf, REDIRECT_STATUSES, redirectTarget } from './hub-redirects';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubSettings {
  endpoint: string;
  token?: string;
}

/** Reads the same variables as huggingface_hub, so a user's existing setup just works. */
export function hubSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  overrides: { endpoint?: string; token?: string } = {},
): HubSettings {
  const endpoint = overrides.endpoint || env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT;
  const token = overrides.token || env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  return token ? { endpoint, token } : { endpoint };
}

export interface HubDownloaderOptions {
  endpoint?: string;
  token?: string;
  fetch?: typeof fetch;
  /** No response, or no bytes mid-transfer, for this long counts as a stall. */
  timeoutMs?: number;
  /** Extra attempts after a dropped connection, stall or 5xx; each resumes with Range. */
  retries?: number;
  retryDelayMs?: number;
  userAgent?: string;
}

/** What the hub says about a file before we fetch it (HEAD, as huggingface_hub does). */
export interface RemoteFileInfo {
  path: string;
  size: number | null;
  /** The LFS oid, when the hub gives one: the sha256 of the content. */
  sha256: string | null;
  /** x-repo-commit: the commit `revision` pointed at, so the rest of a pack can be pinned to it. */
  commit: string | null;
}

export interface FileDownloadRequest {
  repo: string;
  revision: string;
  path: string;
  /** Final location; the transfer goes to `<dest>.part` and is renamed into place once verified. */
  dest: string;
  expectedSha256?: string | null;
  expectedSize?: number | null;
  signal?: AbortSignal;
  onBytes?: (fileBytes: number, fileTotal: number | null) => void;
}

export interface FileDownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** Whether the content was checked against a known sha256 (pinned or the hub's LFS oid). */
  verified: boolean;
}

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** ETags come quoted and sometimes weak (W/"…"); only a 64-hex one is an LFS sha256 (small files carry a git sha1). */
export function sha256FromEtag(value: string | null): string | null {
  if (!value) return null;
  const bare = value.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  return SHA256_PATTERN.test(bare) ? bare : null;
}

function parseContentRange(value: string | null): { start: number; total: number | null } | null {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) };
}

function parseLength(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value);
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashPrefix(hash: Hash, path: string, bytes: number): Promise<void> {
  if (bytes <= 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
}

/** Fires when nothing happened for `ms`; re-armed by every chunk. */
class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  fired = false;
  constructor(private readonly ms: number) {
    this.arm();
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new Error('stalled'));
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Sidecar of a .part file: what it was a prefix of, so a changed remote file restarts from zero. */
interface PartMeta {
  sha256: string | null;
  size: number | null;
}

/**
 * Fetches files from a Hugging Face hub (or a mirror with the same URL layout):
 * `<endpoint>/<repo>/resolve/<revision>/<path>`.
 */
export class HubDownloader {
  readonly endpoint: string;
  private readonly token: string | undefined;
  /** The only origin the token is sent to: the configured endpoint's, never a host it redirects to. */
  private readonly tokenOrigin: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly userAgent: string;

  constructor(options: HubDownloaderOptions = {}) {
    this.endpoint = (options.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
    this.token = options.token;
    this.tokenOrigin = originOf(this.endpoint);
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.userAgent = options.userAgent ?? `tandem/0.1; node/${process.versions.node}`;
  }

  fileUrl(repo: string, revision: string, path: string): string {
    const repoPart = repo.split('/').map(encodeURIComponent).join('/');
    const filePart = path.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${repoPart}/resolve/${encodeURIComponent(revision)}/${filePart}`;
  }

  /**
   * Asks for a file's size, LFS sha256 and commit without downloading it. Returns null when the
   * repo and revision exist but the file does not, so packs can fall back to an alternative.
   */
  async probe(repo: string, revision: string, path: string, signal?: AbortSignal): Promise<RemoteFileInfo | null> {
    const ctx = this.context(repo, revision, path);
    let url = this.fileUrl(repo, revision, path);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.send(url, 'HEAD', {}, ctx, signal);
      await res.body?.cancel().catch(() => {});
      const linkedSize = res.headers.get('x-linked-size');
      const linkedEtag = res.headers.get('x-linked-etag');
      const location = res.headers.get('location');
      // LFS files answer with a redirect to storage that already carries the metadata: stop there.
      if (REDIRECT_STATUSES.has(res.status) && location && linkedSize === null && linkedEtag === null) {
        url = redirectTarget(url, location, ctx);
        continue;
      }
      if (res.status === 404 && !['RepositoryNotFound', 'RevisionNotFound'].includes(res.headers.get('x-error-code') ?? '')) return null;
      if (res.status >= 400) throw statusError(res, ctx, this.token !== undefined);
      return {
        path,
        size: parseLength(linkedSize) ?? parseLength(res.headers.get('content-length')),
        sha256: sha256FromEtag(linkedEtag) ?? sha256FromEtag(res.headers.get('etag')),
        commit: res.headers.get('x-repo-commit'),
      };
    }
    throw new HubError('hub_http', `${this.endpoint} redirected ${path} too many times.`);
  }

  /**
   * Downloads one file with resume, verification and an atomic rename. A cancelled or failed
   * transfer leaves `<dest>.part` so the next call resumes with a Range request; a file whose
   * hash does not match is deleted.
   */
  async download(req: FileDownloadRequest): Promise<FileDownloadResult> {
    const part = `${req.dest}.part`;
    const metaPath = `${part}.json`;
    await mkdir(dirname(req.dest), { recursive: true });
    await this.discardStalePart(part, metaPath, req);
    const meta: PartMeta = { sha256: req.expectedSha256 ?? null, size: req.expectedSize ?? null };
    await writeFile(metaPath, JSON.stringify(meta));

    let outcome: AttemptOutcome | undefined;
    for (let attempt = 0; ; attempt++) {
      if (req.signal?.aborted) throw cancelledError(req);
      try {
        outcome = await this.attempt(req, part);
        break;
      } catch (err) {
        if (!(err instanceof HubError) || !err.retryable || attempt >= this.retries) throw err;
        try {
          await sleep(this.retryDelayMs * (attempt + 1), undefined, { signal: req.signal });
        } catch {
          throw cancelledError(req);
        }
      }
    }

    const expected = req.expectedSha256 ?? outcome.hubSha256;
    const sizeWrong = req.expectedSize != null && outcome.size !== req.expectedSize;
    if (sizeWrong || (expected && outcome.sha256 !== expected)) {
      await rm(part, { force: true });
      await rm(metaPath, { force: true });
      const what = sizeWrong
        ? `is ${outcome.size} bytes where the hub announced ${req.expectedSize}`
        : `does not match its expected sha256 (expected ${expected}, got ${outcome.sha256})`;
      throw new ModelFileError(
        req.path,
        `Downloaded ${req.path} from ${req.repo} ${what}, so it was deleted. Run the install again; if it keeps failing, a proxy or mirror is serving a damaged file.`,
      );
    }
    await rename(part, req.dest);
    await rm(metaPath, { force: true });
    return { path: req.path, size: outcome.size, sha256: outcome.sha256, verified: Boolean(expected) };
  }

  private context(repo: string, revision: string, path: string): HubRequestContext {
    return { endpoint: this.endpoint, repo, revision, path };
  }

  /** A .part left by a download of different content (the remote file changed) cannot be resumed. */
  private async discardStalePart(part: string, metaPath: string, req: FileDownloadRequest): Promise<void> {
    let previous: PartMeta | null = null;
    try {
      previous = JSON.parse(await readFile(metaPath, 'utf8')) as PartMeta;
    } catch {
      return;
    }
    const shaChanged = previous.sha256 && req.expectedSha256 && previous.sha256 !== req.expectedSha256;
    const sizeChanged = previous.size != null && req.expectedSize != null && previous.size !== req.expectedSize;
    if (shaChanged || sizeChanged) await rm(part, { force: true });
  }

  private async attempt(req: FileDownloadRequest, part: string): Promise<AttemptOutcome> {
    const ctx = this.context(req.repo, req.revision, req.path);
    let offset = await fileSize(part);
    if (req.expectedSize != null && offset > req.expectedSize) {
      await truncate(part, 0);
      offset = 0;
    }
    if (req.expectedSize != null && offset === req.expectedSize && offset > 0) {
      // A previous run got every byte but stopped before the rename.
      const hash = createHash('sha256');
      await hashPrefix(hash, part, offset);
      req.onBytes?.(offset, offset);
      return { size: offset, sha256: hash.digest('hex'), hubSha256: null };
    }

    const url = this.fileUrl(req.repo, req.revision, req.path);
    const watchdog = new Watchdog(this.timeoutMs);
    try {
      let res = await this.follow(url, 'GET', offset > 0 ? { range: `bytes=${offset}-` } : {}, ctx, req.signal, watchdog);
      let start = 0;
      let total: number | null = null;
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (range && range.start === offset) {
          start = offset;
          total = range.total;
        } else {
          // A range we did not ask for: safest is to start over from byte 0.
          await res.body?.cancel().catch(() => {});
          await truncate(part, 0);
          res = await this.follow(url, 'GET', {}, ctx, req.signal, watchdog);
        }
      } else if (res.status === 416 && offset > 0) {
        // The server says our offset is past the end: the .part is not a prefix of this file.
        await res.body?.cancel().catch(() => {});
        await truncate(part, 0);
        res = await this.follow(url, 'GET', {}, ctx, req.signal, watchdog);
      }
      if (res.status !== 206 && res.status !== 200) throw statusError(res, ctx, this.token !== undefined);
      if (res.status === 200) {
        // Also the path when the server ignores Range: the body is the whole file again.
        start = 0;
        const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
        total = encoded ? null : parseLength(res.headers.get('content-length'));
      }
      const hubSha256 = sha256FromEtag(res.headers.get('x-linked-etag')) ?? sha256FromEtag(res.headers.get('etag'));
      const hash = createHash('sha256');
      // Hashing a large prefix can take longer than the stall timeout; that is not the server's fault.
      watchdog.stop();
      await hashPrefix(hash, part, start);
      watchdog.arm();
      const size = await this.receive(res, part, start, total, hash, watchdog, ctx, req);
      return { size, sha256: hash.digest('hex'), hubSha256 };
    } finally {
      watchdog.stop();
    }
  }

  private async receive(
    res: Response,
    part: string,
    start: number,
    total: number | null,
    hash: Hash,
    watchdog: Watchdog,
    ctx: HubRequestContext,
    req: FileDownloadRequest,
  ): Promise<number> {
    const handle = await open(part, start > 0 ? 'a' : 'w');
    let bytes = start;
    let complete = false;
    req.onBytes?.(bytes, total);
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          watchdog.arm();
          await handle.write(chunk);
          hash.update(chunk);
          bytes += chunk.byteLength;
          req.onBytes?.(bytes, total);
        }
      }
      complete = total === null || bytes >= total;
      if (complete) await handle.datasync();
    } catch (err) {
      if (req.signal?.aborted) throw cancelledError(ctx);
      if (watchdog.fired) throw timeoutError(ctx, this.timeoutMs / 1000, err);
      throw interruptedError(ctx, bytes, total, err);
    } finally {
      await handle.close();
    }
    if (!complete) throw interruptedError(ctx, bytes, total);
    return bytes;
  }

  /** `send`, following redirects under the rules of hub-redirects.ts (the Range header goes along). */
  private async follow(
    url: string,
    method: 'GET' | 'HEAD',
    extraHeaders: Record<string, string>,
    ctx: HubRequestContext,
    signal: AbortSignal | undefined,
    watchdog: Watchdog,
  ): Promise<Response> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const res = await this.send(current, method, extraHeaders, ctx, signal, watchdog);
      const location = res.headers.get('location');
      if (!REDIRECT_STATUSES.has(res.status) || !location) return res;
      await res.body?.cancel().catch(() => {});
      current = redirectTarget(current, location, ctx);
    }
    throw new HubError('hub_http', `${this.endpoint} redirected ${ctx.path} too many times.`);
  }

  /** One request, redirects not followed; the token only goes along to the endpoint's own origin. */
  private async send(
    url: string,
    method: 'GET' | 'HEAD',
    extraHeaders: Record<string, string>,
    ctx: HubRequestContext,
    signal: AbortSignal | undefined,
    watchdog?: Watchdog,
  ): Promise<Response> {
    const ownWatchdog = watchdog ?? new Watchdog(this.timeoutMs);
    ownWatchdog.arm();
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      // Compressed transfer would break Range offsets and Content-Length checks.
      'accept-encoding': 'identity',
      ...extraHeaders,
    };
    if (this.token && mayCarryToken(url, this.tokenOrigin)) headers.authorization = `Bearer ${this.token}`;
    const combined = signal ? AbortSignal.any([signal, ownWatchdog.signal]) : ownWatchdog.signal;
    try {
      return await this.fetchImpl(url, { method, headers, redirect: 'manual', signal: combined });
    } catch (err) {
      if (signal?.aborted) throw cancelledError(ctx);
      if (ownWatchdog.fired) throw timeoutError(ctx, this.timeoutMs / 1000, err);
      if (err instanceof TandemError) throw err;
      throw connectError(err, ctx);
    } finally {
      if (!watchdog) ownWatchdog.stop();
    }
  }
}

interface AttemptOutcome {
  size: number;
  sha256: string;
  hubSha256: string | null;
}
