/**
 * Issue 13: hand-crafted hostile checkpoints (tests/support/checkpoint-fuzz/hostile-files.ts), run in a child
 * process under a 512 MB heap cap. Before the fix these hung (negative BINSTRING, LONG4, OrderedDict replay),
 * took 0.6–3 GB of memory (zip bombs, stride 0, repeated views, overlapping safetensors), escaped as TypeError /
 * RangeError, or read a shard outside the pack; each must now be a ModelFileError naming the file, fast and small.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEAP_CAP_MB, runFuzzChild, summarize, type ChildReport } from '../support/checkpoint-fuzz/run-child';
import { hostileCases } from '../support/checkpoint-fuzz/hostile-files';

/** Each case must end within this; the fixed readers take milliseconds. */
const CASE_MS = 2000;

let dir: string;
let report: ChildReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-hostile-'));
  report = await runFuzzChild('hostile', 1, dir);
  console.log(`hostile checkpoints: ${summarize(report)}`);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('hostile checkpoint files', () => {
  it('the child ran every case to the end, under the heap cap', () => {
    expect(report.stalled, `stalled on ${report.unfinished}\n${report.stderr}`).toBe(false);
    expect(report.unfinished, report.stderr).toBeUndefined();
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.results.map((r) => r.id)).toHaveLength(hostileCases.count);
  });

  it('refuses each with a ModelFileError that names the file', () => {
    for (const r of report.results) {
      if (r.expect === 'refuse') {
        expect({ id: r.id, outcome: r.outcome, namesFile: r.namesFile }, r.message).toEqual({ id: r.id, outcome: 'refused', namesFile: true });
      } else {
        expect(r.outcome, `${r.id}: ${r.message}`).toBe('loaded');
      }
    }
  });

  it(`each ends within ${CASE_MS} ms without the process growing past ${HEAP_CAP_MB} MB`, () => {
    for (const r of report.results) {
      expect(r.ms, r.id).toBeLessThan(CASE_MS);
      expect(r.peakRssMb, r.id).toBeLessThan(HEAP_CAP_MB);
    }
  });

  it('the heap cap is real: a case that balloons the heap kills the child, and the report names it', async () => {
    const canary = await runFuzzChild('hostile', 1, join(dir, 'canary'), { env: { ...process.env, FUZZ_CANARY: 'heap' } });
    expect(canary.exitCode === 0 && canary.signal === null).toBe(false);
    expect(canary.unfinished).toBe('canary');
    expect(canary.stderr).toMatch(/heap/i);
    expect(canary.results).toEqual([]);
  }, 60_000);

  it('names the attack in the message where it matters', () => {
    const message = (id: string): string => report.results.find((r) => r.id === id)?.message ?? '';
    expect(message('pickle-negative-binstring')).toMatch(/negative or invalid length/);
    expect(message('pickle-long4-300kb')).toMatch(/300000-byte integer/);
    expect(message('zip-bomb-1gib')).toMatch(/more data than a \d+-byte file can honestly hold/);
    expect(message('zip-lying-size')).toMatch(/does not inflate to its declared size/);
    expect(message('torch-stride-0')).toMatch(/stride 0/);
    expect(message('torch-many-views')).toMatch(/more than a \d+-byte checkpoint can hold/);
    expect(message('torch-constructor-storage')).toMatch(/refusing to load torch\.constructor/);
    expect(message('safetensors-overlap')).toMatch(/overlaps the tensor before it/);
    expect(message('safetensors-hole')).toMatch(/belong to no tensor/);
    expect(message('shard-parent-traversal')).toMatch(/"\.\.\/outside\.safetensors", which is not a plain file name/);
  });
});
