/**
 * `npm run bench -- chat [--model 0.5b|7b] [--variants q4-acc4-vi8,q4-acc4,q4-acc0,fp32] [--vision auto|on-demand|resident,…] [--tokens N] [--runs N] [--threads N] [--tiny]`
 *
 * The graphs users run, at the real shapes: a random llava-hf folder of llava-interleave-qwen-0.5b (default)
 * or llava-1.5-7b (`--model 7b`) is compiled by compileLlava (bench/llava-compile.ts measures that step) and
 * run through LlavaEngine exactly as chats run it. Each variant runs in its own process, so its peak RSS is its
 * own. Per variant: load time, image encode, prefill, prompt tokens, first token for a new photo, decode speed,
 * first token of a follow-up in the same chat (KV reuse) and of the chat reopened (image features cached),
 * next to the issue's goals. Variants are compile options: q4-acc4 (q4 decoder with int8 compute, the app's
 * default decoder), q4-acc0 (q4 with float compute), int8, fp32; -vi8 adds an int8 vision tower and embeddings
 * (the 0.5B's default). `--vision` says whether the vision tower is loaded per
 * new photo (on-demand) or kept loaded (resident), or lets the engine choose as the app does by default (auto); the
 * goals are judged on the last run, whose new photo loads the tower again when on demand. `--tiny` runs the tiny test models: a smoke run.
 * Memory goals are in GB as the issue writes them (10⁹ bytes); GiB are printed beside.
 * Words are meaningless; compute and memory are real.
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { RandomLlavaModel } from '../test-models/random-llava-hf';
import { parseArgs } from './support/args';
import { runChild } from './support/child-process-run';
import { fmtBytes, fmtDuration, table } from './support/format';
import { BENCH_ROOT, compiledDtypes, compilePack, packCacheDir, sourceFolder, variantOptions } from './support/llava-bench-packs';
import type { AnswerTimes, ChatChildResult } from './support/llava-chat-child';

interface Goals {
  decodeTokPerSec: number;
  firstTokenMs: number;
  followUpMs: number;
  peakRssBytes: number;
}

const GB = 1e9;
const GiB = 2 ** 30;

/** The issue's goals per model. */
const GOALS: Record<RandomLlavaModel, Goals> = {
  '0.5b': { decodeTokPerSec: 25, firstTokenMs: 6_000, followUpMs: 500, peakRssBytes: 2.5 * GB },
  '7b': { decodeTokPerSec: 3, firstTokenMs: 45_000, followUpMs: 1_500, peakRssBytes: 6 * GB },
};

/** First the pack as the app compiles it by default (known-packs.ts: the 0.5B with int8 vision), then the fp32 tower. */
const DEFAULT_VARIANTS: Record<RandomLlavaModel, string> = { '0.5b': 'q4-acc4-vi8,q4-acc4', '7b': 'q4-acc4' };

const CHILD = fileURLToPath(new URL('./support/llava-chat-child.ts', import.meta.url));

async function writePhoto(path: string): Promise<void> {
  const w = 1024;
  const h = 768;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      raw[i] = (x * 3) % 256;
      raw[i + 1] = (y * 2) % 256;
      raw[i + 2] = (x ^ y) % 256;
    }
  }
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(path);
}

