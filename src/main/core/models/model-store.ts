import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvalidInputError, TandemError } from '../errors';
import { HubDownloader, type HubDownloaderOptions } from './hub-downloader';
import { findPack, KNOWN_PACKS } from './known-packs';
import { approxPackBytes, PACK_NAME_PATTERN, type InstalledFile, type ModelKind, type ModelPack } from './model-pack';
import { ModelRepository, type InstalledModel, type ModelSource } from './model-repository';
import { downloadPack } from './pack-downloader';
import { acquireLock, directorySize, isInside, linkOrCopy, pathExists, promoteDirectory, removeInside, sha256File } from './pack-files';
import { inspectPackFolder } from './pack-layout';
import type { DownloadProgress } from './transfer-progress';

export { ModelRepository } from './model-repository';
export type { CompiledArtefact, InstalledModel, ModelSource } from './model-repository';

export interface ModelStoreDeps {
  db: Database.Database;
  /** `<dataDir>/models`: one folder per pack. */
  modelsDir: string;
  /** Compiled artefacts are deleted with their pack only when they lie inside this folder (or modelsDir). */
  modelCacheDir?: string;
  packs?: readonly ModelPack[];
  /** Defaults for every install (endpoint, token, timeouts, a fetch for tests). */
  hub?: HubDownloaderOptions;
  freeBytes?: (dir: string) => Promise<number>;
  now?: () => Date;
}

export type ModelStatus = 'installed' | 'not-installed' | 'broken';

export interface ModelListEntry {
  name: string;
  kind: ModelKind;
  description: string | null;
  /** Listed in the built-in registry (installable by name). */
  known: boolean;
  status: ModelStatus;
  /** Why an installed pack is broken, in words a user can act on. */
  problem: string | null;
  source: ModelSource | null;
  repo: string | null;
  revision: string | null;
  dir: string | null;
  /** Actual bytes in the pack folder. */
  bytesOnDisk: number;
  /** What an install would fetch (approximate, known packs only). */
  downloadBytes: number | null;
  /** Left by an interrupted install; the next install resumes from them. */
  stagedBytes: number;
  installedAt: string | null;
}

export interface InstallOptions {
  endpoint?: string;
  token?: string;
  /** Overrides the pack's pinned revision. */
  revision?: string;
  /** Download again even if the pack is installed and intact. */
  force?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

export interface ImportOptions {
  name?: string;
  kind?: ModelKind;
}

export interface InstallResult {
  model: InstalledModel;
  /** False when the pack was already installed and intact, so nothing was fetched. */
  changed: boolean;
}

/** Model packs on disk and in the `models` table: list, install from the hub, import a folder, remove, resolve. */
export class ModelStore {
  readonly repository: ModelRepository;
  private readonly packs: readonly ModelPack[];
  private readonly modelsDir: string;

  constructor(private readonly deps: ModelStoreDeps) {
    this.repository = new ModelRepository(deps.db);
    this.packs = deps.packs ?? KNOWN_PACKS;
    this.modelsDir = resolve(deps.modelsDir);
  }

  knownPacks(): readonly ModelPack[] {
    return this.packs;
  }

  async list(): Promise<ModelListEntry[]> {
    const installed = new Map(this.repository.all().map((m) => [m.name, m]));
    const names = [...new Set([...this.packs.map((p) => p.name), ...installed.keys()])];
    const entries: ModelListEntry[] = [];
    for (const name of names) {
      const pack = findPack(this.packs, name);
      const model = installed.get(name);
      const stagedBytes = await directorySize(this.stagingDir(name));
      if (!model) {
        entries.push({
          name, kind: pack!.kind, description: pack!.description, known: true, status: 'not-installed', problem: null,
          source: null, repo: pack!.repo, revision: pack!.revision, dir: null, bytesOnDisk: 0,
          downloadBytes: approxPackBytes(pack!), stagedBytes, installedAt: null,
        });
        continue;
      }
      const dir = this.locate(model);
      const problem = await this.findProblem(model, dir);
      entries.push({
        name, kind: model.kind, description: pack?.description ?? null, known: Boolean(pack), status: problem ? 'broken' : 'installed', problem,
        source: model.source, repo: model.repo, revision: model.revision, dir, bytesOnDisk: await directorySize(dir),
        downloadBytes: pack ? approxPackBytes(pack) : null, stagedBytes, installedAt: model.installedAt,
      });
    }
    return entries;
  }

