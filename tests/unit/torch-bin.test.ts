import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { float32ToHalf } from '../../src/main/core/weights/half-float';
import { readTorchBin, writeTorchBin } from '../../src/main/core/weights/torch-bin';
import type { WeightMap } from '../../src/main/core/weights/weight-tensor';
import { writeStoredZip } from '../../src/main/core/weights/zip-archive';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tandem-torch-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * data.pkl bytes produced by CPython's own pickler (protocol 2) exactly as `torch.save` drives it: stand-in
 * modules named `torch` / `torch._utils` made the GLOBAL opcodes match, tensors reduced to
 * `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`, storages turned into
 * `('storage', torch.XStorage, key, 'cpu', numel)` persistent ids, and the OrderedDict given a `_metadata`
 * attribute the way `Module.state_dict()` does (so the stream ends with a BUILD). It holds:
 *   w       FloatStorage '0' (6 elements), offset 0, size (2,3), stride (3,1)
 *   w_t     same storage, size (3,2), stride (1,3)      — a transposed, non-contiguous view
 *   w_row1  same storage, offset 3, size (3,), stride (1,)
 *   half    _rebuild_parameter(HalfStorage '1' (4), size (2,2), stride (2,1))
 *   ids     LongStorage '2' (3), size (3,)
 *   scalar  same LongStorage, offset 2, size (), stride ()
 */
const CPYTHON_STATE_DICT_PKL =
  'gAJjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQApUnEBKFgBAAAAd3ECY3RvcmNoLl91dGlscwpfcmVidWlsZF90ZW5zb3JfdjIKcQMoKFgHAAAAc3RvcmFnZXEEY3RvcmNoCkZsb2F0U3RvcmFnZQpxBVgBAAAAMHEGWAMAAABjcHVxB0sGdHEIUUsASwJLA4ZxCUsDSwGGcQqJaAApUnELdHEMUnENWAMAAAB3X3RxDmgDKChoBGgFaAZoB0sGdHEPUUsASwNLAoZxEEsBSwOGcRGJaAApUnESdHETUnEUWAYAAAB3X3JvdzFxFWgDKChoBGgFaAZoB0sGdHEWUUsDSwOFcRdLAYVxGIloAClScRl0cRpScRtYBAAAAGhhbGZxHGN0b3JjaC5fdXRpbHMKX3JlYnVpbGRfcGFyYW1ldGVyCnEdaAMoKGgEY3RvcmNoCkhhbGZTdG9yYWdlCnEeWAEAAAAxcR9oB0sEdHEgUUsASwJLAoZxIUsCSwGGcSKJaAApUnEjdHEkUnEliGgAKVJxJodxJ1JxKFgDAAAAaWRzcSloAygoaARjdG9yY2gKTG9uZ1N0b3JhZ2UKcSpYAQAAADJxK2gHSwN0cSxRSwBoF2gYiWgAKVJxLXRxLlJxL1gGAAAAc2NhbGFycTBoAygoaARoKmgraAdLA3RxMVFLAikpiWgAKVJxMnRxM1JxNHV9cTVYCQAAAF9tZXRhZGF0YXE2aAApUnE3KFgAAAAAcTh9cTlYBwAAAHZlcnNpb25xOksBc1gDAAAAZW5jcTt9cTxoOksBc3VzYi4=';

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A checkpoint with a hand-made data.pkl, laid out like torch's zip (the top folder name varies in the wild). */
async function writeCheckpoint(name: string, pkl: Uint8Array, storages: Record<string, Uint8Array>, folder = 'archive'): Promise<string> {
  const file = join(dir, name);
  await writeStoredZip(file, [
    { name: `${folder}/data.pkl`, data: pkl },
    { name: `${folder}/byteorder`, data: new TextEncoder().encode('little') },
    ...Object.entries(storages).map(([key, data]) => ({ name: `${folder}/data/${key}`, data })),
    { name: `${folder}/version`, data: new TextEncoder().encode('3\n') },
  ]);
  return file;
}

