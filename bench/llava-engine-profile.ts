/**
 * Quick profile of the embedded LLaVA engine on one pack, in this process:
 *   node --import tsx bench/llava-engine-profile.ts [--model-dir D | --hf H [--options JSON] | --shape tiny|mid|0.5b]
 *     [--tokens N] [--threads T] [--chunk C] [--repeat R] [--profile]
 * --hf compiles a llava-hf folder with Tandem's compiler (compileLlava, cached under .cache/llava-bench-compiled
 * by source hashes and options; --options is a LlavaCompileOptions JSON), so the graphs measured are the
 * compiler's. Without either a random transformers.js-layout pack of the shape is generated once under
 * .cache/test-models. Prints load time, the first answer's image/prefill/first-token times and decode speed,
 * then a follow-up on the same photo (KV reuse) and a fresh chat on it (image features cached), each with the
 * load average: the machine is shared, so compare variants in alternating runs, never across sessions.
 * --profile turns on onnxruntime's profiler for the three graphs and prints where each one's time went, per
 * operator type (traces under .cache/llava-profile-traces).
 */
import { access, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { compileLlava, type LlavaCompileOptions } from '../src/main/core/llava-compiler/compile-llava';
import { chooseLlavaDtypes } from '../src/main/core/llava/llava-dtypes';
import { LlavaEngine, type LlavaAnswer } from '../src/main/core/llava/llava-engine';
import { LLAVA_INTERLEAVE_0_5B_SHAPE, TINY_LLAVA_SHAPE, writeLlavaPack } from '../test-models/tiny-llava';
import type { LlavaShape } from '../test-models/tiny-llava-graphs';

const SHAPES: Record<string, LlavaShape> = {
  tiny: TINY_LLAVA_SHAPE,
  /** Big enough that matmuls, the KV cache and the vocabulary projection dominate, small enough to build in seconds. */
  mid: {
    vision: { hidden: 256, intermediate: 1024, heads: 4, layers: 4, imageSize: 224, patchSize: 14, eps: 1e-6 },
    text: { hidden: 512, intermediate: 1408, heads: 8, kvHeads: 8, layers: 8, vocab: 32_000, ropeTheta: 1_000_000, eps: 1e-6 },
  },
  '0.5b': LLAVA_INTERLEAVE_0_5B_SHAPE,
};

async function ensurePack(shape: string): Promise<string> {
  const dir = join(process.cwd(), '.cache', 'test-models', `llava-profile-${shape}`);
  try {
    await access(join(dir, 'onnx', 'decoder_model_merged_q4.onnx'));
    return dir;
  } catch {
    // build it
  }
  await mkdir(dir, { recursive: true });
  const s = SHAPES[shape];
  if (!s) throw new Error(`unknown shape ${shape}`);
  console.log(`writing a random ${shape} pack to ${dir} …`);
  await writeLlavaPack(dir, s, { fast: true, maxPositionEmbeddings: 4096, variants: { embed_tokens: ['fp32'], decoder_model_merged: ['q4'] } });
  return dir;
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
  const modelDir = values['model-dir'] ?? (values.hf ? await compiledPack(values.hf, JSON.parse(values.options) as LlavaCompileOptions) : await ensurePack(values.shape));
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
