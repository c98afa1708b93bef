/**
 * Compiles a Hugging Face BLIP folder into ONNX graphs in the model cache, once. The cache entry is named by
 * a hash of the compiler version, config.json and the weight files' contents, and is built in a temporary
 * folder that is renamed into place only when complete, so an error or a crash never leaves a half-written
 * entry behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errorMessage, ModelFileError } from '../errors';
import { hashSources, publishBuild } from '../onnx/compile-cache';
import type { GraphBuilder } from '../onnx/graph-builder';
import { writeOnnxModel } from '../onnx/onnx-model-writer';
import type { CheckpointFormat } from '../weights/load-checkpoint';
import { findCheckpoint, loadCheckpoint } from '../weights/load-checkpoint';
import { MAX_CONFIG_JSON_BYTES, readModelText } from '../weights/model-json';
import type { BlipSpec } from './blip-config';
import { parseBlipConfig } from './blip-config';
import { CheckpointTensors } from './checkpoint-tensors';
import type { Quantization } from './graph-params';
import { buildTextDecoderGraph } from './text-decoder-graph';
import { buildTextEncoderGraph } from './text-encoder-graph';
import { buildVisionGraph } from './vision-graph';

/** Bump when graphs change meaning or layout: old cache entries are then rebuilt. */
export const BLIP_COMPILER_VERSION = 5;

export interface BlipManifest {
  format: 'tandem-blip';
  compilerVersion: number;
  sourceKey: string;
  quantization: Quantization;
  spec: BlipSpec;
  checkpoint: { format: CheckpointFormat; files: string[] };
  graphs: { vision: string; textDecoder: string; textEncoder?: string };
}

export interface CompiledBlip {
  dir: string;
  manifest: BlipManifest;
  /** true when this call built the entry, false when it was already cached */
  built: boolean;
}

export interface CompileOptions {
  onProgress?: (stage: string) => void;
  /** 'int8': linear layers with int8 weights and dynamically quantised activations (CPU, faster, approximate) */
  quantization?: Quantization;
}

const GRAPH_FILES = { vision: 'vision.onnx', textDecoder: 'text-decoder.onnx', textEncoder: 'text-encoder.onnx' };


/** sha256 of a weight file, remembered in the cache folder so a 1 GB checkpoint is hashed once. */
export async function weightFileHash(cacheDir: string, file: string): Promise<string> {
  const [hash] = await hashSources([file], join(cacheDir, 'source-hashes.json'));
  return hash!.sha256;
}

export async function readConfig(modelDir: string): Promise<{ text: string; json: unknown; file: string }> {
  const file = join(modelDir, 'config.json');
  let text: string | undefined;
  try {
    text = await readModelText(file, MAX_CONFIG_JSON_BYTES);
  } catch (err) {
    throw new ModelFileError(file, `The model folder ${modelDir} has no readable config.json: ${errorMessage(err)}`, { cause: err });
  }
  if (text === undefined) throw new ModelFileError(file, `The model folder ${modelDir} has no readable config.json.`);
  try {
    return { text, json: JSON.parse(text), file };
  } catch (err) {
    throw new ModelFileError(file, `${file} is not valid JSON.`, { cause: err });
  }
}

async function readManifest(dir: string): Promise<BlipManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BlipManifest;
    if (m.format !== 'tandem-blip' || m.compilerVersion !== BLIP_COMPILER_VERSION) return undefined;
    for (const f of Object.values(m.graphs)) await stat(join(dir, f));
    return m;
  } catch {
    return undefined;
  }
}

/** Removes temporary build folders left by processes that died mid-build (older than an hour). */
export async function sweepStaleBuilds(cacheDir: string): Promise<void> {
  const hour = 60 * 60 * 1000;
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!name.startsWith('.tmp-blip-')) continue;
    const p = join(cacheDir, name);
    const st = await stat(p).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > hour) await rm(p, { recursive: true, force: true });
  }
}

/**
 * Removes finished builds made by an older compiler (manifest `format` with a `compilerVersion` below `version`):
 * this app never reads them again, and each is as large as its model. Newer builds (a downgrade) are left alone.
 */
