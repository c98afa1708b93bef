/**
 * Compiles an official llava-hf folder (config.json + model.safetensors or its shards) into the three ONNX
 * graphs of the transformers.js LLaVA layout (onnx/vision_encoder*.onnx, onnx/embed_tokens*.onnx,
 * onnx/decoder_model_merged*.onnx, weights as `<file>_data` external data) plus the tokenizer, processor and
 * template files the runtime reads, and a manifest with the sources' hashes and the compile options.
 *
 * `compileLlava` does it once per (sources, options) in a cache folder: the entry is built in a temporary
 * folder and renamed into place only when complete, as compile-blip.ts does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFileError } from '../errors';
import { llavaOnnxPath, type LlavaComponent } from '../models/known-packs';
import { hashSources, publishBuild, type SourceFileHash as LlavaSourceFile } from '../onnx/compile-cache';
import { GraphBuilder } from '../onnx/graph-builder';
import { LlavaCheckpoint } from './checkpoint-reader';
import { buildDecoderGraph, buildEmbedTokensGraph, readEmbeddings, type DecoderIo, type EmbeddingPrecision } from './llama-decoder-graph';
import type { LinearPrecision, Q4AccuracyLevel, Q4Options } from './linear-weights';
import { parseLlavaConfig, type LlavaSpec } from './llava-config';
import { DEFAULT_Q4_BLOCK_SIZE, type Q4BlockSize } from './q4-quantize';
import { StreamingOnnxWriter } from './streaming-onnx-writer';
import { buildVisionEncoderGraph } from './vision-encoder-graph';

/** Bump when graphs change meaning or layout: old cache entries are then rebuilt. */
export const LLAVA_COMPILER_VERSION = 3;

export const LLAVA_MANIFEST_FILE = 'tandem-llava-manifest.json';

export interface LlavaCompileOptions {
  /** decoder linears (attention, MLP, lm_head). Default 'q4'. */
  decoderPrecision?: LinearPrecision;
  /** vision tower and projector linears. Default 'fp32'. */
  visionPrecision?: LinearPrecision;
  /** the embed_tokens table. Default 'fp32'. */
  embeddingPrecision?: EmbeddingPrecision;
  /** MatMulNBits accuracy_level for q4 linears: 4 = int8 compute where the CPU has it, 0 = float32. Default 4. */
  accuracyLevel?: Q4AccuracyLevel;
  /** weights per scale in q4 linears (MatMulNBits block_size). Default DEFAULT_Q4_BLOCK_SIZE. */
  q4BlockSize?: Q4BlockSize;
  /**
   * The decoder's cache interface (llama-decoder-graph.ts): 'transformers.js' (present = past ⧺ new, logits of
   * every position) or 'kv-append' (new keys/values only, last logits only; what the embedded engine runs
   * fastest). Default: 'kv-append' for `compileLlava` (cache entries are only ever run by the embedded engine),
   * 'transformers.js' for `compileLlavaToFolder` (a folder other tools may read).
   */
  decoderIo?: DecoderIo;
}

/** How a compile run is driven: not part of the cache key. */
export interface LlavaCompileRun {
  onProgress?: (p: LlavaCompileProgress) => void;
  /** Checked before every tensor is written and every layer is reported; an abort leaves no entry behind. */
  signal?: AbortSignal;
}

export type { LlavaSourceFile };

export type ResolvedLlavaCompileOptions = Required<LlavaCompileOptions>;

export type LlavaCompileStage = 'hashing' | 'vision' | 'embeddings' | 'decoder' | 'writing' | 'copying';

export interface LlavaCompileProgress {
  stage: LlavaCompileStage;
  /** what a progress line shows, e.g. 'decoder layer 3/32' */
  label: string;
  /** units of work done and in all (vision layers + 1 embedding table + decoder layers + 3 writes) */
  done: number;
  total: number;
}


