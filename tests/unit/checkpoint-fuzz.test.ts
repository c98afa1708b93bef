/**
 * Issue 13: a few hundred seeded mutations of the tiny test models' own files (safetensors, torch zip + pickle,
 * sharded index, tokenizer and config JSON; tests/support/checkpoint-fuzz/mutations.ts), run in a child process
 * under a 512 MB heap cap. Every case must load or end in a ModelFileError naming the file, within 2 s.
 * Replay one case: FUZZ_ONLY=<n> node --import tsx tests/support/checkpoint-fuzz/runner.ts fuzz <seed> /tmp/x
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FuzzKind } from '../support/checkpoint-fuzz/fuzz-case';
import { HEAP_CAP_MB, runFuzzChild, summarize, type ChildReport } from '../support/checkpoint-fuzz/run-child';

const SEED = 13;
const CASE_MS = 2000;

let dir: string;
let report: ChildReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-fuzz-'));
  report = await runFuzzChild('fuzz', SEED, dir);
  console.log(`checkpoint fuzz (seed ${SEED}): ${summarize(report)}`);
  const kinds: FuzzKind[] = ['safetensors', 'torch', 'pack', 'tokenizer', 'config'];
  for (const kind of kinds) {
    const of = report.results.filter((r) => r.kind === kind);
    console.log(`  ${kind}: ${of.length} cases, ${of.filter((r) => r.outcome === 'loaded').length} loaded, ${of.filter((r) => r.outcome === 'refused').length} refused`);
  }
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoint readers under seeded mutation', () => {
  it('the child ran every case to the end, under the heap cap', () => {
    expect(report.stalled, `stalled on ${report.unfinished}\n${report.stderr}`).toBe(false);
    expect(report.unfinished, report.stderr).toBeUndefined();
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.results.length).toBeGreaterThanOrEqual(400);
  });

  it('every case loads or is a ModelFileError naming the file', () => {
    const bad = report.results.filter((r) => r.outcome === 'wrong-error' || (r.outcome === 'refused' && !r.namesFile));
    expect(bad.map((r) => `${r.id}: ${r.errorName}: ${r.message}`)).toEqual([]);
  });

  it(`every case ends within ${CASE_MS} ms and the process stays under ${HEAP_CAP_MB} MB`, () => {
    expect(report.results.filter((r) => r.ms >= CASE_MS).map((r) => `${r.id} ${r.ms} ms`)).toEqual([]);
    expect(report.results.filter((r) => r.peakRssMb >= HEAP_CAP_MB).map((r) => `${r.id} ${r.peakRssMb} MB`)).toEqual([]);
  });

  it('the mutations reach past the first check: some cases of each kind still load, most are refused', () => {
    const kinds: FuzzKind[] = ['safetensors', 'torch', 'pack', 'tokenizer', 'config'];
    for (const kind of kinds) {
      const of = report.results.filter((r) => r.kind === kind);
      expect(of.some((r) => r.outcome === 'refused'), kind).toBe(true);
    }
    // Distinct refusal messages show the cases exercise many checks, not one.
    const distinct = new Set(report.results.filter((r) => r.message).map((r) => r.message!.replace(/\/\S+/g, '<path>').replace(/\d+/g, 'N')));
    expect(distinct.size).toBeGreaterThan(40);
  });
});
