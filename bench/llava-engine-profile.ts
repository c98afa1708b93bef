/**
 * Quick profile of the embedded LLaVA engine on one pack, in this process:
 *   node --import tsx bench/llava-engine-profile.ts [--model-dir D | --hf H | --shape tiny|mid|0.5b] [--options JSON]
 *     [--tokens N] [--threads T] [--chunk C] [--repeat R] [--profile]
 * --hf compiles a llava-hf folder with Tandem's compiler (compileLlava, cached under .cache/llava-bench-compiled
 * by source hashes and options; --options is a LlavaCompileOptions JSON), so the graphs measured are the
 * compiler's. Without either, --shape picks a generated llava-hf folder (SigLIP + Qwen2, seeded random weights)
 * that is compiled the same way: 'tiny' is the test model (test-models/tiny-llava-hf.ts), '0.5b' the random
 * full-size llava-interleave-qwen-0.5b folder the chat benchmark uses (test-models/random-llava-hf.ts, 1.8 GB
 * under .cache/bench), 'mid' a folder in between, written once under .cache/test-models. Prints load time, the
 * first answer's image/prefill/first-token times and decode speed, then a follow-up on the same photo (KV
 * reuse) and a fresh chat on it (image features cached), each with the
 * load average: the machine is shared, so compare variants in alternating runs, never across sessions.
 * --profile turns on onnxruntime's profiler for the three graphs and prints where each one's time went, per
 * operator type (traces under .cache/llava-profile-traces).
 */
