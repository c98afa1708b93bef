import type Database from 'better-sqlite3';
import { z } from 'zod';
import { isPackName } from '../../../shared/pack-name';
import { InvalidInputError, TandemError } from '../errors';
import { ONNX_DTYPE_SUFFIX, type LlavaDTypes, type OnnxDType } from './known-packs';
import { COMPILE_PRECISIONS, MODEL_KINDS, type CompilePrecision, type InstalledFile, type ModelKind } from './model-pack';

/** A compiled artefact of a pack (ONNX graphs built from its weights), kept in the model cache. */
export interface CompiledArtefact {
  /** Derived from the source file hashes and compiler version: a different key means recompile. */
  key: string;
  dir: string;
  /** LLaVA: the decoder precision it was compiled with, and the dtype of each graph (what the runtime loads). */
  precision?: CompilePrecision;
  dtypes?: LlavaDTypes;
  /** LLaVA with a q4 decoder: weights per 4-bit scale (absent in records from before it was a choice: 32). */
  q4BlockSize?: number;
  /** The pack's weights were deleted after the compile; it runs from `dir` alone. */
  sourcesDeleted?: boolean;
}

export type ModelSource = 'hub' | 'import';

export interface InstalledModel {
  name: string;
  kind: ModelKind;
  source: ModelSource;
  repo: string | null;
  revision: string | null;
  dir: string;
  files: InstalledFile[];
  bytes: number;
  installedAt: string;
  compiled: CompiledArtefact | null;
}

const FilesSchema = z.array(z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string() }));
const DType = z.enum(Object.keys(ONNX_DTYPE_SUFFIX) as [OnnxDType, ...OnnxDType[]]);
const CompiledSchema = z
  .object({
    key: z.string(),
    dir: z.string(),
    precision: z.enum(COMPILE_PRECISIONS as [CompilePrecision, ...CompilePrecision[]]).optional(),
    dtypes: z.object({ vision_encoder: DType, embed_tokens: DType, decoder_model_merged: DType }).optional(),
    q4BlockSize: z.number().int().positive().optional(),
    sourcesDeleted: z.boolean().optional(),
  })
  .nullable();

interface ModelRow {
  name: string;
  kind: string;
  source: string;
  repo: string | null;
  revision: string | null;
  dir: string;
  files_json: string;
  bytes: number;
  installed_at: string;
  compiled_json: string | null;
}

function fromRow(row: ModelRow): InstalledModel {
  try {
    const kind = z.enum(MODEL_KINDS as [ModelKind, ...ModelKind[]]).parse(row.kind);
    const source = z.enum(['hub', 'import']).parse(row.source);
    return {
      name: row.name,
      kind,
      source,
      repo: row.repo,
      revision: row.revision,
      dir: row.dir,
      files: FilesSchema.parse(JSON.parse(row.files_json)),
      bytes: row.bytes,
      installedAt: row.installed_at,
      compiled: CompiledSchema.parse(row.compiled_json === null ? null : JSON.parse(row.compiled_json)),
    };
  } catch (cause) {
    throw new TandemError(
      'model_record',
      `The models table entry for '${row.name}' is damaged. Remove it with: tandem models remove ${row.name}, then install it again.`,
      { cause },
    );
  }
}

/** Reads and writes the `models` table (created by the store migrations). */
export class ModelRepository {
  constructor(private readonly db: Database.Database) {}

  all(): InstalledModel[] {
    const rows = this.db.prepare('SELECT * FROM models ORDER BY name').all() as ModelRow[];
    return rows.map(fromRow);
  }

  get(name: string): InstalledModel | undefined {
    const row = this.db.prepare('SELECT * FROM models WHERE name = ?').get(name) as ModelRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Inserts or replaces: a reinstall overwrites the record, and drops compiled artefacts of the old files. */
  upsert(model: InstalledModel): void {
    // Names become folder names next to the models folder's other packs: no row gets one that could lead out of it.
    if (!isPackName(model.name)) throw new InvalidInputError(`Cannot register a model named ${JSON.stringify(model.name.slice(0, 80))}.`);
    this.db
      .prepare(
        `INSERT INTO models (name, kind, source, repo, revision, dir, files_json, bytes, installed_at, compiled_json)
         VALUES (@name, @kind, @source, @repo, @revision, @dir, @files_json, @bytes, @installed_at, @compiled_json)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, source = excluded.source, repo = excluded.repo,
           revision = excluded.revision, dir = excluded.dir, files_json = excluded.files_json, bytes = excluded.bytes,
           installed_at = excluded.installed_at, compiled_json = excluded.compiled_json`,
      )
      .run({
        name: model.name,
        kind: model.kind,
        source: model.source,
        repo: model.repo,
        revision: model.revision,
        dir: model.dir,
        files_json: JSON.stringify(model.files),
        bytes: model.bytes,
        installed_at: model.installedAt,
        compiled_json: model.compiled === null ? null : JSON.stringify(model.compiled),
      });
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM models WHERE name = ?').run(name).changes > 0;
  }

  setCompiled(name: string, compiled: CompiledArtefact | null): void {
    const changes = this.db
      .prepare('UPDATE models SET compiled_json = ? WHERE name = ?')
      .run(compiled === null ? null : JSON.stringify(compiled), name).changes;
    if (changes === 0) throw new TandemError('model_missing', `Model '${name}' is not installed.`);
  }
}
