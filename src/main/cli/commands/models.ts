import { mkdirSync } from 'node:fs';
import { TandemError, InvalidInputError } from '../../core/errors';
import { hubSettingsFromEnv, type HubDownloaderOptions } from '../../core/models/hub-downloader';
import { forkWorker, type SpawnWorker } from '../../core/inference/worker-handle';
import { workerCompileRunner } from '../../core/models/llava-compile-runner';
import { COMPILE_PRECISIONS, GRAPH_PRECISIONS, type CompilePrecision, type GraphPrecision } from '../../core/models/model-pack';
import { compiledGraphPrecision } from '../../core/models/compiled-pack';
import { DEFAULT_Q4_BLOCK_SIZE, isQ4BlockSize, Q4_BLOCK_SIZES, type Q4BlockSize } from '../../core/llava-compiler/q4-quantize';
import { ModelStore, type CompiledArtefact, type ModelListEntry } from '../../core/models/model-store';
import type { DownloadProgress } from '../../core/models/transfer-progress';
import { dataPaths } from '../../core/paths';
import { openDatabase } from '../../core/store/database';
import type { CliCommand, CliContext, OptionValues } from '../command';
import { line, printJson } from '../output';
import { bar, formatDuration, ProgressLine } from '../progress-line';

export interface ModelsCommandDeps {
  /** Where HF_ENDPOINT / HF_TOKEN come from (process.env in the real CLI). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Timeouts, retries, a fetch: tests shorten these. */
  hub?: Omit<HubDownloaderOptions, 'endpoint' | 'token'>;
  freeBytes?: (dir: string) => Promise<number>;
  /** Starts the inference process a LLaVA compile runs in (child_process.fork by default). */
  spawnWorker?: SpawnWorker;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(bytes >= 1e8 ? 0 : 1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${bytes} B`;
}

/** The one-line rendering of a download progress event (exported for tests). */
export function progressText(p: DownloadProgress, endpoint: string): string {
  if (p.phase === 'resolving') return `${p.pack}: asking ${endpoint} for the file list…`;
  if (p.phase === 'compiling') {
    const c = p.compile ?? { label: 'starting', done: 0, total: 0 };
    const percent = c.total > 0 ? `${Math.floor((c.done / c.total) * 100)}%`.padStart(4) : '   ?';
    return `${p.pack} compiling ${bar(c.done, c.total)} ${percent}  ${c.label}  ETA ${formatDuration(p.etaSeconds)}`;
  }
  if (p.phase === 'done') return `${p.pack}: ${formatBytes(p.packBytes)} downloaded and verified`;
  const total = p.packTotal ?? 0;
  const percent = total > 0 ? `${Math.floor((p.packBytes / total) * 100)}%`.padStart(4) : '   ?';
  const amount = total > 0 ? `${formatBytes(p.packBytes)} / ${formatBytes(total)}` : formatBytes(p.packBytes);
  const rate = `${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  return `${p.pack} ${bar(p.packBytes, total)} ${percent}  ${amount}  ${rate}  ETA ${formatDuration(p.etaSeconds)}  [${p.fileIndex + 1}/${p.fileCount}] ${p.file}`;
}

function statusText(e: ModelListEntry): string {
  if (e.status === 'installed' && e.compiled) {
    const notes = [
      e.compiled.visionPrecision !== 'fp32' ? `vision ${e.compiled.visionPrecision}` : '',
      e.compiled.embeddingPrecision !== 'fp32' ? `embeddings ${e.compiled.embeddingPrecision}` : '',
      e.compiled.q4BlockSize !== null && e.compiled.q4BlockSize !== DEFAULT_Q4_BLOCK_SIZE ? `4-bit blocks of ${e.compiled.q4BlockSize}` : '',
      e.sourcesDeleted ? 'sources deleted' : '',
    ].filter(Boolean);
    return [`compiled ${e.compiled.precision ?? ''}`.trimEnd(), ...notes].join(', ');
  }
  if (e.status === 'installed') return 'installed';
  if (e.status === 'broken') return 'broken';
  return e.stagedBytes > 0 ? 'partial' : 'not installed';
}

function printList(ctx: CliContext, entries: ModelListEntry[]): void {
  const rows = entries.map((e) => {
    const size = e.status === 'not-installed' ? (e.downloadBytes === null ? '' : `~${formatBytes(e.downloadBytes)}`) : formatBytes(e.bytesOnDisk + (e.compiled?.bytes ?? 0));
    const from = e.repo ? `${e.repo}${e.revision ? ` @ ${e.revision.slice(0, 12)}` : ''}` : 'imported folder';
    return [e.name, e.kind, statusText(e), size, e.source === 'import' ? `import (${from})` : from];
  });
  const header = ['NAME', 'KIND', 'STATUS', 'SIZE', 'SOURCE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows]) line(ctx, row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  for (const e of entries) {
    if (e.status === 'broken') {
      // A download whose compile was stopped is kept: installing again only compiles it.
      const fix = e.known ? (e.compilable && !e.compiled ? `install ${e.name}` : `install ${e.name} --force`) : `import <dir> --name ${e.name}`;
      line(ctx, `  ${e.name}: ${e.problem}. Repair with: tandem models ${fix}`);
    }
    else if (e.stagedBytes > 0) line(ctx, `  ${e.name}: ${formatBytes(e.stagedBytes)} from an interrupted download; resume with: tandem models install ${e.name}`);
  }
}

function need(positionals: string[], index: number, what: string, usage: string): string {
  const value = positionals[index];
  if (!value) throw new InvalidInputError(`Missing ${what}. Usage: tandem ${usage}`);
  return value;
}

const USAGE =
  'models list | install <name> [--endpoint URL] [--precision P] [--vision-precision P] [--embedding-precision P] [--q4-block-size N] [--delete-sources] | import <dir> [--name N] [--precision P] [--vision-precision P] [--embedding-precision P] [--q4-block-size N] [--delete-sources] | delete-sources <name> | remove <name>';

function precisionOption(values: OptionValues): CompilePrecision | undefined {
  const value = values['precision'];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (COMPILE_PRECISIONS as readonly string[]).includes(value)) return value as CompilePrecision;
  throw new InvalidInputError(`--precision must be one of ${COMPILE_PRECISIONS.join(', ')} (got ${JSON.stringify(String(value)).slice(0, 40)}).`);
}

function graphPrecisionOption(values: OptionValues, option: 'vision-precision' | 'embedding-precision'): GraphPrecision | undefined {
  const value = values[option];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (GRAPH_PRECISIONS as readonly string[]).includes(value)) return value as GraphPrecision;
  throw new InvalidInputError(`--${option} must be one of ${GRAPH_PRECISIONS.join(', ')} (got ${JSON.stringify(String(value)).slice(0, 40)}).`);
}