import { access, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { compileLlava, type LlavaCompileOptions } from '../src/main/core/llava-compiler/compile-llava';
import { chooseLlavaDtypes } from '../src/main/core/llava/llava-dtypes';
import { LlavaEngine, type LlavaAnswer } from '../src/main/core/llava/llava-engine';
import { writeTinyLlavaHf, type TinyLlavaHfShape } from '../test-models/tiny-llava-hf';
import { sourceFolder } from './support/llava-bench-packs';

/**
 * Big enough that matmuls, the KV cache and the vocabulary projection dominate, small enough to build in seconds:
 * the embedding table has 32 000 rows, padded past the tiny tokenizer (ids past it decode to nothing).
 */
const MID_SHAPE: TinyLlavaHfShape = {
  vision: { kind: 'siglip', hidden: 256, intermediate: 1024, heads: 4, layers: 4, imageSize: 224, patchSize: 14, eps: 1e-6, act: 'gelu_pytorch_tanh' },
  text: { kind: 'qwen2', hidden: 512, intermediate: 1408, heads: 8, kvHeads: 8, layers: 8, ropeTheta: 1_000_000, eps: 1e-6, tied: true, maxPositions: 4096 },
  featureLayer: -1,
  strategy: 'full',
};
const MID_VOCAB = 32_000;

/** The 'mid' llava-hf folder, written once (to a temporary folder, renamed into place when complete). */
async function ensureMidSource(): Promise<string> {
  const root = join(process.cwd(), '.cache', 'test-models');
  const dir = join(root, 'llava-profile-mid-hf-v1');
  try {
    await access(join(dir, 'config.json'));
    return dir;
  } catch {
    // build it
  }
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-llava-profile-mid-hf-${process.pid}`);
  console.log(`writing a random mid llava-hf folder to ${dir} …`);
  try {
    await writeTinyLlavaHf(tmp, MID_SHAPE, { shards: 1, vocab: MID_VOCAB });
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** The llava-hf source folder of a --shape. */
async function shapeSource(shape: string): Promise<string> {
  switch (shape) {
    case 'tiny':
      return sourceFolder('0.5b', true);
    case 'mid':
      return ensureMidSource();
    case '0.5b':
      return sourceFolder('0.5b', false);
    default:
      throw new Error(`unknown shape ${shape}; use tiny, mid or 0.5b`);
  }
}

async function compiledPack(hf: string, options: LlavaCompileOptions): Promise<string> {
  const t0 = performance.now();
  let last = '';
  const out = await compileLlava(hf, join(process.cwd(), '.cache', 'llava-bench-compiled'), {
    ...options,
    onProgress: (p) => {
      if (p.stage !== last) console.log(`compiling: ${p.label}`);
      last = p.stage;
    },
  });
  console.log(`${out.built ? 'compiled' : 'cached'} ${out.dir} (${JSON.stringify(out.manifest.options)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out.dir;
}

/** Kernel time per operator type in one onnxruntime trace, biggest first. */
async function summarizeTrace(file: string): Promise<string> {
  const events = JSON.parse(await readFile(file, 'utf8')) as { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { ms: 0, calls: 0 };
    entry.ms += (e.dur ?? 0) / 1000;
    entry.calls++;
    byOp.set(op, entry);
    total += (e.dur ?? 0) / 1000;
  }
  const top = [...byOp].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10);
  return [`  kernels ${total.toFixed(0)} ms`, ...top.map(([op, v]) => `  ${op.padEnd(30)} ${v.ms.toFixed(0).padStart(7)} ms ${((100 * v.ms) / total).toFixed(1).padStart(5)}%  ${v.calls} calls`)].join('\n');
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

function line(label: string, a: LlavaAnswer): void {
  const decodeMs = a.totalMs - (a.firstTokenMs ?? a.totalMs);
  const perSec = a.tokenIds.length > 1 ? ((a.tokenIds.length - 1) / decodeMs) * 1000 : 0;
  console.log(
    `${label.padEnd(22)} prompt ${String(a.promptTokens).padStart(5)} (reused ${String(a.reusedPromptTokens).padStart(5)})  image ${a.imageMs.toFixed(0).padStart(6)} ms${a.imageCached ? ' (cached)' : '         '}  prefill ${a.prefillMs.toFixed(0).padStart(6)} ms  first token ${(a.firstTokenMs ?? 0).toFixed(0).padStart(6)} ms  decode ${perSec.toFixed(1).padStart(6)} tok/s over ${a.tokenIds.length} tokens`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'model-dir': { type: 'string' },
      hf: { type: 'string' },
      options: { type: 'string', default: '{}' },
      shape: { type: 'string', default: 'tiny' },
      tokens: { type: 'string', default: '32' },
      threads: { type: 'string', default: '2' },
      chunk: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
    },
  });
  const modelDir = values['model-dir'] ?? (await compiledPack(values.hf ?? (await shapeSource(values.shape)), JSON.parse(values.options) as LlavaCompileOptions));
  const threads = Number(values.threads);
  const photo = join(process.cwd(), '.cache', 'llava-profile-photo.jpg');
  const raw = Buffer.alloc(640 * 480 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 11)) % 256;
  await sharp(raw, { raw: { width: 640, height: 480, channels: 3 } }).jpeg().toFile(photo);

  const traces = join(process.cwd(), '.cache', 'llava-profile-traces');
  const profilePrefix = join(traces, `run-${process.pid}`);
  if (values.profile) await mkdir(traces, { recursive: true });
  const t0 = performance.now();
  const engine = await LlavaEngine.load({
    modelDir,
    dtypes: await chooseLlavaDtypes(modelDir),
    threads,
    maxContextTokens: 4096,
    ...(values.chunk ? { prefillChunk: Number(values.chunk) } : {}),
    ...(values.profile ? { profilePrefix } : {}),
  });
  console.log(`${modelDir}: load ${(performance.now() - t0).toFixed(0)} ms; dtypes ${JSON.stringify(engine.dtypes)}; ${engine.imageTokens} image tokens; threads ${threads}; load average ${load()}`);
  const sampling = { temperature: 0, topP: 1, maxNewTokens: Number(values.tokens) };
  const system = 'You are Tandem. Facts from BLIP: - Caption: "a colourful pattern"';
  const q = { role: 'user' as const, text: 'Tell a story based on this image' };
  const ask = (turns: { role: 'user' | 'assistant'; text: string }[]) => engine.generate({ imagePath: photo, system, turns, sampling }, () => {}, { interrupted: false });
  for (let r = 0; r < Number(values.repeat); r++) {
    engine.forgetConversation();
    engine.forgetImages();
    const first = await ask([q]);
    line('first answer', first);
    const follow = await ask([q, { role: 'assistant', text: first.text }, { role: 'user', text: 'What happens next?' }]);
    line('follow-up (KV reuse)', follow);
    engine.forgetConversation();
    line('reopened chat', await ask([q]));
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB; load average ${load()}`);
  await engine.dispose();
  if (values.profile) {
    for (const f of (await readdir(traces)).filter((n) => n.startsWith(`run-${process.pid}-`)).sort()) {
      console.log(`${f}:\n${await summarizeTrace(join(traces, f))}`);
    }
  }
}

await main();
