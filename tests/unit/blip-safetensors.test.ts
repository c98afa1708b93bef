import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { findCheckpoint, loadCheckpoint } from '../../src/main/core/weights/load-checkpoint';
import { floatToBfloat16, floatToHalf, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../src/main/core/weights/safetensors';
import { writeTorchBin } from '../../src/main/core/weights/torch-bin';
import type { WeightMap } from '../../src/main/core/weights/weight-tensor';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-st-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sample(): WeightMap {
  return new Map([
    ['a.weight', { storedDType: 'float32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) }],
    ['b.half', { storedDType: 'float16', shape: [4], data: Float32Array.from([1, -0.5, 65504, 0.000061035156]) }],
    ['c.bf16', { storedDType: 'bfloat16', shape: [2], data: Float32Array.from([1.5, -3]) }],
    ['d.ids', { storedDType: 'int64', shape: [3], data: BigInt64Array.from([1n, -2n, 30522n]) }],
    ['e.scalar', { storedDType: 'float32', shape: [], data: Float32Array.from([42]) }],
  ]);
}

describe('safetensors', () => {
  it('round-trips F32, F16, BF16, I64 and scalars, widening floats to float32', async () => {
    const path = join(dir, 'rt.safetensors');
    await writeSafetensors(path, sample());
    const back = await readSafetensors(path);
    expect([...back.keys()].sort()).toEqual(['a.weight', 'b.half', 'c.bf16', 'd.ids', 'e.scalar']);
    expect(back.get('a.weight')).toMatchObject({ storedDType: 'float32', shape: [2, 3] });
    expect(Array.from(back.get('a.weight')!.data as Float32Array)).toEqual(Array.from(Float32Array.from([1, -2, 3.5, 0, 1e-8, -7])));
    expect(back.get('b.half')!.storedDType).toBe('float16');
    expect(Array.from(back.get('b.half')!.data as Float32Array)).toEqual([1, -0.5, 65504, 0.00006103515625]);
    expect(Array.from(back.get('c.bf16')!.data as Float32Array)).toEqual([1.5, -3]);
    expect(Array.from(back.get('d.ids')!.data as BigInt64Array)).toEqual([1n, -2n, 30522n]);
    expect(back.get('e.scalar')!.shape).toEqual([]);
  });

  it('writes the documented layout: u64 header length, 8-byte padded JSON, offsets relative to the data', async () => {
    const path = join(dir, 'layout.safetensors');
    await writeSafetensors(path, new Map([['x', { storedDType: 'float32', shape: [2], data: Float32Array.from([1, 2]) }]]));
    const bytes = await readFile(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(header.x).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(bytes.readFloatLE(8 + n + 4)).toBe(2);
  });

  it('half and bfloat16 conversion rounds to nearest even', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToBfloat16(1)).toBe(0x3f80);
    expect(floatToBfloat16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
  });

  it('a filter reads only the wanted tensors', async () => {
    const path = join(dir, 'filter.safetensors');
    await writeSafetensors(path, sample());
    const some = await readSafetensors(path, { filter: (n) => n.startsWith('a.') });
    expect([...some.keys()]).toEqual(['a.weight']);
    const header = await readSafetensorsHeader(path);
    expect(header.entries.map((e) => e.name).sort()).toEqual(['a.weight', 'b.half', 'c.bf16', 'd.ids', 'e.scalar']);
  });

  it('a truncated file is a ModelFileError naming the file and the tensor cut off', async () => {
    const path = join(dir, 'trunc.safetensors');
    await writeSafetensors(path, sample());
    const { size } = await stat(path);
    await truncate(path, size - 3);
    const err = await readSafetensors(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(path);
    expect((err as Error).message).toMatch(/truncated/);
    // tensors are sorted by name, so the last one (e.scalar) is the one cut off
    expect((err as Error).message).toContain('e.scalar');
  });

  it('garbage, a lying header length and bad JSON are ModelFileErrors', async () => {
    const tiny = join(dir, 'tiny.safetensors');
    await writeFile(tiny, Buffer.from([1, 2, 3]));
    await expect(readSafetensors(tiny)).rejects.toThrow(/truncated/);

    const lying = join(dir, 'lying.safetensors');
    const buf = Buffer.alloc(16);
    buf.writeBigUInt64LE(1000n, 0);
    await writeFile(lying, buf);
    await expect(readSafetensors(lying)).rejects.toThrow(/header needs 1000 bytes/);

    const badJson = join(dir, 'badjson.safetensors');
    const body = Buffer.from('{"x": [nope}    ');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(body.length));
    await writeFile(badJson, Buffer.concat([len, body]));
    await expect(readSafetensors(badJson)).rejects.toBeInstanceOf(ModelFileError);
    await expect(readSafetensors(badJson)).rejects.toThrow(/not valid JSON/);
  });

  it('offsets that disagree with shape × dtype name the tensor', async () => {
    const path = join(dir, 'span.safetensors');
    const body = Buffer.from(JSON.stringify({ 'layer.weight': { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }).padEnd(48, ' '));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(body.length));
    await writeFile(path, Buffer.concat([len, body, Buffer.alloc(8)]));
    await expect(readSafetensors(path)).rejects.toThrow(/layer\.weight \[3\] F32 needs 12 bytes/);
  });

  it('a missing file is a ModelFileError', async () => {
    await expect(readSafetensors(join(dir, 'nope.safetensors'))).rejects.toBeInstanceOf(ModelFileError);
  });
});

describe('loadCheckpoint', () => {
  it('prefers model.safetensors, falls back to pytorch_model.bin, and names both when neither exists', async () => {
    const d = await mkdtemp(join(dir, 'ck-'));
    await expect(findCheckpoint(d)).rejects.toThrow(/expected model\.safetensors .* or pytorch_model\.bin/);
    const w: WeightMap = new Map([['w', { storedDType: 'float32', shape: [2], data: Float32Array.from([1, 2]) }]]);
    await writeTorchBin(join(d, 'pytorch_model.bin'), w);
    expect((await findCheckpoint(d)).format).toBe('torch-bin');
    const fromBin = await loadCheckpoint(d);
    expect(Array.from(fromBin.weights.get('w')!.data as Float32Array)).toEqual([1, 2]);
    await writeSafetensors(join(d, 'model.safetensors'), new Map([['w', { storedDType: 'float32', shape: [2], data: Float32Array.from([3, 4]) }]]));
    const st = await loadCheckpoint(d, { filter: () => true });
    expect(st.format).toBe('safetensors');
    expect(Array.from(st.weights.get('w')!.data as Float32Array)).toEqual([3, 4]);
  });

  it('reads a sharded checkpoint through its index and reports a missing shard', async () => {
    const d = await mkdtemp(join(dir, 'shard-'));
    await writeSafetensors(join(d, 'model-00001-of-00002.safetensors'), new Map([['a', { storedDType: 'float32', shape: [1], data: Float32Array.from([1]) }]]));
    await writeFile(
      join(d, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } }),
    );
    await expect(findCheckpoint(d)).rejects.toThrow(/model-00002-of-00002\.safetensors .* is missing/);
    await writeSafetensors(join(d, 'model-00002-of-00002.safetensors'), new Map([['b', { storedDType: 'float32', shape: [1], data: Float32Array.from([2]) }]]));
    const all = await loadCheckpoint(d);
    expect([...all.weights.keys()].sort()).toEqual(['a', 'b']);
    expect(all.files).toHaveLength(2);
  });

  it('a file cut in the middle of a tensor names that tensor', async () => {
    const d = await mkdtemp(join(dir, 'cut-'));
    const path = join(d, 'model.safetensors');
    await writeSafetensors(path, sample());
    const fh = await open(path, 'r+');
    const { size } = await fh.stat();
    await fh.truncate(size - 30);
    await fh.close();
    await expect(loadCheckpoint(d)).rejects.toThrow(/tensor [a-e]\.\w+ ends at byte/);
  });
});
