import { mkdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TandemError } from '../errors';
import { HubError } from './hub-errors';
import type { HubDownloader } from './hub-downloader';
import type { InstalledFile, ModelPack } from './model-pack';
import { pathExists, removeFilesExcept, sha256File } from './pack-files';
import { etaSeconds, RateMeter, type DownloadProgress } from './transfer-progress';

export interface PackDownloadOptions {
  hub: HubDownloader;
  /** Files land here, resumable across runs; the caller promotes it to the pack folder. */
  stagingDir: string;
  /** Overrides the pack's pinned revision. */
  revision?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** Free bytes on the volume holding `dir` (injectable so tests can simulate a full disk). */
  freeBytes?: (dir: string) => Promise<number>;
  progressIntervalMs?: number;
  now?: () => number;
}

export interface PackDownloadResult {
  files: InstalledFile[];
  /** The revision every file was fetched at: the commit when the hub named it. */
  revision: string;
  bytes: number;
}

interface PlannedFile {
  path: string;
  size: number | null;
  sha256: string | null;
}

/** Files that already finished in an earlier run, so a resumed install does not hash them again. */
const MANIFEST = '.tandem-staging.json';
type Manifest = Record<string, InstalledFile>;

/** Headroom beyond the files themselves: SQLite, logs and the OS need some space too. */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

