/**
 * `npm run bench -- chat [--tokens N] [--threads N] [--variants fp32,quant] [--runs N] [--tiny]`
 *
 * A LLaVA-shaped random model of the default pack's sizes (llava-interleave-qwen-0.5b: Qwen1.5-0.5B text,
 * SigLIP-so400m vision at 384 px, 729 image tokens), built by the graph builder in the transformers.js layout
 * and run through the embedded engine exactly as chats run it. Per variant: load time, image encode time,
 * time to first token, decode tokens/s and peak RSS. Variants:
 *  - fp32: every file fp32;
 *  - quant: what Tandem picks on CPU (LLAVA_CPU_DTYPES): fp32 vision, int8 embed_tokens, q4 decoder
 *    (MatMulNBits, 32-wide blocks, as transformers.js' `_q4` files).
 * The model (~6 GB of files) is generated once into .cache/bench/ (git-ignored). Each variant runs in its own
 * process, so its peak RSS is its own. Words are meaningless; compute and memory are real.
 */
import { fork } from 'node:child_process';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { LlavaDTypes } from '../src/main/core/models/known-packs';
import { LLAVA_INTERLEAVE_0_5B_SHAPE, TINY_LLAVA_SHAPE, writeLlavaPack } from '../src/main/core/test-models/tiny-llava';

const VARIANTS: Record<string, LlavaDTypes> = {
  fp32: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' },
  quant: { vision_encoder: 'fp32', embed_tokens: 'int8', decoder_model_merged: 'q4' },
};

const MODEL_VERSION = 1;

interface ChildResult {
  variant: string;
  loadMs: number;
  runs: {
    imageMs: number;
    firstTokenMs: number;
    tokens: number;
    decodeTokensPerSec: number;
    totalMs: number;
    promptTokens: number;
    cachedSteps: number;
    /** The next question in the same chat: time to first token, and prompt tokens read from the kept cache. */
    followUpFirstTokenMs: number;
    followUpPromptTokens: number;
    followUpReused: number;
  }[];
  peakRssMb: number;
  text: string;
}

