/**
 * Compiles a Hugging Face BlipForImageTextRetrieval folder (e.g. Salesforce/blip-itm-base-coco) into the two
 * graphs of retrieval-graphs.ts, once, in the shared model cache: the entry is named by a hash of the compiler
 * version, the precision, config.json and the weight files, and is built in a temporary folder renamed into place
 * only when whole (compile-cache.ts), exactly as the captioner's entries are.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFileError } from '../errors';
import { publishBuild } from '../onnx/compile-cache';
import type { GraphBuilder } from '../onnx/graph-builder';
import { writeOnnxModel } from '../onnx/onnx-model-writer';
import type { CheckpointFormat } from '../weights/load-checkpoint';
import { findCheckpoint, loadCheckpoint } from '../weights/load-checkpoint';
import { CheckpointTensors } from './checkpoint-tensors';
import { BLIP_COMPILER_VERSION, readConfig, sweepOutdatedBuilds, sweepStaleBuilds, weightFileHash } from './compile-blip';
import type { Quantization } from './graph-params';
import type { BlipRetrievalSpec } from './retrieval-config';
import { parseBlipRetrievalConfig } from './retrieval-config';
import { buildRetrievalImageGraph, buildRetrievalTextGraph } from './retrieval-graphs';

/**
 * Bump when the graphs change meaning or layout, and with BLIP_COMPILER_VERSION (the key includes it): old cache
 * entries are then rebuilt, and removed as outdated.
 */
export const BLIP_RETRIEVAL_COMPILER_VERSION = 4;

export interface BlipRetrievalManifest {
  format: 'tandem-blip-retrieval';
  compilerVersion: number;
  sourceKey: string;
  quantization: Quantization;
  spec: BlipRetrievalSpec;
  checkpoint: { format: CheckpointFormat; files: string[] };
  graphs: { image: string; text: string };
}

export interface CompiledBlipRetrieval {
  dir: string;
  manifest: BlipRetrievalManifest;
  /** true when this call built the entry, false when it was already cached */
  built: boolean;
}

export interface CompileRetrievalOptions {
  onProgress?: (stage: string) => void;
  /** 'int8': the encoders' linear layers with int8 weights (DynamicQuantizeMatMul), as the captioner's int8 */
  quantization?: Quantization;
}

const GRAPH_FILES: BlipRetrievalManifest['graphs'] = { image: 'retrieval-image.onnx', text: 'retrieval-text.onnx' };

async function readManifest(dir: string): Promise<BlipRetrievalManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as BlipRetrievalManifest;
    if (m.format !== 'tandem-blip-retrieval' || m.compilerVersion !== BLIP_RETRIEVAL_COMPILER_VERSION) return undefined;
    for (const f of Object.values(m.graphs)) await stat(join(dir, f));
    return m;
  } catch {
    return undefined;
  }
}

export async function compileBlipRetrieval(modelDir: string, cacheDir: string, options: CompileRetrievalOptions = {}): Promise<CompiledBlipRetrieval> {
  const progress = options.onProgress ?? (() => {});
  const quantization = options.quantization ?? 'none';
  const config = await readConfig(modelDir);
  // Validate before touching the cache: a captioner or a damaged config leaves nothing behind.
  parseBlipRetrievalConfig(config.json, config.file);
  const checkpoint = await findCheckpoint(modelDir);
  await mkdir(cacheDir, { recursive: true });

  progress('hashing');
  const key = createHash('sha256');
  // The vision tower and text layers are the captioner's builders: a change there (BLIP_COMPILER_VERSION) rebuilds too.
  key.update(`tandem-blip-retrieval-compiler:${BLIP_RETRIEVAL_COMPILER_VERSION}\nblip-compiler:${BLIP_COMPILER_VERSION}\nquantization:${quantization}\n`);
  key.update(config.text);
  for (const f of checkpoint.files) key.update(`\n${basename(f)}:${await weightFileHash(cacheDir, f)}`);
  const sourceKey = key.digest('hex');
  const dir = join(cacheDir, `blip-retrieval-${quantization === 'none' ? '' : `${quantization}-`}${sourceKey.slice(0, 24)}`);
  const cached = await readManifest(dir);
  if (cached) return { dir, manifest: cached, built: false };

  // The `.tmp-blip-` prefix lets the captioner's sweep clear our leftovers too, and ours clear theirs.
  await sweepStaleBuilds(cacheDir);
  await sweepOutdatedBuilds(cacheDir, 'tandem-blip-retrieval', BLIP_RETRIEVAL_COMPILER_VERSION);
  const tmp = join(cacheDir, `.tmp-blip-retrieval-${sourceKey.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    progress('loading weights');
    const loaded = await loadCheckpoint(modelDir);
    const file = checkpoint.files.length === 1 ? (checkpoint.files[0] as string) : modelDir;
    const w = new CheckpointTensors(loaded.weights, file);
    const spec = parseBlipRetrievalConfig(config.json, config.file, w.names());
    if (spec.text.encoderHiddenSize !== spec.vision.hiddenSize) {
      throw new ModelFileError(
        config.file,
        `${config.file}: text_config.encoder_hidden_size (${spec.text.encoderHiddenSize}) must equal vision_config.hidden_size (${spec.vision.hiddenSize}): the matching head cross-attends to the image embeds.`,
      );
    }
    const emit = async (name: string, build: () => GraphBuilder, fileName: string): Promise<void> => {
      progress(`compiling ${name}`);
      await writeOnnxModel(build(), join(tmp, fileName), { docString: `Tandem BLIP retrieval ${name}, compiled from ${basename(modelDir)}` });
    };
    await emit('image encoder', () => buildRetrievalImageGraph(spec, w, quantization), GRAPH_FILES.image);
    await emit('text encoder and matching head', () => buildRetrievalTextGraph(spec, w, quantization), GRAPH_FILES.text);
    const manifest: BlipRetrievalManifest = {
      format: 'tandem-blip-retrieval',
      compilerVersion: BLIP_RETRIEVAL_COMPILER_VERSION,
      sourceKey,
      quantization,
      spec,
      checkpoint: { format: checkpoint.format, files: checkpoint.files.map((f) => basename(f)) },
      graphs: GRAPH_FILES,
    };
    await writeFile(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    progress('finishing');
    return { dir, ...(await publishBuild(tmp, dir, cacheDir, readManifest, manifest, '.tmp-blip-')) };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
