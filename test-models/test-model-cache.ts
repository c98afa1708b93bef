/**
 * Generated test models, cached on disk by kind and generator version so tests (this engine's and other
 * features') pay the generation cost once. A model is written to a temporary folder and renamed into place,
 * so concurrent test workers and interrupted runs never see a partial model.
 *
 *   const dir = await ensureTestModel('colour');   // .cache/test-models/colour-v1
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBlipBaseRandom } from './blip-base-random';
import { writeColourBlip, writeColourBlipVqa } from './colour-blip';
import { writeTinyBlipCaptioner, writeTinyBlipVqa } from './tiny-blip';
import { writeTinyBlipRetrieval } from './tiny-blip-retrieval';
import { writeColourBlipRetrieval } from './colour-blip-retrieval';
import { writeBlipItmBaseRandom } from './blip-itm-base-random';

/** Bump a kind's number when its generator changes. */
export const TEST_MODEL_VERSIONS = {
  'tiny-captioner': 1,
  'tiny-vqa': 1,
  colour: 1,
  'colour-vqa': 1,
  'blip-base-random': 1,
  'tiny-retrieval': 2,
  'colour-retrieval': 2,
  'blip-itm-base-random': 1,
} as const;

export type TestModelKind = keyof typeof TEST_MODEL_VERSIONS;

const WRITERS: Record<TestModelKind, (dir: string, format: 'safetensors' | 'bin') => Promise<void>> = {
  'tiny-captioner': (dir, format) => writeTinyBlipCaptioner(dir, { format }),
  'tiny-vqa': (dir, format) => writeTinyBlipVqa(dir, { format }),
  colour: (dir, format) => writeColourBlip(dir, { format }),
  'colour-vqa': (dir, format) => writeColourBlipVqa(dir, { format }),
  'blip-base-random': (dir) => writeBlipBaseRandom(dir),
  'tiny-retrieval': (dir, format) => writeTinyBlipRetrieval(dir, { format }),
  'colour-retrieval': (dir, format) => writeColourBlipRetrieval(dir, { format }),
  'blip-itm-base-random': (dir) => writeBlipItmBaseRandom(dir),
};

/** `$TANDEM_TEST_MODELS`, else `.cache/test-models` under the working directory (git-ignored). */
export function defaultTestModelRoot(): string {
  return process.env.TANDEM_TEST_MODELS ?? join(process.cwd(), '.cache', 'test-models');
}

/** Path of a ready test model folder, generating it first if needed. */
export async function ensureTestModel(kind: TestModelKind, options: { root?: string; format?: 'safetensors' | 'bin' } = {}): Promise<string> {
  const root = options.root ?? defaultTestModelRoot();
  const format = options.format ?? 'safetensors';
  const dir = join(root, `${kind}-v${TEST_MODEL_VERSIONS[kind]}${format === 'bin' ? '-bin' : ''}`);
  try {
    await access(join(dir, 'config.json'));
    return dir;
  } catch {
    // not there yet
  }
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await WRITERS[kind](tmp, format);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // Another worker may have finished the same model first.
    try {
      await access(join(dir, 'config.json'));
      return dir;
    } catch {
      throw err;
    }
  }
  return dir;
}
