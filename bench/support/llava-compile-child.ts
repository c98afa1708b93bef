/**
 * Child process of the LLaVA benchmarks: compiles one llava-hf folder with compileLlava (what the app's model
 * store runs) and reports how long each stage took and the process's peak RSS.
 *   node --import tsx bench/support/llava-compile-child.ts <modelDir> <cacheDir> <options JSON>
 */
import type { LlavaCompileOptions, LlavaCompileProgress } from '../../src/main/core/llava-compiler/compile-llava';
import { finishChild } from './child-process-run';

export interface CompileStageTime {
  /** the stage, or for 'writing' which graph was written */
  name: string;
  ms: number;
}

export interface CompileChildResult {
  dir: string;
  built: boolean;
  stages: CompileStageTime[];
  totalMs: number;
  /** the kernel's high-water mark for this process */
  maxRssBytes: number;
}

export interface CompileChildProgress {
  type: 'progress';
  progress: LlavaCompileProgress;
}

async function main(): Promise<void> {
  const [modelDir, cacheDir, optionsJson] = process.argv.slice(2);
  const options = JSON.parse(optionsJson!) as LlavaCompileOptions;
  const { compileLlava } = await import('../../src/main/core/llava-compiler/compile-llava');
  const t0 = performance.now();
  const stages: CompileStageTime[] = [];
  let current: { name: string; start: number } | null = null;
  const onProgress = (p: LlavaCompileProgress) => {
    const name = p.stage === 'writing' ? p.label : p.stage;
    const now = performance.now();
    if (current?.name !== name) {
      if (current) stages.push({ name: current.name, ms: now - current.start });
      current = { name, start: now };
    }
    const msg: CompileChildProgress = { type: 'progress', progress: p };
    process.send!(msg);
  };
  const out = await compileLlava(modelDir!, cacheDir!, { ...options, onProgress });
  const end = performance.now();
  const last = current as { name: string; start: number } | null;
  if (last) stages.push({ name: last.name, ms: end - last.start });
  finishChild<CompileChildResult>({ dir: out.dir, built: out.built, stages, totalMs: end - t0, maxRssBytes: process.resourceUsage().maxRSS * 1024 });
}

await main();
