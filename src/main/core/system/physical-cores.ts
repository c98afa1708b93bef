/**
 * Physical CPU cores, for onnxruntime's intra-op threads: a matrix multiply keeps a core's vector units busy,
 * so a second thread on the SMT sibling of the same core only adds contention (and on a 2-core machine it
 * would take the core that decodes the next photos). Linux reads the topology from /proc/cpuinfo; elsewhere,
 * or when it cannot be read, the logical count is the answer.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Distinct (physical id, core id) pairs in a /proc/cpuinfo text; undefined when it lists none. */
export function coresFromCpuinfo(text: string): number | undefined {
  const cores = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
    if (core === undefined) continue;
    const pkg = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1] ?? '0';
    cores.add(`${pkg}:${core}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

let cached: number | undefined;

export function physicalCores(): number {
  if (cached !== undefined) return cached;
  const logical = availableParallelism();
  let physical: number | undefined;
  if (process.platform === 'linux') {
    try {
      physical = coresFromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
    } catch {
      physical = undefined;
    }
  }
  // A container limited to fewer CPUs than the host has cores reports the limit as availableParallelism.
  cached = Math.max(1, Math.min(logical, physical ?? logical));
  return cached;
}
