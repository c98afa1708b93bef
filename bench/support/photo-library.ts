import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { link, mkdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtBytes, fmtDuration, StatusLine } from './format';
import type { RendererReply, RendererRequest } from './photo-renderer';
import { baseSpecs, LIBRARY_VERSION, librarySpecs, type PhotoSpec } from './photo-spec';

/** Gitignored; generated photos are kept here between runs because making them is the slow part. */
export const BENCH_DATA_DIR = fileURLToPath(new URL('../.data/', import.meta.url));
const POOL_DIR = join(BENCH_DATA_DIR, `photos-v${LIBRARY_VERSION}`, 'pool');

export interface GenerationReport {
  requested: number;
  generated: number;
  reused: number;
  wallMs: number;
  bytesWritten: number;
  workers: number;
  /** Time spent making the shared 4000×3000 bases, summed over workers. */
  baseMs: number;
  /** Per-photo time inside a worker (tint + noise + JPEG encode + write). */
  photoMsMean: number;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Makes sure photos 0..count-1 exist in the cached pool, rendering only the missing ones.
 * Photos sharing a base go to the same worker so each base is rendered once.
 */
export async function ensurePhotoPool(count: number, workers = Math.min(2, cpus().length)): Promise<GenerationReport> {
  const specs = librarySpecs(count);
  const missing: PhotoSpec[] = [];
  for (const s of specs) if (!(await exists(join(POOL_DIR, s.relPath)))) missing.push(s);
  const report: GenerationReport = {
    requested: count, generated: 0, reused: count - missing.length, wallMs: 0, bytesWritten: 0, workers: 0, baseMs: 0, photoMsMean: 0,
  };
  if (missing.length === 0) return report;

  const bases = baseSpecs();
  const groups = new Map<number, PhotoSpec[]>();
  for (const s of missing) groups.set(s.base, [...(groups.get(s.base) ?? []), s]);
  // Biggest groups first, so the last worker does not finish long after the others.
  const queue = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  report.workers = Math.max(1, Math.min(workers, queue.length));
  await mkdir(POOL_DIR, { recursive: true });

  const status = new StatusLine();
  const t0 = performance.now();
  let photoMsSum = 0;
  const rendererPath = fileURLToPath(new URL('./photo-renderer.ts', import.meta.url));
  const children: ChildProcess[] = [];
  try {
    await Promise.all(
      Array.from({ length: report.workers }, () =>
        new Promise<void>((resolve, reject) => {
          // Inherits `--import tsx` from this process's execArgv, so the child can run TypeScript.
          const child = fork(rendererPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
          children.push(child);
          const sendNext = (): void => {
            const next = queue.shift();
            const msg: RendererRequest = next
              ? { type: 'group', base: bases[next[0]]!, photos: next[1], outDir: POOL_DIR }
              : { type: 'exit' };
            child.send(msg);
            if (!next) resolve();
          };
          child.on('message', (m: RendererReply) => {
            if (m.type === 'ready') return sendNext();
            if (m.type === 'error') return reject(new Error(`photo renderer failed: ${m.message}`));
            if (m.type === 'group-done') {
              report.baseMs += m.baseMs;
              return sendNext();
            }
            report.generated++;
            report.bytesWritten += m.bytes;
            photoMsSum += m.ms;
            const sec = (performance.now() - t0) / 1000;
            const rate = report.generated / sec;
            status.update(
              `generating photos ${report.generated}/${missing.length}  ${rate.toFixed(2)}/s  ` +
                `${fmtBytes(report.bytesWritten / report.generated)} avg  ETA ${fmtDuration((missing.length - report.generated) / rate)}`,
            );
          });
          child.on('exit', (code) => {
            if (code !== 0) reject(new Error(`photo renderer exited with code ${code}`));
          });
        }),
      ),
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
  status.done(`generated ${report.generated} photos in ${fmtDuration((performance.now() - t0) / 1000)}`);
  report.wallMs = performance.now() - t0;
  report.photoMsMean = photoMsSum / Math.max(1, report.generated);
  return report;
}

/**
 * A library folder holding exactly the first `count` pool photos, as hard links: no copying,
 * identical bytes, and the indexer sees ordinary files (it follows symlinks only inside the root).
 */
export async function libraryFolder(count: number): Promise<{ dir: string; specs: PhotoSpec[]; bytes: number }> {
  const specs = librarySpecs(count);
  const dir = join(BENCH_DATA_DIR, `photos-v${LIBRARY_VERSION}`, `library-${count}`);
  await rm(dir, { recursive: true, force: true });
  let bytes = 0;
  for (const s of specs) {
    const target = join(dir, s.relPath);
    await mkdir(dirname(target), { recursive: true });
    await link(join(POOL_DIR, s.relPath), target);
    bytes += (await stat(target)).size;
  }
  return { dir, specs, bytes };
}