  /** Downloads a known pack into `<modelsDir>/<name>` (via a resumable staging folder) and registers it. */
  async install(name: string, options: InstallOptions = {}): Promise<InstallResult> {
    const pack = findPack(this.packs, name);
    if (!pack) {
      throw new TandemError(
        'unknown_model',
        `There is no known model pack named '${name}'. Known packs: ${this.packs.map((p) => p.name).join(', ')}. To use a copy you already have, run: tandem models import <dir> --name ${name}`,
      );
    }
    const existing = this.repository.get(name);
    const sameRevision = !options.revision || options.revision === existing?.revision;
    if (existing && !options.force && sameRevision && !(await this.findProblem(existing, this.locate(existing)))) {
      return { model: { ...existing, dir: this.locate(existing) }, changed: false };
    }
    const release = await acquireLock(this.lockPath(name), `Installing '${name}'`);
    try {
      const staging = this.stagingDir(name);
      const hub = new HubDownloader({
        ...this.deps.hub,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.token ? { token: options.token } : {}),
      });
      const result = await downloadPack(pack, {
        hub,
        stagingDir: staging,
        ...(options.revision ? { revision: options.revision } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(this.deps.freeBytes ? { freeBytes: this.deps.freeBytes } : {}),
      });
      const dir = this.packDir(name);
      await promoteDirectory(staging, dir);
      const model: InstalledModel = {
        name, kind: pack.kind, source: 'hub', repo: pack.repo, revision: result.revision, dir,
        files: result.files, bytes: result.bytes, installedAt: this.nowIso(), compiled: null,
      };
      this.repository.upsert(model);
      return { model, changed: true };
    } finally {
      await release();
      await this.tidyStagingRoot();
    }
  }

  /**
   * Installs a folder the user copied by hand. The folder is checked first (which file is missing
   * or wrong), then hard-linked or copied into `<modelsDir>/<name>`, hashed and registered.
   */
  async import(sourceDir: string, options: ImportOptions = {}): Promise<InstalledModel> {
    const source = resolve(sourceDir);
    const name = options.name ?? basename(source).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
    if (!PACK_NAME_PATTERN.test(name)) {
      throw new InvalidInputError(`'${name}' cannot be a model name: use lowercase letters, digits, '.', '-' or '_' (e.g. --name blip-base).`);
    }
    const known = findPack(this.packs, name);
    const inspection = await inspectPackFolder(source, options.kind ?? known?.kind);
    const dir = this.packDir(name);
    const release = await acquireLock(this.lockPath(name), `Importing '${name}'`);
    try {
      let files: InstalledFile[];
      if (source === dir) {
        // The user copied the folder straight into the models folder: register it where it is.
        files = await hashFiles(dir, inspection.files);
      } else {
        const staging = join(this.modelsDir, '.staging', `${name}.import`);
        await rm(staging, { recursive: true, force: true });
        for (const rel of inspection.files) await linkOrCopy(join(source, rel), join(staging, rel));
        files = await hashFiles(staging, inspection.files);
        await promoteDirectory(staging, dir);
      }
      const model: InstalledModel = {
        name, kind: inspection.kind, source: 'import', repo: known?.repo ?? null, revision: null, dir,
        files, bytes: files.reduce((s, f) => s + f.size, 0), installedAt: this.nowIso(), compiled: null,
      };
      this.repository.upsert(model);
      return model;
    } finally {
      await release();
      await this.tidyStagingRoot();
    }
  }