function q4BlockSizeOption(values: OptionValues): Q4BlockSize | undefined {
  const value = values['q4-block-size'];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (isQ4BlockSize(n)) return n;
  throw new InvalidInputError(`--q4-block-size must be one of ${Q4_BLOCK_SIZES.join(', ')} (got ${JSON.stringify(String(value)).slice(0, 40)}).`);
}

export function createModelsCommand(deps: ModelsCommandDeps = {}): CliCommand {
  return {
    name: 'models',
    summary: 'List, install (from the Hugging Face hub), import (a folder you copied) and remove model packs.',
    usage: USAGE,
    options: {
      endpoint: { type: 'string', description: 'hub to download from (default: $HF_ENDPOINT, else https://huggingface.co)' },
      revision: { type: 'string', description: 'install this branch, tag or commit instead of the pinned revision' },
      force: { type: 'boolean', description: 'install: download again even if the pack is installed' },
      name: { type: 'string', description: 'import: name of the pack (default: the folder name)' },
      precision: { type: 'string', description: 'LLaVA: decoder precision when compiling, fp32 | int8 | q4 (default q4)' },
      'vision-precision': {
        type: 'string',
        description: 'LLaVA: vision tower precision when compiling, fp32 | int8 (default int8 for llava-interleave-qwen-0.5b, fp32 for the others; int8 reads images faster with less memory, slightly less exact)',
      },
      'q4-block-size': {
        type: 'string',
        description: `LLaVA q4: weights per 4-bit scale, ${Q4_BLOCK_SIZES.join(' | ')} (default ${DEFAULT_Q4_BLOCK_SIZE}; 32 follows the float weights more closely, 128 is faster and smaller)`,
      },
      'embedding-precision': { type: 'string', description: 'LLaVA: token embedding precision when compiling, fp32 | int8 (default as --vision-precision; int8 uses less memory)' },
      'delete-sources': { type: 'boolean', description: 'LLaVA: delete the downloaded weights once compiled (the pack runs from the compiled folder)' },
    },
    async run(ctx: CliContext, positionals: string[], values: OptionValues): Promise<number> {
      const [action = 'list'] = positionals;
      const env = deps.env ?? process.env;
      const settings = hubSettingsFromEnv(env, typeof values['endpoint'] === 'string' ? { endpoint: values['endpoint'] } : {});
      const paths = dataPaths(ctx.dataDir);
      mkdirSync(paths.dataDir, { recursive: true });
      const db = openDatabase(paths.dbFile);
      const store = new ModelStore({
        db,
        modelsDir: paths.modelsDir,
        modelCacheDir: paths.modelCacheDir,
        hub: { ...deps.hub, ...settings },
        ...(deps.freeBytes ? { freeBytes: deps.freeBytes } : {}),
        compileRunner: workerCompileRunner(deps.spawnWorker ?? (() => forkWorker())),
      });
      const precision = precisionOption(values);
      const visionPrecision = graphPrecisionOption(values, 'vision-precision');
      const embeddingPrecision = graphPrecisionOption(values, 'embedding-precision');
      const q4BlockSize = q4BlockSizeOption(values);
      const compileOptions = {
        ...(q4BlockSize ? { q4BlockSize } : {}),
        ...(precision ? { precision } : {}),
        ...(visionPrecision ? { visionPrecision } : {}),
        ...(embeddingPrecision ? { embeddingPrecision } : {}),
      };
      const deleteSources = values['delete-sources'] === true;
      const progress = new ProgressLine(ctx.stderr);
      let lastFile = '';
      let lastStage = '';
      const onProgress = (p: DownloadProgress): void => {
        if (ctx.json) return;
        // Off a terminal, one line per finished file (or compile stage) keeps logs readable.
        const fileChanged = p.file !== lastFile && lastFile !== '';
        if (fileChanged && !ctx.stderr.isTTY) progress.update(`${p.pack}: ${lastFile} done`, true);
        lastFile = p.file;
        const stage = p.compile?.stage ?? '';
        const stageChanged = stage !== lastStage;
        lastStage = stage;
        progress.update(progressText(p, settings.endpoint), p.phase !== 'downloading' && (p.phase !== 'compiling' || stageChanged));
      };
      const compiledNote = (m: { compiled: CompiledArtefact | null }): string => {
        if (!m.compiled) return '';
        const vision = compiledGraphPrecision(m.compiled, 'vision_encoder');
        const embeddings = compiledGraphPrecision(m.compiled, 'embed_tokens');
        const parts = [`${m.compiled.precision ?? '?'} decoder`, ...(vision !== 'fp32' ? [`${vision} vision`] : []), ...(embeddings !== 'fp32' ? [`${embeddings} embeddings`] : [])];
        return `; compiled (${parts.join(', ')}) in ${m.compiled.dir}${m.compiled.sourcesDeleted ? ', sources deleted' : ''}`;
      };
      try {
        switch (action) {
          case 'list': {
            const entries = await store.list();
            if (ctx.json) printJson(ctx, entries);
            else printList(ctx, entries);
            return 0;
          }
          case 'install': {
            const name = need(positionals, 1, 'the pack name', 'models install <name>');
            try {
              const result = await store.install(name, {
                signal: ctx.signal,
                ...(typeof values['revision'] === 'string' ? { revision: values['revision'] } : {}),
                force: values['force'] === true,
                ...compileOptions,
                ...(deleteSources ? { deleteSources } : {}),
                onProgress,
              });
              progress.done();
              const m = result.model;
              if (ctx.json) printJson(ctx, result);
              else if (!result.changed) line(ctx, `${m.name} is already installed in ${m.dir}${compiledNote(m)} (use --force to download it again).`);
              else line(ctx, `Installed ${m.name} (${m.kind}) from ${m.repo} @ ${m.revision}: ${m.files.length} files, ${formatBytes(m.bytes)} in ${m.dir}${compiledNote(m)}`);
              return 0;
            } catch (err) {
              progress.done();
              if (err instanceof TandemError && err.code === 'cancelled') {
                if (ctx.json) printJson(ctx, { cancelled: true, name });
                else line(ctx, `Stopped. Run 'tandem models install ${name}' again to resume where it stopped (a compile starts over; a finished download is kept).`);
                return 130;
              }
              throw err;
            }
          }
          case 'import': {
            const dir = need(positionals, 1, 'the folder to import', 'models import <dir> [--name N]');
            try {
              const model = await store.import(dir, {
                ...(typeof values['name'] === 'string' ? { name: values['name'] } : {}),
                ...compileOptions,
                ...(deleteSources ? { deleteSources } : {}),
                signal: ctx.signal,
                onProgress,
              });
              progress.done();
              if (ctx.json) printJson(ctx, model);
              else line(ctx, `Imported ${model.name} (${model.kind}): ${model.files.length} files, ${formatBytes(model.bytes)} in ${model.dir}${compiledNote(model)}`);
              return 0;
            } catch (err) {
              progress.done();
              if (err instanceof TandemError && err.code === 'cancelled') {
                if (ctx.json) printJson(ctx, { cancelled: true, dir });
                else line(ctx, 'Stopped. Nothing compiled was kept; run the import again to compile.');
                return 130;
              }
              throw err;
            }
          }
          case 'delete-sources': {
            const name = need(positionals, 1, 'the pack name', 'models delete-sources <name>');
            const result = await store.deleteSources(name);
            if (ctx.json) printJson(ctx, result);
            else line(ctx, `Deleted the weights of ${name}: ${formatBytes(result.freedBytes)} freed. It runs from its compiled folder.`);
            return 0;
          }
          case 'remove': {
            const name = need(positionals, 1, 'the pack name', 'models remove <name>');
            const result = await store.remove(name);
            if (ctx.json) printJson(ctx, result);
            else line(ctx, `Removed ${name}: ${formatBytes(result.freedBytes)} freed.`);
            return 0;
          }
          default:
            throw new InvalidInputError(`Unknown models action '${action}'. Usage: tandem ${USAGE}`);
        }
      } finally {
        db.close();
      }
    },
  };
}

export const modelsCommand: CliCommand = createModelsCommand();
