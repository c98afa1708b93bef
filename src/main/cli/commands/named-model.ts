import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Core } from '../../core/core';
import type { ModelKind } from '../../core/models/model-pack';
import { findPack } from '../../core/models/known-packs';
import { kindFromConfig } from '../../core/models/pack-layout';

/**
 * What the model named with `--model-dir` or `--model` is, if that can be told: the folder's config.json, else the
 * installed pack, else the known pack of that name. Null when nothing says (a missing pack, a folder without config):
 * loading it later gives the precise error.
 */
export async function namedModelKind(core: Pick<Core, 'models'>, named: { model?: string; modelDir?: string }): Promise<ModelKind | null> {
  if (named.modelDir) {
    try {
      const config: unknown = JSON.parse(await readFile(join(resolve(named.modelDir), 'config.json'), 'utf8'));
      return typeof config === 'object' && config !== null ? kindFromConfig(config) : null;
    } catch {
      return null;
    }
  }
  if (!named.model) return null;
  try {
    return core.models.resolveModel(named.model).kind;
  } catch {
    return findPack(core.models.knownPacks(), named.model)?.kind ?? null;
  }
}
