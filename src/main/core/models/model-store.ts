import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { InvalidInputError, TandemError } from '../errors';
import { HubDownloader, type HubDownloaderOptions } from './hub-downloader';
import { findPack, KNOWN_PACKS } from './known-packs';
import { isPackName, PACK_NAME_RULE } from '../../../shared/pack-name';
import { assertInside } from '../path-inside';
import type { LlavaDTypes } from './known-packs';
import type { Q4BlockSize } from '../llava-compiler/q4-quantize';
import { approxPackBytes, type CompilePrecision, type GraphPrecision, type InstalledFile, type ModelKind, type ModelPack, type PackCompileSpec } from './model-pack';
import {
  compiledArtefact,
  compiledGraphPrecision,
  compiledQ4BlockSize,
  compiledProblem,
  defaultPrecision,
  deleteSourceWeights,
  estimateCompiledBytes,
  needsCompiler,
  seedSourceHashes,
} from './compiled-pack';
import { compileProgressReporter } from './compile-progress';
import { inProcessCompileRunner, type LlavaCompileRunner } from './llava-compile-runner';
import { ModelRepository, type InstalledModel, type ModelSource } from './model-repository';
import { defaultFreeBytes, downloadPack } from './pack-downloader';
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
  /** Where LLaVA compiles run: a fresh inference process in the app and the CLI (llava-compile-runner.ts). */
  compileRunner?: LlavaCompileRunner;
}

export type ModelStatus = 'installed' | 'not-installed' | 'broken';

/** Headroom kept free beyond a compile's estimated output. */
const COMPILE_MARGIN_BYTES = 64 * 1024 * 1024;

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
  /** Runs from graphs Tandem compiles from the pack's weights. */
  compilable: boolean;
  /** A known compiled pack's vision tower and embeddings precision on a first compile with no choice made. */
  defaultVisionPrecision?: GraphPrecision;
  /** The compiled folder once built (its size is not in bytesOnDisk). */
  compiled: {
    precision: CompilePrecision | null;
    visionPrecision: GraphPrecision;
    embeddingPrecision: GraphPrecision;
    /** q4 decoders: weights per 4-bit scale */
    q4BlockSize: number | null;
    bytes: number;
  } | null;
  sourcesDeleted: boolean;
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
  /** LLaVA: the decoder's precision when compiling (default: the pack's, q4). */
  precision?: CompilePrecision;
  /** LLaVA: the vision tower's precision when compiling (default: what the pack was compiled with, else fp32). */
  visionPrecision?: GraphPrecision;
  /** LLaVA: the embed_tokens table's precision when compiling (default: what the pack was compiled with, else fp32). */
  embeddingPrecision?: GraphPrecision;
  /** LLaVA q4: weights per 4-bit scale (default: what the pack was compiled with, else the compiler's default). */
  q4BlockSize?: Q4BlockSize;
  /** LLaVA: delete the downloaded weights once the compile is verified; the pack runs from the compiled folder. */
  deleteSources?: boolean;
}