export interface LlavaManifest {
  format: 'tandem-llava';
  compilerVersion: number;
  sourceKey: string;
  options: ResolvedLlavaCompileOptions;
  spec: LlavaSpec;
  sources: LlavaSourceFile[];
  graphs: Record<LlavaComponent, string>;
  /** runtime files copied from the source folder */
  copied: string[];
}

export interface CompiledLlava {
  dir: string;
  manifest: LlavaManifest;
  /** true when this call built the entry, false when it was already cached */
  built: boolean;
}

/** What the runtime reads besides the graphs; config.json and the tokenizer are required. */
const RUNTIME_FILES: { name: string; required: boolean }[] = [
  { name: 'config.json', required: true },
  { name: 'tokenizer.json', required: true },
  { name: 'tokenizer_config.json', required: true },
  { name: 'preprocessor_config.json', required: true },
  { name: 'generation_config.json', required: false },
  { name: 'special_tokens_map.json', required: false },
  { name: 'processor_config.json', required: false },
  { name: 'chat_template.json', required: false },
  { name: 'chat_template.jinja', required: false },
  { name: 'added_tokens.json', required: false },
];

export function resolveLlavaCompileOptions(options: LlavaCompileOptions = {}, defaultDecoderIo: DecoderIo = 'transformers.js'): ResolvedLlavaCompileOptions {
  return {
    decoderPrecision: options.decoderPrecision ?? 'q4',
    visionPrecision: options.visionPrecision ?? 'fp32',
    embeddingPrecision: options.embeddingPrecision ?? 'fp32',
    accuracyLevel: options.accuracyLevel ?? 4,
    q4BlockSize: options.q4BlockSize ?? DEFAULT_Q4_BLOCK_SIZE,
    decoderIo: options.decoderIo ?? defaultDecoderIo,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readConfig(modelDir: string): Promise<{ text: string; spec: LlavaSpec }> {
  const file = join(modelDir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelFileError(file, `The model folder ${modelDir} has no readable config.json.`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelFileError(file, `${file} is not valid JSON.`, { cause: err });
  }
  return { text, spec: parseLlavaConfig(json, file) };
}

/** The graph files for these options, named as transformers.js names its dtype variants. */
export function llavaGraphFiles(options: ResolvedLlavaCompileOptions): Record<LlavaComponent, string> {
  return {
    vision_encoder: llavaOnnxPath('vision_encoder', options.visionPrecision),
    embed_tokens: llavaOnnxPath('embed_tokens', options.embeddingPrecision),
    decoder_model_merged: llavaOnnxPath('decoder_model_merged', options.decoderPrecision),
  };
}

interface Sources {
  spec: LlavaSpec;
  checkpointFiles: string[];
  runtimeFiles: string[];
}

async function locateSources(modelDir: string): Promise<Sources> {
  const { spec } = await readConfig(modelDir);
  const ckpt = await LlavaCheckpoint.open(modelDir);
  await ckpt.close();
  const runtimeFiles: string[] = [];
  for (const f of RUNTIME_FILES) {
    const p = join(modelDir, f.name);
    if (await exists(p)) runtimeFiles.push(p);
    else if (f.required) throw new ModelFileError(p, `The model folder ${modelDir} has no ${f.name}, which the LLaVA runtime needs.`);
  }
  const index = join(modelDir, 'model.safetensors.index.json');
  const checkpointFiles = [...ckpt.files];
  // A sharded checkpoint's index is a source too: it says which shard holds which tensor.
  if (ckpt.files.length > 1 || basename(ckpt.files[0] ?? '') !== 'model.safetensors') checkpointFiles.unshift(index);
  return { spec, checkpointFiles, runtimeFiles };
}

interface BuildContext {
  modelDir: string;
  outDir: string;
  options: ResolvedLlavaCompileOptions;
  onProgress: (p: LlavaCompileProgress) => void;
  signal: AbortSignal | undefined;
}

/** Builds the graphs and copies the runtime files into `outDir` (created if needed). Returns the graph paths. */
async function buildInto(ctx: BuildContext, spec: LlavaSpec, runtimeFiles: string[]): Promise<{ graphs: Record<LlavaComponent, string>; copied: string[] }> {
  const { options, outDir } = ctx;
  const graphs = llavaGraphFiles(options);
  await mkdir(join(outDir, 'onnx'), { recursive: true });
  const total = spec.visionLayersUsed + 1 + spec.text.numLayers + 3;
  let done = 0;
  const report = (stage: LlavaCompileStage, label: string) => {
    ctx.signal?.throwIfAborted();
    ctx.onProgress({ stage, label, done, total });
  };
  const doc = (what: string) => `Tandem LLaVA ${what}, compiled from ${basename(ctx.modelDir)}`;

  // Each graph streams its weights to `<file>_data` as it is built: memory holds one tensor at a time
  // (plus the embedding table, which a tied lm_head reads twice).
  const streaming = (name: string, file: string) => {
    const graph = new GraphBuilder(name);
    const writer = new StreamingOnnxWriter(graph, join(outDir, file));
    return {
      graph,
      writer,
      spill: () => {
        // Between tensors is the finest point a cancel can land without leaving a graph half-encoded.
        ctx.signal?.throwIfAborted();
        return writer.spill();
      },
    };
  };
  const ckpt = await LlavaCheckpoint.open(ctx.modelDir);
  const writers: StreamingOnnxWriter[] = [];
  try {
    report('vision', `vision layer 0/${spec.visionLayersUsed}`);
    const vision = streaming('vision_encoder', graphs.vision_encoder);
    writers.push(vision.writer);
    await buildVisionEncoderGraph(spec, ckpt, {
      precision: options.visionPrecision,
      q4: q4Options(options),
      graph: vision.graph,
      spill: vision.spill,
      onLayer: (i, n) => {
        done++;
        report('vision', `vision layer ${i}/${n}`);
      },
    });
    report('writing', 'writing vision_encoder');
    await vision.writer.finish(doc('vision encoder'));
    done++;

    report('embeddings', 'embedding table');
    let table: Float32Array | undefined = await readEmbeddings(spec.text, ckpt);
    const embed = new StreamingOnnxWriter(buildEmbedTokensGraph(spec.text, table, options.embeddingPrecision), join(outDir, graphs.embed_tokens));
    writers.push(embed);
    await embed.finish(doc('token embeddings'));
    done++;
    // Only a tied lm_head needs the table again; let it go otherwise before the decoder's weights arrive.
    if (!spec.text.tiedEmbeddings) table = undefined;

    report('decoder', `decoder layer 0/${spec.text.numLayers}`);
    const decoder = streaming('decoder_model_merged', graphs.decoder_model_merged);
    writers.push(decoder.writer);
    await buildDecoderGraph(spec.text, ckpt, {
      precision: options.decoderPrecision,
      q4: q4Options(options),
      io: options.decoderIo,
      graph: decoder.graph,
      spill: decoder.spill,
      ...(table ? { embeddings: table } : {}),
      onLayer: (i, n) => {
        done++;
        report('decoder', `decoder layer ${i}/${n}`);
      },
    });
    table = undefined;
    report('writing', 'writing decoder_model_merged');
    await decoder.writer.finish(doc('decoder'));
    done++;
  } finally {
    await Promise.all(writers.map((w) => w.close()));
    await ckpt.close();
  }

  report('copying', 'copying tokenizer and processor files');
  const copied: string[] = [];
  for (const f of runtimeFiles) {
    await copyFile(f, join(outDir, basename(f)));
    copied.push(basename(f));
  }
  done++;
  report('copying', 'done');
  return { graphs, copied };
}

function q4Options(options: ResolvedLlavaCompileOptions): Q4Options {
  return { accuracyLevel: options.accuracyLevel, blockSize: options.q4BlockSize };
}

function sourceKeyOf(options: ResolvedLlavaCompileOptions, sources: LlavaSourceFile[]): string {
  const key = createHash('sha256');
  key.update(`tandem-llava-compiler:${LLAVA_COMPILER_VERSION}\n${JSON.stringify(options)}\n`);
  for (const s of sources) key.update(`${s.file}:${s.bytes}:${s.sha256}\n`);
  return key.digest('hex');
}

/**
 * Compiles `modelDir` into `outDir` unconditionally (no cache lookup). `outDir` should be new or empty:
 * files already there are overwritten.
 */
export async function compileLlavaToFolder(
  modelDir: string,
  outDir: string,
  options: LlavaCompileOptions & LlavaCompileRun & { hashMemo?: string } = {},
): Promise<LlavaManifest> {
  const resolved = resolveLlavaCompileOptions(options);
  const onProgress = options.onProgress ?? (() => {});
  const signal = options.signal;
  const src = await locateSources(modelDir);
  onProgress({ stage: 'hashing', label: 'hashing source files', done: 0, total: 1 });
  const sources = await hashSources([...src.runtimeFiles, ...src.checkpointFiles], options.hashMemo);
  signal?.throwIfAborted();
  const { graphs, copied } = await buildInto({ modelDir, outDir, options: resolved, onProgress, signal }, src.spec, src.runtimeFiles);
  const manifest: LlavaManifest = {
    format: 'tandem-llava',
    compilerVersion: LLAVA_COMPILER_VERSION,
    sourceKey: sourceKeyOf(resolved, sources),
    options: resolved,
    spec: src.spec,
    sources,
    graphs,
    copied,
  };
  await writeFile(join(outDir, LLAVA_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function readManifest(dir: string): Promise<LlavaManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, LLAVA_MANIFEST_FILE), 'utf8')) as LlavaManifest;
    if (m.format !== 'tandem-llava' || m.compilerVersion !== LLAVA_COMPILER_VERSION) return undefined;
    for (const f of Object.values(m.graphs)) await stat(join(dir, f));
    return m;
  } catch {
    return undefined;
  }
}

/** Removes temporary build folders left by processes that died mid-build (older than a day: a 7B takes a while). */
async function sweepStaleBuilds(cacheDir: string): Promise<void> {
  const day = 24 * 60 * 60 * 1000;
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-llava-')) continue;
    const p = join(cacheDir, name);
    const st = await stat(p).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > day) await rm(p, { recursive: true, force: true });
  }
}