export async function defaultFreeBytes(dir: string): Promise<number> {
  const info = await statfs(dir);
  return Number(info.bavail) * Number(info.bsize);
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/**
 * Resolves each slot of the pack against the hub (first candidate that exists wins), then
 * fetches every file into the staging folder with resume and verification.
 */
export async function downloadPack(pack: ModelPack, options: PackDownloadOptions): Promise<PackDownloadResult> {
  const { hub, stagingDir, signal } = options;
  const now = options.now ?? Date.now;
  const emitEvery = options.progressIntervalMs ?? 200;
  const emit = options.onProgress ?? (() => {});

  emit({ pack: pack.name, phase: 'resolving', file: '', fileIndex: 0, fileCount: pack.files.length, fileBytes: 0, fileTotal: null, packBytes: 0, packTotal: null, bytesPerSecond: 0, etaSeconds: null });
  const { plan, revision } = await planPack(pack, hub, options.revision ?? pack.revision, signal);

  const manifestPath = join(stagingDir, MANIFEST);
  const manifest = await readManifest(manifestPath);
  const already = new Map<string, number>();
  for (const file of plan) {
    const done = manifest[file.path];
    const finished = done && (await sizeOf(join(stagingDir, file.path))) === done.size ? done.size : null;
    already.set(file.path, finished ?? (await sizeOf(join(stagingDir, `${file.path}.part`))) ?? 0);
  }
  const knownTotal = plan.every((f) => f.size !== null) ? plan.reduce((s, f) => s + (f.size ?? 0), 0) : null;
  await checkDiskSpace(pack, stagingDir, plan, already, options.freeBytes ?? defaultFreeBytes);

  const meter = new RateMeter();
  let transferred = 0;
  let doneBytes = 0; // bytes of the files finished so far
  let lastEmit = 0;
  // Throttled events still end with a trailing one, so a stalled transfer shows its last byte count.
  let trailing: NodeJS.Timeout | undefined;
  const files: InstalledFile[] = [];

  try {
    for (const [index, file] of plan.entries()) {
      const dest = join(stagingDir, file.path);
      const laterAlready = plan.slice(index + 1).reduce((s, f) => s + (already.get(f.path) ?? 0), 0);
      const send = (fileBytes: number, fileTotal: number | null): void => {
        const t = now();
        lastEmit = t;
        meter.add(transferred, t);
        const rate = meter.bytesPerSecond();
        const packBytes = doneBytes + fileBytes + laterAlready;
        emit({
          pack: pack.name,
          phase: 'downloading',
          file: file.path,
          fileIndex: index,
          fileCount: plan.length,
          fileBytes,
          fileTotal: fileTotal ?? file.size,
          packBytes,
          packTotal: knownTotal,
          bytesPerSecond: rate,
          etaSeconds: etaSeconds(knownTotal === null ? null : knownTotal - packBytes, rate),
        });
      };
      const report = (fileBytes: number, fileTotal: number | null, force: boolean): void => {
        clearTimeout(trailing);
        trailing = undefined;
        const wait = emitEvery - (now() - lastEmit);
        if (force || wait <= 0) send(fileBytes, fileTotal);
        else trailing = setTimeout(() => send(fileBytes, fileTotal), wait);
      };

      const previous = manifest[file.path];
      let installed: InstalledFile | null = null;
      const sameContent = previous && (file.size === null || previous.size === file.size) && (!file.sha256 || previous.sha256 === file.sha256);
      if (previous && sameContent && already.get(file.path) === previous.size) {
        installed = previous;
      } else if (!previous && file.size !== null && (await sizeOf(dest)) === file.size && file.sha256) {
        // Finished file without manifest entry (crash between rename and manifest write).
        if ((await sha256File(dest)) === file.sha256) installed = { path: file.path, size: file.size, sha256: file.sha256 };
      }
      if (!installed) {
        let lastBytes: number | null = null;
        report(already.get(file.path) ?? 0, file.size, true);
        const result = await hub.download({
          repo: pack.repo,
          revision,
          path: file.path,
          dest,
          expectedSha256: file.sha256,
          expectedSize: file.size,
          ...(signal ? { signal } : {}),
          onBytes: (bytes, total) => {
            // The first callback of each attempt reports where it starts (resumed bytes are not transfer).
            if (lastBytes !== null && bytes > lastBytes) transferred += bytes - lastBytes;
            lastBytes = bytes;
            report(bytes, total, false);
          },
        });
        installed = { path: file.path, size: result.size, sha256: result.sha256 };
        manifest[file.path] = installed;
        await writeFile(manifestPath, JSON.stringify(manifest));
      }
      report(installed.size, installed.size, true);
      doneBytes += installed.size;
      files.push(installed);
    }
  } finally {
    clearTimeout(trailing);
  }

  await rm(manifestPath, { force: true });
  // Leftovers of an earlier plan (another weights candidate, another revision) must not ship with the pack.
  await removeFilesExcept(stagingDir, new Set(files.map((f) => f.path)));
  const bytes = files.reduce((s, f) => s + f.size, 0);
  emit({ pack: pack.name, phase: 'done', file: '', fileIndex: plan.length, fileCount: plan.length, fileBytes: 0, fileTotal: null, packBytes: bytes, packTotal: bytes, bytesPerSecond: meter.bytesPerSecond(), etaSeconds: 0 });
  return { files, revision, bytes };
}

/** Asks the hub about every slot; pins the rest of the pack to the commit the first answer names. */
async function planPack(pack: ModelPack, hub: HubDownloader, requested: string, signal: AbortSignal | undefined): Promise<{ plan: PlannedFile[]; revision: string }> {
  let revision = requested;
  const plan: PlannedFile[] = [];
  for (const slot of pack.files) {
    let chosen: PlannedFile | null = null;
    for (const candidate of slot.candidates) {
      const info = await hub.probe(pack.repo, revision, candidate.path, signal);
      if (!info) continue;
      if (info.commit && revision !== info.commit && /^[0-9a-f]{40}$/.test(info.commit)) revision = info.commit;
      chosen = { path: candidate.path, size: info.size, sha256: candidate.expectedSha256 ?? info.sha256 };
      break;
    }
    if (chosen) plan.push(chosen);
    else if (slot.required) {
      const names = slot.candidates.map((c) => `'${c.path}'`).join(' or ');
      throw new HubError(
        'hub_file_not_found',
        `${pack.repo} at revision '${requested}' on ${hub.endpoint} has no ${names}, which the '${pack.name}' pack needs. The revision may be wrong, or the repo changed its layout.`,
        { status: 404 },
      );
    }
  }
  return { plan, revision };
}

async function readManifest(path: string): Promise<Manifest> {
  if (!(await pathExists(path))) return {};
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return {};
  }
}

async function checkDiskSpace(
  pack: ModelPack,
  stagingDir: string,
  plan: PlannedFile[],
  already: Map<string, number>,
  freeBytes: (dir: string) => Promise<number>,
): Promise<void> {
  const needed = plan.reduce((s, f) => s + Math.max(0, (f.size ?? 0) - (already.get(f.path) ?? 0)), 0);
  // statfs needs an existing path.
  await mkdir(stagingDir, { recursive: true });
  const free = await freeBytes(stagingDir);
  if (needed + DISK_MARGIN_BYTES > free) {
    throw new TandemError(
      'disk_full',
      `Not enough disk space for '${pack.name}': it needs ${formatMb(needed + DISK_MARGIN_BYTES)} more and ${stagingDir} has ${formatMb(free)} free. Free some space, or use another data folder (--data-dir or TANDEM_HOME).`,
    );
  }
}
