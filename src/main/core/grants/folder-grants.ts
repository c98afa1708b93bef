import { randomBytes } from 'node:crypto';
import type { FolderPurpose } from '../../../shared/folder-grant';
import { TandemError } from '../errors';

/** A grant that is unknown, spent, expired or meant for something else. One code: the renderer learns nothing more. */
export class FolderGrantError extends TandemError {
  constructor(message: string) {
    super('invalid_grant', message);
    this.name = 'FolderGrantError';
  }
}

export interface FolderGrantsOptions {
  /** How long a grant stays valid after the picker closed (default two minutes: enough to click through, too short to hoard). */
  ttlMs?: number;
  now?: () => number;
  /** Random bytes for tokens; tests pass a fixed source. */
  random?: (bytes: number) => Buffer;
}

interface Entry {
  path: string;
  purpose: FolderPurpose;
  expiresAt: number;
}

const DEFAULT_TTL_MS = 2 * 60_000;

const PURPOSE_LABEL: Record<FolderPurpose, string> = { library: 'as a photo folder', model: 'as a model folder', export: 'to export into' };
const TOKEN_BYTES = 32;

/**
 * Folders the user chose in the main process's picker, keyed by an unguessable token. The renderer holds only
 * the token, so a compromised page can reach no folder the user did not pick, and each pick is spent at most once.
 * Plain Node (no Electron), so it is unit-tested directly.
 */
export class FolderGrants {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly random: (bytes: number) => Buffer;

  constructor(options: FolderGrantsOptions = {}) {
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
  }

  /** Called by the app shell once the user has chosen `path` in the picker. */
  issue(path: string, purpose: FolderPurpose): string {
    this.sweep();
    const token = this.random(TOKEN_BYTES).toString('base64url');
    // 256 random bits do not repeat; a source that does is broken, and must not hand one folder's grant to another.
    if (this.entries.has(token)) throw new TandemError('internal', 'The folder picker could not make a unique grant. Try again.');
    this.entries.set(token, { path, purpose, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** The folder a grant stands for. The grant is spent whatever the outcome, so a refused one cannot be retried. */
  redeem(token: string, purpose: FolderPurpose): string {
    const entry = this.entries.get(token);
    this.entries.delete(token);
    if (!entry) throw new FolderGrantError('That folder choice is no longer valid (already used, or never made here). Choose the folder again.');
    if (entry.expiresAt <= this.now()) throw new FolderGrantError('That folder choice has expired. Choose the folder again.');
    if (entry.purpose !== purpose) {
      throw new FolderGrantError(`That folder was chosen ${PURPOSE_LABEL[entry.purpose]}, not for this. Choose the folder again.`);
    }
    return entry.path;
  }

  /** Grants not yet spent or expired (diagnostics, tests). */
  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(token);
  }
}
