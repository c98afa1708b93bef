import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ModelFileError } from '../errors';
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

/**
 * Hugging Face's precedence: model.safetensors, then a sharded safetensors index, then
 * pytorch_model.bin. Neither present → ModelFileError naming what was looked for.
 */
export async function findCheckpoint(modelDir: string): Promise<CheckpointLocation> {
  const single = join(modelDir, 'model.safetensors');
  if (await exists(single)) return { format: 'safetensors', files: [single] };
  const index = join(modelDir, 'model.safetensors.index.json');
  if (await exists(index)) {
    let weightMap: Record<string, string>;
    try {
      weightMap = (JSON.parse(await readFile(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map;
      if (!weightMap || typeof weightMap !== 'object') throw new Error('no weight_map');
    } catch (err) {
      throw new ModelFileError(index, `The checkpoint index ${index} is not valid: it needs a "weight_map" object.`, { cause: err });
    }
    const files = [...new Set(Object.values(weightMap))].sort().map((f) => join(dirname(index), f));
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
