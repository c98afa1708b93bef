import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, win32 } from 'node:path';
import { ModelFileError } from '../errors';
import { MAX_INDEX_JSON_BYTES, readModelJson } from './model-json';
import { readSafetensors } from './safetensors';
import { readTorchBin } from './torch-bin';
import type { WeightMap } from './weight-tensor';

export type CheckpointFormat = 'safetensors' | 'torch-bin';

export interface CheckpointLocation {
  format: CheckpointFormat;
  /** every file holding weights (one, or the shards of a sharded safetensors checkpoint), sorted */
  files: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The distinct shard files a sharded checkpoint's index names, each checked by `shardPath`, sorted. */
async function readShardList(index: string): Promise<string[]> {
  const json = await readModelJson(index, MAX_INDEX_JSON_BYTES);
  const weightMap = isObject(json) ? json['weight_map'] : undefined;
  if (!isObject(weightMap)) {
    throw new ModelFileError(index, `The checkpoint index ${index} is not valid: it needs a "weight_map" object.`);
  }
  const names = new Set<string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string') {
      throw new ModelFileError(index, `The checkpoint index ${index} is not valid: the shard of ${tensor.slice(0, 200)} is not a file name.`);
    }
    names.add(shard);
  }
  if (names.size === 0) throw new ModelFileError(index, `The checkpoint index ${index} lists no shards.`);
  return [...names].sort().map((name) => shardPath(index, name));
}

/**
 * A shard must be a plain file beside the index. The index comes from the internet: `../x`, `/etc/x`, `sub/x`,
 * `C:x` or `x:stream` would make Tandem read (and report on) files outside the model pack.
 */
export function shardPath(index: string, name: string): string {
  const folder = dirname(index);
  const plain =
    name.length > 0 && name.length <= 255 && !/[/\\:\0]/.test(name) && !name.includes('..') && !isAbsolute(name) && !win32.isAbsolute(name);
  const inside = plain && dirname(resolve(folder, name)) === resolve(folder);
  if (!inside) {
    throw new ModelFileError(
      index,
      `The checkpoint index ${index} names the shard ${JSON.stringify(name.slice(0, 200))}, which is not a plain file name in ${folder}; refusing to read it.`,
    );
  }
  return join(folder, name);
}

/**
 * Hugging Face's precedence: model.safetensors, then a sharded safetensors index, then
 * pytorch_model.bin. Neither present → ModelFileError naming what was looked for.
 */
export async function findCheckpoint(modelDir: string): Promise<CheckpointLocation> {
  const single = join(modelDir, 'model.safetensors');
  if (await exists(single)) return { format: 'safetensors', files: [single] };
  const index = join(modelDir, 'model.safetensors.index.json');
  if (await exists(index)) {
    const files = await readShardList(index);
    for (const f of files) {
      if (!(await exists(f))) throw new ModelFileError(f, `The checkpoint shard ${f} listed in ${index} is missing.`);
    }
    return { format: 'safetensors', files };
  }
  const bin = join(modelDir, 'pytorch_model.bin');
  if (await exists(bin)) return { format: 'torch-bin', files: [bin] };
  throw new ModelFileError(
    single,
    `No model weights in ${modelDir}: expected model.safetensors (or model.safetensors.index.json with its shards) or pytorch_model.bin.`,
  );
}

/** Loads all weights of the checkpoint in `modelDir` (or those `filter` accepts), widened to float32. */
export async function loadCheckpoint(
  modelDir: string,
  options: { filter?: (name: string) => boolean } = {},
): Promise<CheckpointLocation & { weights: WeightMap }> {
  const location = await findCheckpoint(modelDir);
  if (location.format === 'torch-bin') {
    const all = await readTorchBin(location.files[0] as string);
    if (!options.filter) return { ...location, weights: all };
    const kept: WeightMap = new Map();
    for (const [k, v] of all) if (options.filter(k)) kept.set(k, v);
    return { ...location, weights: kept };
  }
  const weights: WeightMap = new Map();
  for (const file of location.files) {
    for (const [k, v] of await readSafetensors(file, options)) weights.set(k, v);
  }
  return { ...location, weights };
}