export async function sweepOutdatedBuilds(cacheDir: string, format: string, version: number): Promise<void> {
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    if (!name.startsWith('blip-')) continue;
    const dir = join(cacheDir, name);
    const manifest = join(dir, 'manifest.json');
    const st = await stat(manifest).catch(() => undefined);
    if (!st?.isFile() || st.size > MAX_MANIFEST_BYTES) continue;
    let m: unknown;
    try {
      m = JSON.parse(await readFile(manifest, 'utf8'));
    } catch {
      continue;
    }
    const { format: f, compilerVersion: v } = (m ?? {}) as { format?: unknown; compilerVersion?: unknown };
    if (f === format && typeof v === 'number' && v < version) await rm(dir, { recursive: true, force: true });
  }
}

/** A manifest is a few KB; anything far larger under that name is not one of ours. */
const MAX_MANIFEST_BYTES = 1 << 20;

export async function compileBlip(modelDir: string, cacheDir: string, options: CompileOptions = {}): Promise<CompiledBlip> {
  const progress = options.onProgress ?? (() => {});
  const quantization = options.quantization ?? 'none';
  const config = await readConfig(modelDir);
  // Validate the config before touching the cache: an unknown model leaves nothing behind.
  if (parseBlipConfig(config.json, config.file).architecture === 'retrieval') {
    throw new ModelFileError(
      config.file,
      `${modelDir} holds a BlipForImageTextRetrieval model (search by meaning): it neither captions nor answers. Use a captioning or question-answering BLIP here.`,
    );
  }
  const checkpoint = await findCheckpoint(modelDir);
  await mkdir(cacheDir, { recursive: true });

  progress('hashing');
  const key = createHash('sha256');
  key.update(`tandem-blip-compiler:${BLIP_COMPILER_VERSION}\nquantization:${quantization}\n`);
  key.update(config.text);
  for (const f of checkpoint.files) key.update(`\n${basename(f)}:${await weightFileHash(cacheDir, f)}`);
  const sourceKey = key.digest('hex');
  const dir = join(cacheDir, `blip-${quantization === 'none' ? '' : `${quantization}-`}${sourceKey.slice(0, 24)}`);
  const cached = await readManifest(dir);
  if (cached) return { dir, manifest: cached, built: false };

  await sweepStaleBuilds(cacheDir);
  await sweepOutdatedBuilds(cacheDir, 'tandem-blip', BLIP_COMPILER_VERSION);
  const tmp = join(cacheDir, `.tmp-blip-${sourceKey.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    progress('loading weights');
    const loaded = await loadCheckpoint(modelDir);
    const file = checkpoint.files.length === 1 ? (checkpoint.files[0] as string) : modelDir;
    const w = new CheckpointTensors(loaded.weights, file);
    const spec = parseBlipConfig(config.json, config.file, w.names());
    const graphs: BlipManifest['graphs'] = { vision: GRAPH_FILES.vision, textDecoder: GRAPH_FILES.textDecoder };
    const emit = async (name: string, build: () => GraphBuilder, fileName: string): Promise<void> => {
      progress(`compiling ${name}`);
      await writeOnnxModel(build(), join(tmp, fileName), { docString: `Tandem BLIP ${name}, compiled from ${basename(modelDir)}` });
    };
    await emit('vision encoder', () => buildVisionGraph(spec.vision, w, quantization), graphs.vision);
    if (spec.architecture === 'vqa') {
      if (spec.text.encoderHiddenSize !== spec.vision.hiddenSize || spec.text.encoderHiddenSize !== spec.text.hiddenSize) {
        throw new ModelFileError(
          config.file,
          `${config.file}: a question-answering BLIP needs text_config.encoder_hidden_size (${spec.text.encoderHiddenSize}) equal to both hidden sizes (vision ${spec.vision.hiddenSize}, text ${spec.text.hiddenSize}).`,
        );
      }
      graphs.textEncoder = GRAPH_FILES.textEncoder;
      await emit('question encoder', () => buildTextEncoderGraph(spec.text, w, quantization), graphs.textEncoder);
    }
    await emit('text decoder', () => buildTextDecoderGraph(spec.text, w, quantization), graphs.textDecoder);
    const manifest: BlipManifest = {
      format: 'tandem-blip',
      compilerVersion: BLIP_COMPILER_VERSION,
      sourceKey,
      quantization,
      spec,
      checkpoint: { format: checkpoint.format, files: checkpoint.files.map((f) => basename(f)) },
      graphs,
    };
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    progress('finishing');
    return { dir, ...(await publishBuild(tmp, dir, cacheDir, readManifest, manifest, '.tmp-blip-')) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
