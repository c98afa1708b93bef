/**
 * Child-process entry for the checkpoint fuzz suites, started with `--max-old-space-size=512` so a case that
 * balloons the heap kills this process (and fails the suite) instead of the test worker.
 *
 *   node --max-old-space-size=512 --import tsx runner.ts <hostile|fuzz> <seed> <workDir>
 *
 * Prints one JSON line per case: `{"start": id}` before it runs (so a hang can be pinned on it), then a FuzzResult.
 * FUZZ_SRC_ROOT points the readers at another copy of src/ (e.g. the code before a fix) to compare behaviour;
 * FUZZ_ONLY picks cases by number; FUZZ_CANARY=heap checks that the heap cap is enforced.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FuzzCase, FuzzCaseSource, FuzzResult } from './fuzz-case';
import { hostileCases } from './hostile-files';
import { mutationCases } from './mutations';

type Errors = typeof import('../../../src/main/core/errors');
type Safetensors = typeof import('../../../src/main/core/weights/safetensors');
type TorchBin = typeof import('../../../src/main/core/weights/torch-bin');
type LoadCheckpoint = typeof import('../../../src/main/core/weights/load-checkpoint');
type Tokenizer = typeof import('../../../src/main/core/blip/tokenizer');
type BlipConfig = typeof import('../../../src/main/core/blip/blip-config');
type ModelJson = typeof import('../../../src/main/core/weights/model-json');

const [suite, seedArg, workDirArg] = process.argv.slice(2);
if (!suite || !seedArg || !workDirArg) throw new Error('usage: runner.ts <hostile|fuzz> <seed> <workDir>');
const workDir = resolve(workDirArg);
const root = process.env['FUZZ_SRC_ROOT'] ? resolve(process.env['FUZZ_SRC_ROOT']) : resolve(import.meta.dirname, '../../../src');

async function load<T>(rel: string): Promise<T> {
  return (await import(pathToFileURL(join(root, rel)).href)) as T;
}

const errors = await load<Errors>('main/core/errors.ts');
const safetensors = await load<Safetensors>('main/core/weights/safetensors.ts');
const torchBin = await load<TorchBin>('main/core/weights/torch-bin.ts');
const checkpoint = await load<LoadCheckpoint>('main/core/weights/load-checkpoint.ts');
const tokenizer = await load<Tokenizer>('main/core/blip/tokenizer.ts');
const blipConfig = await load<BlipConfig>('main/core/blip/blip-config.ts');
const modelJson = await load<ModelJson>('main/core/weights/model-json.ts').catch(() => undefined);

async function readConfig(path: string): Promise<unknown> {
  if (modelJson) return modelJson.readModelJson(path, modelJson.MAX_CONFIG_JSON_BYTES);
  const { readFile } = await import('node:fs/promises');
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

async function runReader(c: FuzzCase): Promise<void> {
  switch (c.kind) {
    case 'safetensors':
      await safetensors.readSafetensors(c.path);
      return;
    case 'torch':
      await torchBin.readTorchBin(c.path);
      return;
    case 'pack':
      await checkpoint.loadCheckpoint(c.path);
      return;
    case 'tokenizer':
      await tokenizer.loadBlipTokenizer(c.path);
      return;
    case 'config':
      blipConfig.parseBlipConfig(await readConfig(c.path), c.path);
      return;
  }
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function emit(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const source: FuzzCaseSource = suite === 'hostile' ? hostileCases : mutationCases(Number(seedArg), join(workDir, 'bases'));
await mkdir(workDir, { recursive: true });
emit({ ready: true, cases: source.count, peakRssMb: peakRssMb() });
// FUZZ_CANARY=heap: prove the cap is real by ballooning the heap before any case; the child must die of it.
if (process.env['FUZZ_CANARY'] === 'heap') {
  emit({ start: 'canary' });
  const hoard: number[][] = [];
  for (;;) hoard.push(Array.from({ length: 1 << 20 }, (_, i) => i + 0.5));
}

/** FUZZ_ONLY=3,7 runs just those case numbers (to replay one, or to compare old code case by case). */
const only = process.env['FUZZ_ONLY'] ? new Set(process.env['FUZZ_ONLY'].split(',').map(Number)) : undefined;
for (let i = 0; i < source.count; i++) {
  if (only && !only.has(i)) continue;
  const caseDir = join(workDir, `case-${i}`);
  await mkdir(caseDir, { recursive: true });
  const c = await source.write(i, caseDir);
  emit({ start: c.id });
  const t0 = performance.now();
  let result: FuzzResult;
  try {
    await runReader(c);
    result = { id: c.id, kind: c.kind, expect: c.expect, outcome: 'loaded', ms: 0, peakRssMb: 0 };
  } catch (err) {
    const e = err as Error;
    const modelFileError = err instanceof errors.ModelFileError;
    // The error must point at a file of this case, and say which in words the user reads.
    const namesFile = modelFileError && e.message.includes(err.file) && resolve(err.file).startsWith(resolve(caseDir) + sep);
    result = {
      id: c.id,
      kind: c.kind,
      expect: c.expect,
      outcome: modelFileError ? 'refused' : 'wrong-error',
      ms: 0,
      peakRssMb: 0,
      errorName: e?.name,
      message: String(e?.message).slice(0, 300),
      namesFile,
    };
  }
  result.ms = Math.round(performance.now() - t0);
  result.peakRssMb = peakRssMb();
  emit(result);
  await rm(caseDir, { recursive: true, force: true });
}
emit({ done: true });