  /** Deletes a pack's files (and leftovers of an interrupted install) and its row. Returns the bytes freed. */
  async remove(name: string): Promise<{ name: string; freedBytes: number }> {
    const model = this.repository.get(name);
    const staging = this.stagingDir(name);
    const dir = model ? this.locate(model) : this.packDir(name);
    const hasStaging = await pathExists(staging);
    if (!model && !hasStaging) {
      throw new TandemError('model_missing', `Model '${name}' is not installed, so there is nothing to remove. See what is installed with: tandem models list`);
    }
    const release = await acquireLock(this.lockPath(name), `Removing '${name}'`);
    try {
      let freedBytes = 0;
      if (model && (await pathExists(dir))) {
        freedBytes += await directorySize(dir);
        await removeInside(this.modelsDir, dir);
      }
      const compiledDir = model?.compiled?.dir;
      if (compiledDir && (await pathExists(compiledDir))) {
        const roots = [this.modelsDir, ...(this.deps.modelCacheDir ? [resolve(this.deps.modelCacheDir)] : [])];
        const root = roots.find((r) => isInside(r, resolve(compiledDir)));
        if (root) {
          freedBytes += await directorySize(compiledDir);
          await removeInside(root, resolve(compiledDir));
        }
      }
      if (hasStaging) {
        freedBytes += await directorySize(staging);
        await removeInside(this.modelsDir, staging);
      }
      this.repository.delete(name);
      return { name, freedBytes };
    } finally {
      await release();
      await this.tidyStagingRoot();
    }
  }

  /** The installed pack folder, or an error telling the user how to install it. */
  resolve(name: string): string {
    return this.resolveModel(name).dir;
  }

  /** The installed pack with its files; `dir` is where the files are now. */
  resolveModel(name: string): InstalledModel {
    const model = this.repository.get(name);
    if (!model) throw this.missingError(name);
    const dir = this.locate(model);
    if (!existsSync(dir)) {
      const how = findPack(this.packs, name) ? `tandem models install ${name} --force` : `tandem models import <dir> --name ${name}`;
      throw new TandemError('model_missing', `Model '${name}' is registered but its folder ${dir} is gone. Reinstall it with: ${how}`);
    }
    return { ...model, dir };
  }

  private missingError(name: string): TandemError {
    if (findPack(this.packs, name)) {
      return new TandemError(
        'model_missing',
        `Model '${name}' is not installed. Install it with: tandem models install ${name} (or import a folder: tandem models import <dir>)`,
      );
    }
    return new TandemError(
      'model_missing',
      `Model '${name}' is not installed and is not a known pack (known: ${this.packs.map((p) => p.name).join(', ')}). Import a folder with: tandem models import <dir> --name ${name}`,
    );
  }

  /** Rows keep absolute paths; if the data folder was moved, the pack is found at its new place. */
  private locate(model: InstalledModel): string {
    if (existsSync(model.dir)) return model.dir;
    const moved = this.packDir(model.name);
    return existsSync(moved) ? moved : model.dir;
  }

  private async findProblem(model: InstalledModel, dir: string): Promise<string | null> {
    if (!(await pathExists(dir))) return `folder ${dir} is missing`;
    for (const file of model.files) {
      try {
        const info = await stat(join(dir, file.path));
        if (info.size !== file.size) return `${file.path} is ${info.size} bytes, expected ${file.size}`;
      } catch {
        return `${file.path} is missing`;
      }
    }
    return null;
  }

  private packDir(name: string): string {
    return join(this.modelsDir, name);
  }

  private stagingDir(name: string): string {
    return join(this.modelsDir, '.staging', name);
  }

  private lockPath(name: string): string {
    return join(this.modelsDir, '.staging', `${name}.lock`);
  }

  private nowIso(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  private async tidyStagingRoot(): Promise<void> {
    const root = join(this.modelsDir, '.staging');
    try {
      if ((await readdir(root)).length === 0) await rmdir(root);
    } catch {
      // absent or not empty: both fine
    }
  }
}

async function hashFiles(dir: string, paths: readonly string[]): Promise<InstalledFile[]> {
  const out: InstalledFile[] = [];
  for (const path of paths) {
    const full = join(dir, path);
    out.push({ path, size: (await stat(full)).size, sha256: await sha256File(full) });
  }
  return out;
}
