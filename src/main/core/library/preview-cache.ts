import { readdir, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';

interface Entry {
  file: string;
  bytes: number;
}

/**
 * The large previews on disk (`<thumbs>/<xx>/<hash>-l.webp`), bounded in bytes and swept least recently
 * viewed first. Recency lives in a Map's insertion order and survives restarts as the files' mtimes
 * (touched on every view), so the first sweep after a restart still removes the oldest views.
 * Small thumbnails are never swept: the grid needs every one of them.
 */
export class PreviewCache {
  private entries: Map<string, Entry> | null = null;
  private total = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly thumbsDir: string,
    /** Read at each sweep, so a changed setting applies at the next preview. */
    private readonly limitBytes: () => number,
  ) {}

  /** Bytes held now (after the first scan). */
  get bytes(): number {
    return this.total;
  }

  /** A preview was viewed: it becomes the most recent. */
  async touch(hash: string, file: string): Promise<void> {
    await this.load();
    const e = this.entries!.get(hash);
    if (!e) return;
    this.entries!.delete(hash);
    this.entries!.set(hash, e);
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined); // gone meanwhile: the next view makes it again
  }

  /** A preview was written: record it, then sweep down to the limit, never removing this one. */
  async add(hash: string, file: string, bytes: number): Promise<void> {
    await this.load();
    const old = this.entries!.get(hash);
    if (old) {
      this.total -= old.bytes;
      this.entries!.delete(hash);
    }
    this.entries!.set(hash, { file, bytes });
    this.total += bytes;
    await this.sweep(hash);
  }

  /** Removes least recently viewed previews until the cache fits its limit. */
  async sweep(keep?: string): Promise<number> {
    await this.load();
    const limit = this.limitBytes();
    let removed = 0;
    for (const [hash, e] of this.entries!) {
      if (this.total <= limit) break;
      if (hash === keep) continue;
      await unlink(e.file).catch(() => undefined);
      this.entries!.delete(hash);
      this.total -= e.bytes;
      removed++;
    }
    return removed;
  }

  private load(): Promise<void> {
    this.loading ??= this.scan();
    return this.loading;
  }

  private async scan(): Promise<void> {
    const found: (Entry & { hash: string; mtimeMs: number })[] = [];
    const shards = await readdir(this.thumbsDir).catch(() => [] as string[]);
    for (const shard of shards) {
      const names = await readdir(join(this.thumbsDir, shard)).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith('-l.webp')) continue;
        const file = join(this.thumbsDir, shard, name);
        const s = await stat(file).catch(() => null);
        if (s) found.push({ hash: name.slice(0, -'-l.webp'.length), file, bytes: s.size, mtimeMs: s.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    this.entries = new Map(found.map((f) => [f.hash, { file: f.file, bytes: f.bytes }]));
    this.total = found.reduce((n, f) => n + f.bytes, 0);
  }
}
