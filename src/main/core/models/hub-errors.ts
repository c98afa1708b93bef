import { TandemError } from '../errors';

/** Where a hub request was going, so every error names the repo, revision and file. */
export interface HubRequestContext {
  endpoint: string;
  repo: string;
  revision: string;
  path: string;
}

/**
 * A download failure. `retryable` marks failures a second attempt may get past (dropped
 * connection, stall, 5xx); the downloader resumes those with a Range request.
 */
export class HubError extends TandemError {
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(code: string, message: string, options: { retryable?: boolean; status?: number; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.name = 'HubError';
    this.retryable = options.retryable ?? false;
    this.status = options.status;
  }
}

const RESUME_HINT = 'Run the same command again: finished files are kept and partial ones resume.';

const OFFLINE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT', 'ECONNABORTED', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** Finds the first system error code in a fetch error's cause chain (undici nests them, sometimes in an AggregateError). */
export function networkErrorCode(err: unknown, depth = 0): string | undefined {
  if (depth > 5 || typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof record.code === 'string' && record.code !== 'ABORT_ERR') return record.code;
  if (Array.isArray(record.errors)) {
    for (const inner of record.errors) {
      const code = networkErrorCode(inner, depth + 1);
      if (code) return code;
    }
  }
  return networkErrorCode(record.cause, depth + 1);
}

/** An error from fetch before any response: mostly "no network" of some kind. */
export function connectError(err: unknown, ctx: HubRequestContext): HubError {
  const code = networkErrorCode(err);
  if (code && OFFLINE_CODES.has(code)) {
    const why = code === 'ECONNREFUSED' ? 'connection refused' : code.startsWith('EAI') || code === 'ENOTFOUND' ? 'name not resolved' : code;
    return new HubError(
      'hub_unreachable',
      `Cannot reach ${ctx.endpoint} (${why}): are you offline? Check your network or proxy, or point --endpoint / HF_ENDPOINT at a reachable mirror. ${RESUME_HINT}`,
      { cause: err },
    );
  }
  // Resets and unknown socket errors are usually transient: worth another try.
  return new HubError('download_interrupted', `Connection to ${ctx.endpoint} failed while fetching ${ctx.path}${code ? ` (${code})` : ''}. ${RESUME_HINT}`, {
    retryable: true,
    cause: err,
  });
}

export function timeoutError(ctx: HubRequestContext, seconds: number, cause?: unknown): HubError {
  return new HubError(
    'hub_timeout',
    `${ctx.endpoint} stopped answering while fetching ${ctx.path} (nothing for ${seconds} s). The connection may be too slow or the hub busy. ${RESUME_HINT}`,
    { retryable: true, cause },
  );
}

export function interruptedError(ctx: HubRequestContext, bytesDone: number, total: number | null, cause?: unknown): HubError {
  const of = total === null ? '' : ` of ${total}`;
  return new HubError('download_interrupted', `Download of ${ctx.path} was cut off after ${bytesDone}${of} bytes. ${RESUME_HINT}`, {
    retryable: true,
    cause,
  });
}

export function cancelledError(ctx: Pick<HubRequestContext, 'path'>): TandemError {
  return new TandemError('cancelled', `Download of ${ctx.path} cancelled. Run the install again to resume where it stopped.`);
}

/** Turns a non-success HTTP status into an error that says what to do; uses the hub's x-error-code where given. */
export function statusError(res: Response, ctx: HubRequestContext, hasToken: boolean): HubError {
  const hubCode = res.headers.get('x-error-code') ?? '';
  const repoUrl = `${ctx.endpoint}/${ctx.repo}`;
  const status = res.status;
  if (hubCode === 'RepositoryNotFound') {
    return new HubError(
      'hub_repo_not_found',
      `Repository '${ctx.repo}' was not found on ${ctx.endpoint}. Check the name; if it is private, set HF_TOKEN to a token that can read it.`,
      { status },
    );
  }
  if (hubCode === 'RevisionNotFound') {
    return new HubError('hub_revision_not_found', `Revision '${ctx.revision}' was not found in ${ctx.repo} on ${ctx.endpoint}. Check the branch, tag or commit.`, { status });
  }
  if (hubCode === 'GatedRepo' || status === 401 || status === 403) {
    const gated = hubCode === 'GatedRepo' ? ' is gated' : status === 401 ? ' needs a Hugging Face token' : ' refused access';
    const fix = hasToken
      ? `Your HF_TOKEN was not accepted for it: accept the model's terms at ${repoUrl} with the account that owns the token, or use a token with read access.`
      : `Accept the model's terms at ${repoUrl} if it asks, create a read token at ${ctx.endpoint}/settings/tokens and set HF_TOKEN to it.`;
    return new HubError('hub_auth', `${ctx.repo}${gated} (HTTP ${status}) while fetching ${ctx.path}. ${fix}`, { status });
  }
  if (status === 404) {
    return new HubError(
      'hub_file_not_found',
      `File '${ctx.path}' was not found in ${ctx.repo} at revision '${ctx.revision}' on ${ctx.endpoint}. The pack may be out of date for this revision.`,
      { status },
    );
  }
  if (status === 429) {
    return new HubError('hub_rate_limited', `${ctx.endpoint} is rate-limiting downloads (HTTP 429). Wait a few minutes, then run the same command again.`, {
      status,
    });
  }
  if (status >= 500) {
    return new HubError('hub_server_error', `${ctx.endpoint} failed with HTTP ${status} while serving ${ctx.path}. ${RESUME_HINT}`, { status, retryable: true });
  }
  return new HubError('hub_http', `${ctx.endpoint} answered HTTP ${status} for ${ctx.path} in ${ctx.repo}.`, { status });
}
