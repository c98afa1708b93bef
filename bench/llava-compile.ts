/**
 * `npm run bench -- llava-compile [--model 7b|0.5b] [--precision q4|int8|fp32] [--accuracy-level 0|4] [--tiny] [--cached]`
 *
 * Compiles a random llava-hf folder at the real shapes (written once into .cache/bench) with compileLlava, in
 * a child process as the app does, and prints the time per stage, the total, the child's peak RSS (goal for
 * 7B: ≤ 4 GB) and the compiled folder's size. The compile is measured from scratch (cached entry and hash memo
 * removed first) unless `--cached`; the result stays in .cache/bench/llava-packs for `bench -- chat`.
 */
import { cpus, loadavg } from 'node:os';
import type { RandomLlavaModel } from '../test-models/random-llava-hf';
import { parseArgs } from './support/args';
import { fmtBytes, fmtDuration, table } from './support/format';
import { compilePack, packCacheDir, sourceFolder, variantOptions } from './support/llava-bench-packs';

const RSS_GOAL_BYTES: Record<RandomLlavaModel, number | null> = { '7b': 4 * 2 ** 30, '0.5b': null };

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const model = args.string('model', '7b');
  if (model !== '7b' && model !== '0.5b') throw new Error('--model is 7b or 0.5b');
  const precision = args.string('precision', 'q4');
  const level = args.number('accuracy-level', 4);
  const tiny = args.flag('tiny');
  const options = variantOptions(precision === 'q4' ? `q4-acc${level}` : `${precision}-acc${level}`);

  const modelDir = await sourceFolder(model, tiny);
  const started = new Date();
  console.log(`compiling ${modelDir}\n  options ${JSON.stringify(options)}, started ${started.toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  const r = await compilePack(modelDir, packCacheDir(model, tiny), options, !args.flag('cached'));
  const goal = tiny ? null : RSS_GOAL_BYTES[model];
  console.log(`\n${r.built ? 'built' : 'already cached (nothing compiled)'}: ${r.dir}`);
  console.log(table(['stage', 'time', 'share'], r.stages.map((s) => [s.name, fmtDuration(s.ms / 1000), `${((100 * s.ms) / r.totalMs).toFixed(0)}%`])));
  console.log(
    `\ntotal ${fmtDuration(r.totalMs / 1000)}; peak RSS ${fmtBytes(r.maxRssBytes)} (sampled ${fmtBytes(r.sampledPeakRssBytes)})` +
      `${goal ? ` — goal ≤ ${fmtBytes(goal)}: ${r.maxRssBytes <= goal ? 'met' : 'NOT met'}` : ''}; output ${fmtBytes(r.outBytes)}`,
  );
  console.log(`finished ${new Date().toISOString()}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