/**
 * The compiled entry for `modelDir` under `cacheDir`, built once per (compiler version, options, source
 * hashes). Errors leave no entry behind.
 */
export async function compileLlava(
  modelDir: string,
  cacheDir: string,
  options: LlavaCompileOptions & LlavaCompileRun = {},
): Promise<CompiledLlava> {
  const resolved = resolveLlavaCompileOptions(options, 'kv-append');
  const onProgress = options.onProgress ?? (() => {});
  const signal = options.signal;
  // Config and checkpoint headers are validated before the cache is touched.
  const src = await locateSources(modelDir);
  await mkdir(cacheDir, { recursive: true });
  onProgress({ stage: 'hashing', label: 'hashing source files', done: 0, total: 1 });
  const sources = await hashSources([...src.runtimeFiles, ...src.checkpointFiles], join(cacheDir, 'source-hashes.json'));
  const sourceKey = sourceKeyOf(resolved, sources);
  const dir = join(cacheDir, `llava-${resolved.decoderPrecision}-${sourceKey.slice(0, 24)}`);
  const cached = await readManifest(dir);
  if (cached) return { dir, manifest: cached, built: false };
  signal?.throwIfAborted();

  await sweepStaleBuilds(cacheDir);
  const tmp = join(cacheDir, `.tmp-llava-${sourceKey.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const { graphs, copied } = await buildInto({ modelDir, outDir: tmp, options: resolved, onProgress, signal }, src.spec, src.runtimeFiles);
    signal?.throwIfAborted();
    const manifest: LlavaManifest = { format: 'tandem-llava', compilerVersion: LLAVA_COMPILER_VERSION, sourceKey, options: resolved, spec: src.spec, sources, graphs, copied };
    await writeFile(join(tmp, LLAVA_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return { dir, ...(await publishBuild(tmp, dir, cacheDir, readManifest, manifest, '.tmp-llava-')) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