const s = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const rate = (t: AnswerTimes): string => (t.decodeTokensPerSec === null ? '–' : t.decodeTokensPerSec.toFixed(1));
const mark = (ok: boolean): string => (ok ? '✓' : '✗');
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const model = args.string('model', '0.5b');
  if (model !== '7b' && model !== '0.5b') throw new Error('--model is 0.5b or 7b');
  const tiny = args.flag('tiny');
  const tokens = args.number('tokens', tiny ? 8 : 32);
  const threads = args.number('threads', availableParallelism());
  // Two runs: the second one's new photo is the steady state (the first one's vision tower was loaded with the engine).
  const runs = args.number('runs', 2);
  const variants = args.string('variants', DEFAULT_VARIANTS[model]).split(',');
  const residencies = args.string('vision', 'auto').split(',');
  for (const r of residencies) if (r !== 'auto' && r !== 'on-demand' && r !== 'resident') throw new Error('--vision is auto, on-demand or resident (comma-separated for several)');
  const goals = GOALS[model];

  const modelDir = await sourceFolder(model, tiny);
  const imagePath = join(BENCH_ROOT, 'chat-photo.jpg');
  await writePhoto(imagePath);
  console.log(`source: ${modelDir}${tiny ? ' (tiny smoke run: goals do not apply)' : ''}`);
  console.log(`threads ${threads}, ${tokens} new tokens per answer, greedy, ${runs} run(s) per variant; a 1024×768 JPEG\n`);

  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  for (const variant of variants.flatMap((v) => residencies.map((r) => ({ name: v, vision: r })))) {
    const options = variantOptions(variant.name);
    const compiled = await compilePack(modelDir, packCacheDir(model, tiny), options, false);
    if (compiled.built) notes.push(`${variant.name}: compiled in ${fmtDuration(compiled.totalMs / 1000)}, peak RSS ${fmtBytes(compiled.maxRssBytes)}, ${fmtBytes(compiled.outBytes)}`);
    const at = new Date().toISOString().slice(11, 19);
    const r = await runChild<ChatChildResult>(CHILD, [compiled.dir, JSON.stringify(compiledDtypes(options)), String(tokens), String(threads), String(runs), imagePath, variant.vision]);
    const label = `${variant.name} ${variant.vision === 'auto' ? `auto→${r.result.vision}` : variant.vision}`;
    const c = r.result;
    const first = c.runs[0]!;
    const last = c.runs.at(-1)!;
    const rss = c.maxRssBytes;
    const decode = last.newPhoto.decodeTokensPerSec ?? 0;
    const met = [
      `decode ${mark(decode >= goals.decodeTokPerSec)}`,
      `first ${mark(last.newPhoto.firstTokenMs <= goals.firstTokenMs)}`,
      `follow ${mark(last.followUp.firstTokenMs <= goals.followUpMs)}`,
      `rss ${mark(rss <= goals.peakRssBytes)}`,
    ].join(' ');
    rows.push([
      label,
      s(c.loadMs),
      last.newPhoto.imageMs.toFixed(0),
      last.newPhoto.prefillMs.toFixed(0),
      last.newPhoto.promptTokens,
      c.runs.length > 1 ? `${s(first.newPhoto.firstTokenMs)}→${s(last.newPhoto.firstTokenMs)}` : s(last.newPhoto.firstTokenMs),
      rate(last.newPhoto),
      s(last.followUp.firstTokenMs),
      s(last.reopened.firstTokenMs),
      `${(rss / GB).toFixed(2)} (${(rss / GiB).toFixed(2)})`,
      tiny ? '–' : met,
      `${at} ${loadavg()[0]!.toFixed(2)}`,
    ]);
    notes.push(
      `${label}: follow-up read ${last.followUp.promptTokens - last.followUp.reusedPromptTokens} new of ${last.followUp.promptTokens} prompt tokens (prefill ${last.followUp.prefillMs.toFixed(0)} ms, decode ${rate(last.followUp)} tok/s); ` +
        `reopened: image ${last.reopened.imageCached ? 'cached' : 'encoded again'}, prefill ${last.reopened.prefillMs.toFixed(0)} ms; ` +
        `${last.newPhoto.tokens} tokens generated; ${c.imageTokens} image tokens; sampled peak RSS ${fmtBytes(r.sampledPeakRssBytes)}`,
    );
    if (last.newPhoto.tokens < tokens) notes.push(`${label}: the answer ended after ${last.newPhoto.tokens} tokens (end-of-answer token): decode speed is over fewer tokens`);
    // Print as we go: a 7B variant takes minutes.
    console.log(`${label} done at ${new Date().toISOString().slice(11, 19)}, load average ${load()}`);
  }
  console.log(`\n${model === '7b' ? 'LLaVA-1.5-7B' : 'llava-interleave-qwen-0.5b'} (random weights, real shapes)${tiny ? ' — TINY' : ''}, ${new Date().toISOString()}`);
  console.log(
    table(
      ['variant', 'load s', 'image ms', 'prefill ms', 'prompt tok', 'first token s (new photo)', 'decode tok/s', 'follow-up s', 'reopened s', 'peak RSS GB (GiB)', 'goals', 'at / load1'],
      [
        ...rows,
        ['goal', '', '', '', '', `≤ ${s(goals.firstTokenMs)}`, `≥ ${goals.decodeTokPerSec}`, `≤ ${s(goals.followUpMs)}`, '', `≤ ${(goals.peakRssBytes / GB).toFixed(1)}`, '', ''],
      ],
    ),
  );
  console.log(`(first token s: cold run → warm run when --runs > 1; other columns from the last run)`);
  for (const n of notes) console.log(`  ${n}`);
  console.log(`load average now ${load()} on ${availableParallelism()} cores (above the core count, other work slowed these numbers)`);
}
