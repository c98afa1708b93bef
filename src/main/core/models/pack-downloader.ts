import { mkdir, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_INDEX_JSON_BYTES, readModelText } from '../weights/model-json';
import { ModelFileError, TandemError } from '../errors';
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
  /** Space a later step needs on the same volume (the compiled model), counted in the disk check up front. */
  reserve?: { bytes: number; what: string };
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

function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
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
  // statfs needs an existing path, and a shard index is read from here while planning.
  await mkdir(stagingDir, { recursive: true });
  const { plan, revision } = await planPack(pack, hub, options.revision ?? pack.revision, stagingDir, signal);

  const manifestPath = join(stagingDir, MANIFEST);
  const manifest = await readManifest(manifestPath);
  const already = new Map<string, number>();
  for (const file of plan) {
    const done = manifest[file.path];
    const finished = done && (await sizeOf(join(stagingDir, file.path))) === done.size ? done.size : null;
    already.set(file.path, finished ?? (await sizeOf(join(stagingDir, `${file.path}.part`))) ?? 0);
  }
  const knownTotal = plan.every((f) => f.size !== null) ? plan.reduce((s, f) => s + (f.size ?? 0), 0) : null;
  await checkDiskSpace(pack, stagingDir, plan, already, options.freeBytes ?? defaultFreeBytes, options.reserve);

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
async function planPack(
  pack: ModelPack,
  hub: HubDownloader,
  requested: string,
  stagingDir: string,
  signal: AbortSignal | undefined,
): Promise<{ plan: PlannedFile[]; revision: string }> {
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
    if (chosen && slot.expandsIndex && chosen.path.endsWith('.index.json')) {
      plan.push(chosen, ...(await planShards(pack, hub, revision, stagingDir, chosen, signal)));
    } else if (chosen) plan.push(chosen);
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

/** Shard names come from a downloaded file: only plain file names in the repo's top folder are accepted. */
const SHARD_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*\.safetensors$/;

/** Fetches a safetensors index into the staging folder and plans the shards its weight_map names. */
async function planShards(
  pack: ModelPack,
  hub: HubDownloader,
  revision: string,
  stagingDir: string,
  index: PlannedFile,
  signal: AbortSignal | undefined,
): Promise<PlannedFile[]> {
  const dest = join(stagingDir, index.path);
  await hub.download({ repo: pack.repo, revision, path: index.path, dest, expectedSha256: index.sha256, expectedSize: index.size, ...(signal ? { signal } : {}) });
  let shards: string[];
  try {
    const parsed = JSON.parse((await readModelText(dest, MAX_INDEX_JSON_BYTES)) ?? '') as { weight_map?: unknown };
    const map = parsed.weight_map;
    if (typeof map !== 'object' || map === null) throw new Error('no weight_map');
    shards = [...new Set(Object.values(map as Record<string, unknown>))].map(String).sort();
  } catch (cause) {
    throw new ModelFileError(index.path, `${index.path} in ${pack.repo} is not a safetensors index (no readable weight_map), so the shards cannot be listed.`, { cause });
  }
  const bad = shards.find((s) => !SHARD_NAME.test(s));
  if (bad !== undefined || shards.length === 0) {
    throw new ModelFileError(index.path, `${index.path} in ${pack.repo} names ${bad === undefined ? 'no shards' : `the shard ${JSON.stringify(bad.slice(0, 80))}, which is not a plain .safetensors file name`}.`);
  }
  const out: PlannedFile[] = [];
  for (const shard of shards) {
    const info = await hub.probe(pack.repo, revision, shard, signal);
    if (!info) {
      throw new HubError('hub_file_not_found', `${pack.repo} at revision '${revision}' on ${hub.endpoint} has no ${shard}, which ${index.path} lists.`, { status: 404 });
    }
    out.push({ path: shard, size: info.size, sha256: info.sha256 });
  }
  return out;
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
  reserve: { bytes: number; what: string } | undefined,
): Promise<void> {
  const download = plan.reduce((s, f) => s + Math.max(0, (f.size ?? 0) - (already.get(f.path) ?? 0)), 0);
  const needed = download + (reserve?.bytes ?? 0) + DISK_MARGIN_BYTES;
  const free = await freeBytes(stagingDir);
  if (needed > free) {
    const parts = reserve
      ? `${formatSize(download)} to download + about ${formatSize(reserve.bytes)} for ${reserve.what} + ${formatSize(DISK_MARGIN_BYTES)} margin = ${formatSize(needed)}`
      : formatSize(needed);
    throw new TandemError(
      'disk_full',
      `Not enough disk space for '${pack.name}': it needs ${parts} more and ${stagingDir} has ${formatSize(free)} free. Free some space, or use another data folder (--data-dir or TANDEM_HOME).`,
    );
  }
}
