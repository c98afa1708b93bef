/**
 * What a model pack is: a named set of files from one Hugging Face repo at one revision,
 * used by one runtime (`kind`). Known packs live in known-packs.ts; imported folders get a
 * pack-like record in the models table.
 */

/** 'blip-retrieval': BlipForImageTextRetrieval, search by meaning (issue 11). */
export type ModelKind = 'blip-caption' | 'blip-vqa' | 'blip-retrieval' | 'llava';

export const MODEL_KINDS: readonly ModelKind[] = ['blip-caption', 'blip-vqa', 'blip-retrieval', 'llava'];

export function isModelKind(value: string): value is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(value);
}

/** One concrete file on the hub. */
export interface PackFileCandidate {
  /** '/'-separated path inside the repo, and inside the installed pack folder. */
  path: string;
  /** Rough size for the list view and disk planning before the hub is asked; never trusted. */
  approxBytes: number;
  /** When known, wins over the hub's LFS oid: it pins the content, not just the name. */
  expectedSha256?: string;
}

/**
 * A slot in the pack. Most slots have one candidate; weights may have alternatives
 * (`model.safetensors` or `pytorch_model.bin`) and the downloader takes the first the hub has.
 */
export interface PackFile {
  candidates: readonly PackFileCandidate[];
  /** Optional files are fetched when the hub has them and skipped silently when it does not. */
  required: boolean;
  /**
   * When the chosen candidate is a `*.safetensors.index.json`, the shards its weight_map names are fetched
   * too: a 7B has 3 shards and a 13B 6, and the index, not this file, is what says which.
   */
  expandsIndex?: boolean;
}

/** Decoder linears' precision when a pack is compiled (the compiler's LinearPrecision). */
export type CompilePrecision = 'fp32' | 'int8' | 'q4';
export const COMPILE_PRECISIONS: readonly CompilePrecision[] = ['fp32', 'int8', 'q4'];

/**
 * The vision tower's linears and the embed_tokens table when a pack is compiled. int8 reads an image about 2.5×
 * faster with about 1 GB less memory; fp32 follows the reference math. Each pack says which it gets by default.
 */
export type GraphPrecision = 'fp32' | 'int8';
export const GRAPH_PRECISIONS: readonly GraphPrecision[] = ['fp32', 'int8'];

/** A pack whose hub files are sources: Tandem's compiler turns them into the graphs the runtime loads. */
export interface PackCompileSpec {
  defaultPrecision: CompilePrecision;
  /**
   * The vision tower's and embeddings' precision when the user asks for none: int8 where the benchmarks show the
   * fp32 tower keeping the pack from its first-answer and memory goals, else fp32.
   */
  defaultGraphPrecision: GraphPrecision;
  /** Rough size of the compiled folder per decoder precision, for the disk check before the download. */
  compiledBytes: Record<CompilePrecision, number>;
}

export interface ModelPack {
  name: string;
  kind: ModelKind;
  repo: string;
  /** Branch, tag or commit. A commit hash makes installs reproducible. */
  revision: string;
  description: string;
  files: readonly PackFile[];
  /** Set when the downloaded files must be compiled before the pack can run (every LLaVA pack). */
  compile?: PackCompileSpec;
}

/** A file as installed: recorded in the models table (`files_json`). */
export interface InstalledFile {
  path: string;
  size: number;
  sha256: string;
}

export function packFile(path: string, approxBytes: number, options: { required?: boolean; sha256?: string } = {}): PackFile {
  const candidate: PackFileCandidate = { path, approxBytes };
  if (options.sha256) candidate.expectedSha256 = options.sha256;
  return { candidates: [candidate], required: options.required ?? true };
}

/** A slot filled by the first candidate the hub has, in order of preference. */
export function oneOf(candidates: readonly PackFileCandidate[], options: { required?: boolean; expandsIndex?: boolean } = {}): PackFile {
  return { candidates, required: options.required ?? true, ...(options.expandsIndex ? { expandsIndex: true } : {}) };
}

/** Download size if every required slot takes its first candidate (optional files not counted). */
export function approxPackBytes(pack: ModelPack): number {
  return pack.files.filter((f) => f.required).reduce((sum, f) => sum + (f.candidates[0]?.approxBytes ?? 0), 0);
}

/** Names users type on the command line and that become folder names: defined once, in the contract. */
export { PACK_NAME_PATTERN } from '../../../shared/pack-name';