export interface ImportOptions {
  name?: string;
  kind?: ModelKind;
  precision?: CompilePrecision;
  visionPrecision?: GraphPrecision;
  embeddingPrecision?: GraphPrecision;
  q4BlockSize?: Q4BlockSize;
  deleteSources?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
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
      // A row written before names were checked must not stop the list, nor aim it outside the models folder.
      const stagedBytes = isPackName(name) ? await directorySize(this.stagingDir(name)) : 0;
      if (!model) {
        entries.push({
          name, kind: pack!.kind, description: pack!.description, known: true, status: 'not-installed', problem: null,
          source: null, repo: pack!.repo, revision: pack!.revision, dir: null, bytesOnDisk: 0,
          downloadBytes: approxPackBytes(pack!), stagedBytes, installedAt: null,
          compilable: Boolean(pack!.compile), compiled: null, sourcesDeleted: false,
          ...(pack!.compile ? { defaultVisionPrecision: pack!.compile.defaultGraphPrecision } : {}),
        });
        continue;
      }
      const dir = this.locate(model);
      const problem = await this.findProblem(model, dir);
      entries.push({
        name, kind: model.kind, description: pack?.description ?? null, known: Boolean(pack), status: problem ? 'broken' : 'installed', problem,
        source: model.source, repo: model.repo, revision: model.revision, dir, bytesOnDisk: await directorySize(dir),
        downloadBytes: pack ? approxPackBytes(pack) : null, stagedBytes, installedAt: model.installedAt,
        compilable: needsCompiler(model),
        ...(pack?.compile ? { defaultVisionPrecision: pack.compile.defaultGraphPrecision } : {}),
        compiled:
          model.compiled && model.kind === 'llava'
            ? {
                precision: model.compiled.precision ?? null,
                visionPrecision: compiledGraphPrecision(model.compiled, 'vision_encoder'),
                embeddingPrecision: compiledGraphPrecision(model.compiled, 'embed_tokens'),
                q4BlockSize: compiledQ4BlockSize(model.compiled) ?? null,
                bytes: await directorySize(model.compiled.dir),
              }
            : null,
        sourcesDeleted: model.compiled?.sourcesDeleted === true,
      });
    }
    return entries;
  }

  /** Downloads a known pack into `<modelsDir>/<name>` (via a resumable staging folder) and registers it. */
  async install(name: string, options: InstallOptions = {}): Promise<InstallResult> {
    checkPackName(name);
    const pack = findPack(this.packs, name);
    if (!pack) {
      throw new TandemError(
        'unknown_model',
        `There is no known model pack named '${name}'. Known packs: ${this.packs.map((p) => p.name).join(', ')}. To use a copy you already have, run: tandem models import <dir> --name ${name}`,
      );
    }
    const existing = this.repository.get(name);
    const sameRevision = !options.revision || options.revision === existing?.revision;
    if (existing && !options.force && sameRevision) {
      const dir = this.locate(existing);
      if (!(await this.findProblem(existing, dir))) {
        const c = existing.compiled;
        const samePrecision =
          !c ||
          ((!options.precision || c.precision === options.precision) &&
            (!options.visionPrecision || compiledGraphPrecision(c, 'vision_encoder') === options.visionPrecision) &&
            (!options.embeddingPrecision || compiledGraphPrecision(c, 'embed_tokens') === options.embeddingPrecision) &&
            (!options.q4BlockSize || compiledQ4BlockSize(c) === options.q4BlockSize));
        if (samePrecision) {
          if (options.deleteSources && existing.compiled && !existing.compiled.sourcesDeleted) await this.deleteSources(name);
          return { model: { ...(this.repository.get(name) ?? existing), dir }, changed: false };
        }
      }
      // Downloaded and verified, but the compile never finished (stopped, failed) or another precision is asked for.
      if (pack.compile && !existing.compiled?.sourcesDeleted && !(await this.findFileProblem(existing, dir))) {
        const release = await acquireLock(this.lockPath(name), `Compiling '${name}'`);
        try {
          return { model: await this.compileInstalled({ ...existing, dir }, pack.compile, options), changed: true };
        } finally {
          await release();
        }
      }
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
        ...(pack.compile
          ? { reserve: { bytes: pack.compile.compiledBytes[defaultPrecision(options.precision, pack.compile.defaultPrecision)], what: 'the compiled model' } }
          : {}),
      });
      const dir = this.packDir(name);
      await promoteDirectory(staging, dir);
      const model: InstalledModel = {
        name, kind: pack.kind, source: 'hub', repo: pack.repo, revision: result.revision, dir,
        files: result.files, bytes: result.bytes, installedAt: this.nowIso(), compiled: null,
      };
      // Registered before compiling: a stopped or failed compile leaves a verified download that the next install only compiles.
      this.repository.upsert(model);
      if (pack.compile) {
        return { model: await this.compileInstalled(model, pack.compile, options, existing?.compiled?.dir), changed: true };
      }
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
    checkPackName(name);
    const known = findPack(this.packs, name);
    const inspection = await inspectPackFolder(source, options.kind ?? known?.kind);
    if (inspection.layout === 'llava-hf') await this.checkCompileSpace(name, source, inspection.files, defaultPrecision(options.precision, known?.compile?.defaultPrecision));
    const dir = this.packDir(name);
    const release = await acquireLock(this.lockPath(name), `Importing '${name}'`);
    try {
      let files: InstalledFile[];
      if (source === dir) {
        // The user copied the folder straight into the models folder: register it where it is.
        files = await hashFiles(dir, inspection.files);
      } else {
        const staging = this.insideStaging(`${name}.import`);
        await rm(staging, { recursive: true, force: true });
        for (const rel of inspection.files) await linkOrCopy(join(source, rel), assertInside(staging, rel, `the file ${rel}`));
        files = await hashFiles(staging, inspection.files);
        await promoteDirectory(staging, dir);
      }
      const model: InstalledModel = {
        name, kind: inspection.kind, source: 'import', repo: known?.repo ?? null, revision: null, dir,
        files, bytes: files.reduce((s, f) => s + f.size, 0), installedAt: this.nowIso(), compiled: null,
      };
      const replaced = this.repository.get(name)?.compiled?.dir;
      this.repository.upsert(model);
      if (inspection.layout === 'llava-hf') return await this.compileInstalled(model, known?.compile, options, replaced);
      return model;
    } finally {
      await release();
      await this.tidyStagingRoot();
    }
  }

  /** Deletes a pack's files (and leftovers of an interrupted install) and its row. Returns the bytes freed. */
  async remove(name: string): Promise<{ name: string; freedBytes: number }> {
    // Before any path is built: a name like '../../x/Gemfile' once reached the lock file next to the user's own files.
    checkPackName(name);
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
      // Identical sources and options compile to one cache entry, which another pack may still run from.
      const shared = compiledDir !== undefined && this.repository.all().some((m) => m.name !== name && m.compiled?.dir === compiledDir);
      if (compiledDir && !shared && (await pathExists(compiledDir))) {
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
    if (needsCompiler(model)) {
      // The runtime loads the compiled folder: the pack folder holds only sources.
      if (!model.compiled || !existsSync(model.compiled.dir)) {
        const how = findPack(this.packs, name) ? `tandem models install ${name}` : `tandem models import <dir> --name ${name}`;
        throw new TandemError('model_missing', `Model '${name}' is downloaded but not compiled yet. Compile it with: ${how}`);
      }
      return { ...model, dir: model.compiled.dir };
    }
    return { ...model, dir };
  }

  /**
   * What the LLaVA runtime is handed for a pack: the folder to load and, for a compiled pack, the dtype of each
   * graph in it (the compiled folder holds exactly those; an onnx/ export may hold several per graph).
   */
  llavaRuntime(name: string): { dir: string; dtypes?: LlavaDTypes } {
    const model = this.resolveModel(name);
    return model.compiled?.dtypes && needsCompiler(model) ? { dir: model.dir, dtypes: model.compiled.dtypes } : { dir: model.dir };
  }

  /**
   * Deletes the weights of a compiled LLaVA pack, keeping its config and tokenizer files: the pack keeps
   * running from its compiled folder. A recompile (another precision, a newer compiler) then needs a reinstall.
   */
  async deleteSources(name: string): Promise<{ name: string; freedBytes: number }> {
    checkPackName(name);
    const model = this.repository.get(name);
    if (!model) throw this.missingError(name);
    if (!model.compiled || !needsCompiler(model)) {
      throw new TandemError('not_compiled', `Model '${name}' does not run from a compiled folder, so its files are all it has. Nothing was deleted.`);
    }
    const problem = await compiledProblem(model.compiled);
    if (problem) throw new TandemError('not_compiled', `Model '${name}' cannot drop its weights: ${problem}. Compile it again first.`);
    if (model.compiled.sourcesDeleted) return { name, freedBytes: 0 };
    const dir = this.locate(model);
    const { kept, freedBytes } = await deleteSourceWeights(dir, model.files);
    this.repository.upsert({ ...model, files: kept, bytes: kept.reduce((s, f) => s + f.size, 0), compiled: { ...model.compiled, sourcesDeleted: true } });
    return { name, freedBytes };
  }

  /** An import compiles at once: the compiled folder must fit next to the data folder's other files. */
  private async checkCompileSpace(name: string, source: string, files: readonly string[], precision: CompilePrecision): Promise<void> {
    let sourceBytes = 0;
    for (const f of files) sourceBytes += await stat(join(source, f)).then((st) => st.size, () => 0);
    const needed = estimateCompiledBytes(sourceBytes, precision) + COMPILE_MARGIN_BYTES;
    const cacheDir = this.llavaCacheDir();
    await mkdir(cacheDir, { recursive: true });
    const free = await (this.deps.freeBytes ?? defaultFreeBytes)(cacheDir);
    if (needed > free) {
      const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
      throw new TandemError(
        'disk_full',
        `Not enough disk space to compile '${name}': the ${precision} graphs need about ${gb(needed)} (with margin) and ${cacheDir} has ${gb(free)} free. Free some space, or choose --precision q4.`,
      );
    }
  }

  private llavaCacheDir(): string {
    return join(resolve(this.deps.modelCacheDir ?? join(this.modelsDir, '.cache')), 'llava');
  }

  /** Compiles a registered LLaVA pack into the model cache, records the result, and drops the sources if asked. */
  private async compileInstalled(
    model: InstalledModel,
    /** The known pack's defaults; an imported folder of no known name gets q4 and fp32. */
    defaults: Pick<PackCompileSpec, 'defaultPrecision' | 'defaultGraphPrecision'> | undefined,
    options: Pick<InstallOptions, 'precision' | 'visionPrecision' | 'embeddingPrecision' | 'q4BlockSize' | 'deleteSources' | 'signal' | 'onProgress'>,
    /** The entry the pack ran from before a reinstall, removed once unused. */
    replaced?: string,
  ): Promise<InstalledModel> {
    const cacheDir = this.llavaCacheDir();
    await mkdir(cacheDir, { recursive: true });
    // A recompile that asks for one precision keeps the others the pack was compiled with.
    const precision = defaultPrecision(options.precision, model.compiled?.precision ?? defaults?.defaultPrecision);
    const graphDefault = (component: 'vision_encoder' | 'embed_tokens'): GraphPrecision =>
      model.compiled ? compiledGraphPrecision(model.compiled, component) : (defaults?.defaultGraphPrecision ?? 'fp32');
    const visionPrecision = options.visionPrecision ?? graphDefault('vision_encoder');
    const embeddingPrecision = options.embeddingPrecision ?? graphDefault('embed_tokens');
    const q4BlockSize = options.q4BlockSize ?? compiledQ4BlockSize(model.compiled);
    const emit = options.onProgress ?? (() => {});
    await seedSourceHashes(cacheDir, model.dir, model.files);
    const out = await (this.deps.compileRunner ?? inProcessCompileRunner)({
      modelDir: model.dir,
      cacheDir,
      options: { decoderPrecision: precision, visionPrecision, embeddingPrecision, ...(q4BlockSize ? { q4BlockSize } : {}) },
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: compileProgressReporter(model.name, emit, { packBytes: model.bytes, fileCount: model.files.length }),
    });
    const previous = model.compiled?.dir ?? replaced;
    const compiled: InstalledModel = { ...model, compiled: compiledArtefact(out) };
    this.repository.upsert(compiled);
    // A recompile (another precision) leaves the old entry unused unless another pack runs from it.
    if (previous && previous !== out.dir && !this.repository.all().some((m) => m.compiled?.dir === previous) && isInside(cacheDir, resolve(previous))) {
      await removeInside(cacheDir, resolve(previous));
    }
    if (options.deleteSources) await this.deleteSources(model.name);
    return this.repository.get(model.name) ?? compiled;
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
    if (existsSync(model.dir) || !isPackName(model.name)) return model.dir;
    const moved = this.packDir(model.name);
    return existsSync(moved) ? moved : model.dir;
  }

  private async findProblem(model: InstalledModel, dir: string): Promise<string | null> {
    const files = await this.findFileProblem(model, dir);
    if (files || !needsCompiler(model)) return files;
    if (!model.compiled) return 'it is downloaded but not compiled yet (the compile was stopped or failed)';
    return compiledProblem(model.compiled);
  }

  private async findFileProblem(model: InstalledModel, dir: string): Promise<string | null> {
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

  // Every path built from a pack name goes through one of these, and each proves it stays inside the models folder.
  private packDir(name: string): string {
    return assertInside(this.modelsDir, name, `the folder of model '${name}'`);
  }

  private insideStaging(entry: string): string {
    return assertInside(join(this.modelsDir, '.staging'), entry, `the staging area of '${entry}'`);
  }

  private stagingDir(name: string): string {
    return this.insideStaging(name);
  }

  private lockPath(name: string): string {
    return this.insideStaging(`${name}.lock`);
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

/** Pack names become folder and lock-file names, so they are checked before anything touches the disk. */
function checkPackName(name: string): void {
  if (isPackName(name)) return;
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
  throw new InvalidInputError(`${shown} cannot be a model name: ${PACK_NAME_RULE} (e.g. --name blip-base).`);
}

async function hashFiles(dir: string, paths: readonly string[]): Promise<InstalledFile[]> {
  const out: InstalledFile[] = [];
  for (const path of paths) {
    const full = join(dir, path);
    out.push({ path, size: (await stat(full)).size, sha256: await sha256File(full) });
  }
  return out;
}