async function ensureModel(tiny: boolean): Promise<string> {
  const root = join(process.cwd(), '.cache', 'bench');
  const dir = join(root, `${tiny ? 'llava-tiny' : 'llava-interleave-0.5b-random'}-v${MODEL_VERSION}`);
  try {
    await access(join(dir, 'config.json'));
    return dir;
  } catch {
    // build it below
  }
  await mkdir(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const t0 = performance.now();
  console.log(`building ${tiny ? 'a tiny' : 'a full-size'} random LLaVA in ${dir} (once) …`);
  await writeLlavaPack(tmp, tiny ? TINY_LLAVA_SHAPE : LLAVA_INTERLEAVE_0_5B_SHAPE, {
    fast: true,
    maxPositionEmbeddings: 32768,
    variants: { vision_encoder: ['fp32'], embed_tokens: ['fp32', 'int8'], decoder_model_merged: ['fp32', 'q4'] },
  });
  await rename(tmp, dir);
  console.log(`built in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return dir;
}

async function photo(path: string): Promise<void> {
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

/** One variant, in this (child) process: load, then answer the same question `runs` times. */
async function child(modelDir: string, variant: string, tokens: number, threads: number, runs: number, imagePath: string): Promise<ChildResult> {
  const { LlavaEngine } = await import('../src/main/core/llava/llava-engine');
  const t0 = performance.now();
  const engine = await LlavaEngine.load({ modelDir, dtypes: VARIANTS[variant]!, threads, maxContextTokens: 4096 });
  const loadMs = performance.now() - t0;
  const out: ChildResult['runs'] = [];
  let text = '';
  const system = 'You are Tandem. Facts from BLIP: - Caption: "a colourful pattern"';
  const sampling = { temperature: 0, topP: 1, maxNewTokens: tokens };
  const question = { role: 'user' as const, text: 'Tell a story based on this image' };
  for (let r = 0; r < runs; r++) {
    // Each run is a fresh chat: nothing kept from the run before.
    engine.forgetConversation();
    let first: number | null = null;
    const start = performance.now();
    const a = await engine.generate(
      { imagePath, system, turns: [question], sampling },
      () => {
        first ??= performance.now() - start;
      },
      { interrupted: false },
    );
    const firstTokenMs = a.firstTokenMs ?? first ?? a.totalMs;
    const next = await engine.generate(
      { imagePath, system, turns: [question, { role: 'assistant', text: a.text }, { role: 'user', text: 'What happens next?' }], sampling: { ...sampling, maxNewTokens: 2 } },
      () => {},
      { interrupted: false },
    );
    out.push({
      imageMs: a.imageMs,
      firstTokenMs,
      tokens: a.tokenIds.length,
      decodeTokensPerSec: (a.tokenIds.length - 1) / ((a.totalMs - firstTokenMs) / 1000),
      totalMs: a.totalMs,
      promptTokens: a.promptTokens,
      cachedSteps: a.cachedSteps,
      followUpFirstTokenMs: next.firstTokenMs ?? next.totalMs,
      followUpPromptTokens: next.promptTokens,
      followUpReused: next.reusedPromptTokens,
    });
    text = a.text;
  }
  await engine.dispose();
  return { variant, loadMs, runs: out, peakRssMb: process.resourceUsage().maxRSS / 1024, text };
}

function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = fork(fileURLToPath(import.meta.url), ['--child', ...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    p.on('message', (m) => resolve(m as ChildResult));
    p.on('exit', (code) => code !== 0 && reject(new Error(`benchmark child exited with ${code}`)));
  });
}

const f = (v: number, d = 0): string => v.toFixed(d);

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tokens: { type: 'string', default: '32' },
      threads: { type: 'string', default: String(availableParallelism()) },
      variants: { type: 'string', default: 'fp32,quant' },
      runs: { type: 'string', default: '2' },
      tiny: { type: 'boolean', default: false },
    },
  });
  const tokens = Number(values.tokens);
  const threads = Number(values.threads);
  const runs = Number(values.runs);
  const modelDir = await ensureModel(values.tiny === true);
  const imagePath = join(process.cwd(), '.cache', 'bench', 'chat-photo.jpg');
  await photo(imagePath);
  console.log(`model: ${modelDir}\nthreads: ${threads}, ${tokens} new tokens, greedy, ${runs} runs per variant (the first is cold)\n`);
  console.log('variant  load s  image ms  TTFT ms  decode tok/s  prompt tok  peak RSS MB  (cold run → warm run)');
  for (const variant of values.variants.split(',')) {
    if (!VARIANTS[variant]) throw new Error(`unknown variant ${variant}; use fp32 or quant`);
    const r = await runChild([modelDir, variant, String(tokens), String(threads), String(runs), imagePath]);
    const cold = r.runs[0]!;
    const warm = r.runs.at(-1)!;
    console.log(
      `${variant.padEnd(7)}  ${f(r.loadMs / 1000, 1).padStart(6)}  ${`${f(cold.imageMs)}→${f(warm.imageMs)}`.padStart(8)}  ${`${f(cold.firstTokenMs)}→${f(warm.firstTokenMs)}`.padStart(7)}  ${`${f(cold.decodeTokensPerSec, 2)}→${f(warm.decodeTokensPerSec, 2)}`.padStart(12)}  ${String(warm.promptTokens).padStart(10)}  ${f(r.peakRssMb).padStart(11)}`,
    );
    // The machine may be shared: a load above the core count means the numbers are slowed by others.
    console.log(`  load average now ${f(loadavg()[0]!, 1)} on ${availableParallelism()} cores`);
    if (warm.cachedSteps !== warm.tokens - 1) console.log(`  note: ${warm.cachedSteps} of ${warm.tokens - 1} steps used the KV cache`);
    console.log(
      `  follow-up question in the same chat: TTFT ${f(cold.followUpFirstTokenMs)}→${f(warm.followUpFirstTokenMs)} ms, ` +
        `${warm.followUpReused} of ${warm.followUpPromptTokens} prompt tokens from the kept cache`,
    );
  }
}

if (process.argv[2] === '--child') {
  const [modelDir, variant, tokens, threads, runs, imagePath] = process.argv.slice(3);
  const result = await child(modelDir!, variant!, Number(tokens), Number(threads), Number(runs), imagePath!);
  process.send!(result, () => process.exit(0));
}