/** Protocol-2 pickle of `os.system("echo pwned")`: the classic malicious checkpoint. */
function hostilePickle(): Uint8Array {
  const enc = new TextEncoder();
  const cmd = enc.encode('echo pwned');
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, cmd.length, true);
  return new Uint8Array([
    0x80, 0x02,
    0x63, ...enc.encode('os\nsystem\n'), // GLOBAL
    0x58, ...len, ...cmd, // BINUNICODE
    0x85, // TUPLE1
    0x52, // REDUCE
    0x2e, // STOP
  ]);
}

describe('readTorchBin / writeTorchBin', () => {
  it('round-trips every dtype, shape, scalar and empty tensor', async () => {
    const weights: WeightMap = new Map([
      ['enc.weight', { storedDType: 'float32', shape: [2, 3], data: Float32Array.from([0.1, -2, 3.5, 1e-30, 7, -0]) }],
      ['enc.half', { storedDType: 'float16', shape: [3], data: Float32Array.from([1, -0.5, 65504]) }],
      ['enc.bf16', { storedDType: 'bfloat16', shape: [2], data: Float32Array.from([1.5, -3]) }],
      ['enc.f64', { storedDType: 'float64', shape: [1], data: Float32Array.from([0.25]) }],
      ['pos_ids', { storedDType: 'int64', shape: [1, 4], data: BigInt64Array.from([0n, 1n, 2n, 1n << 40n]) }],
      ['i32', { storedDType: 'int32', shape: [2], data: Int32Array.from([-7, 1 << 30]) }],
      ['mask', { storedDType: 'bool', shape: [2], data: Uint8Array.from([1, 0]) }],
      ['scalar', { storedDType: 'float32', shape: [], data: Float32Array.from([42]) }],
      ['empty', { storedDType: 'float32', shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const file = join(dir, 'roundtrip.bin');
    await writeTorchBin(file, weights);
    const back = await readTorchBin(file);
    expect([...back.keys()]).toEqual([...weights.keys()]);
    for (const [name, t] of weights) {
      const b = back.get(name)!;
      expect(b.storedDType, name).toBe(t.storedDType);
      expect(b.shape, name).toEqual(t.shape);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect([...b.data], name).toEqual([...t.data]);
    }
    // Stored entries, each storage on a 64-byte boundary: what torch's own writer produces.
    const raw = await readFile(file);
    expect(raw.subarray(0, 4)).toEqual(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  });

  it('reads a state dict pickled by CPython the way torch.save does: shared storage, strides, offsets, fp16, params', async () => {
    const file = await writeCheckpoint(
      'cpython.bin',
      Buffer.from(CPYTHON_STATE_DICT_PKL, 'base64'),
      {
        '0': bytesOf(Float32Array.from([0, 1, 2, 3, 4, 5])),
        '1': bytesOf(float32ToHalf(Float32Array.from([1, -2, 0.5, 65504]))),
        '2': bytesOf(BigInt64Array.from([7n, -1n, 9007199254740993n])),
      },
      'pytorch_model',
    );
    const w = await readTorchBin(file);
    expect([...w.keys()]).toEqual(['w', 'w_t', 'w_row1', 'half', 'ids', 'scalar']);
    expect(w.get('w')).toEqual({ storedDType: 'float32', shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5]) });
    // Transposed view materialised in row-major order: w_t[i][j] = w[j][i].
    expect(w.get('w_t')).toEqual({ storedDType: 'float32', shape: [3, 2], data: Float32Array.from([0, 3, 1, 4, 2, 5]) });
    expect(w.get('w_row1')).toEqual({ storedDType: 'float32', shape: [3], data: Float32Array.from([3, 4, 5]) });
    expect(w.get('half')).toEqual({ storedDType: 'float16', shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 65504]) });
    expect(w.get('ids')).toEqual({ storedDType: 'int64', shape: [3], data: BigInt64Array.from([7n, -1n, 9007199254740993n]) });
    expect(w.get('scalar')).toEqual({ storedDType: 'int64', shape: [], data: BigInt64Array.from([9007199254740993n]) });
    // Tensors sharing a storage must not share memory.
    (w.get('w')!.data as Float32Array)[0] = 99;
    expect(w.get('w_t')!.data[0]).toBe(0);
  });

  it('narrows float16 / bfloat16 with round-to-nearest-even when writing', async () => {
    const file = join(dir, 'narrow.bin');
    // 1 + 2^-11 is halfway between two halves (1 and 1 + 2^-10): ties go to the even one, 1.
    // 1 + 3·2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: even is 1 + 2^-9.
    const halfIn = Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, 2 ** -25, 2 ** -24]);
    const bfIn = Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8]);
    await writeTorchBin(
      file,
      new Map([
        ['h', { storedDType: 'float16', shape: [5], data: halfIn }],
        ['b', { storedDType: 'bfloat16', shape: [2], data: bfIn }],
      ]),
    );
    const back = await readTorchBin(file);
    expect([...back.get('h')!.data]).toEqual([1, 1 + 2 ** -9, Infinity, 0, 2 ** -24]);
    expect([...back.get('b')!.data]).toEqual([1, 1 + 2 ** -6]);
  });

  it('refuses a pickle that names any other global, and says which one', async () => {
    const file = await writeCheckpoint('evil.bin', hostilePickle(), {});
    const err = await readTorchBin(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).message).toBe(`refusing to load os.system from ${file}: pickles may only contain tensors`);
    expect((err as ModelFileError).file).toBe(file);
  });

  it('refuses STACK_GLOBAL too (protocol 4 style)', async () => {
    const enc = new TextEncoder();
    const pkl = new Uint8Array([
      0x80, 0x04,
      0x8c, 8, ...enc.encode('builtins'), // SHORT_BINUNICODE
      0x8c, 4, ...enc.encode('eval'),
      0x93, // STACK_GLOBAL
      0x8c, 1, ...enc.encode('1'),
      0x85, 0x52, 0x2e,
    ]);
    const file = await writeCheckpoint('evil4.bin', pkl, {});
    await expect(readTorchBin(file)).rejects.toThrow(`refusing to load builtins.eval from ${file}: pickles may only contain tensors`);
  });

  it('explains a truncated download instead of failing obscurely', async () => {
    const file = join(dir, 'truncated.bin');
    await writeTorchBin(file, new Map([['x', { storedDType: 'float32', shape: [256], data: new Float32Array(256) }]]));
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
    await truncate(file, Math.floor(size / 2));
    const err = await readTorchBin(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(/truncated/);
    expect((err as Error).message).toContain(file);
  });

  it('names a storage that runs short', async () => {
    const pkl = Buffer.from(CPYTHON_STATE_DICT_PKL, 'base64');
    const short = await writeCheckpoint('short.bin', pkl, {
      '0': bytesOf(Float32Array.from([0, 1, 2])),
      '1': new Uint8Array(8),
      '2': new Uint8Array(24),
    });
    await expect(readTorchBin(short)).rejects.toThrow(/storage data\/0 is shorter than its 6 float32 elements/);
  });

  it('recognises a legacy (pre-1.6) pickle-stream checkpoint', async () => {
    const file = join(dir, 'legacy.bin');
    await writeFile(file, Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]));
    await expect(readTorchBin(file)).rejects.toThrow(/legacy PyTorch checkpoint/);
  });

  it('rejects data that does not match the declared dtype when writing', async () => {
    await expect(
      writeTorchBin(join(dir, 'bad.bin'), new Map([['x', { storedDType: 'int64', shape: [1], data: Float32Array.from([1]) }]])),
    ).rejects.toThrow(/weight x: Float32Array data cannot be saved as int64/);
  });
});
