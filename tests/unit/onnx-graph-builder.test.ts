import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attr, GraphBuilder } from '../../src/main/core/onnx/graph-builder';
import type { NdArray, NdFloat32, NdInt64 } from '../../src/main/core/onnx/nd-array';
import { float32, int64 } from '../../src/main/core/onnx/nd-array';
import { encodeOnnxModelInline, writeOnnxModel } from '../../src/main/core/onnx/onnx-model-writer';
import { createInferenceSession, runModelBytes } from '../../src/main/core/onnx/runtime';

/** Builds a one-output graph from `build`, runs it on `feeds` and returns the output. */
async function run1(
  inputs: Array<[string, NdArray['type'], Array<number | string>]>,
  feeds: Record<string, NdArray>,
  build: (g: GraphBuilder, ins: string[]) => string,
  outType: NdArray['type'] = 'float32',
): Promise<NdArray> {
  const g = new GraphBuilder('t');
  const ins = inputs.map(([n, t, d]) => g.input(n, t, d));
  g.output(build(g, ins), 'y', outType);
  const out = await runModelBytes(encodeOnnxModelInline(g), feeds);
  return out.y as NdArray;
}

const f = (values: number[], dims: number[]): NdFloat32 => float32(Float32Array.from(values), dims);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThanOrEqual(tol);
};

describe('GraphBuilder ops (run in onnxruntime, checked against hand-computed values)', () => {
  it('MatMul + Add broadcast a bias row', async () => {
    const y = await run1([['x', 'float32', [2, 2]]], { x: f([1, 2, 3, 4], [2, 2]) }, (g, [x]) => {
      const w = g.initializer('w', f([1, 0, 2, 1], [2, 2]));
      return g.add(g.matmul(x!, w), g.floats([10, 20]));
    });
    // [1 2;3 4]·[1 0;2 1] = [5 2; 11 4]
    expect(Array.from(y.data as Float32Array)).toEqual([15, 22, 21, 24]);
    expect(y.dims).toEqual([2, 2]);
  });

  it('Gemm with transB multiplies by the transposed matrix and adds C', async () => {
    const y = await run1([['x', 'float32', [1, 3]]], { x: f([1, 2, 3], [1, 3]) }, (g, [x]) => {
      const b = g.initializer('b', f([1, 0, 0, 0, 1, 1], [2, 3]));
      return g.gemm(x!, b, g.floats([0.5, -1]), { transB: true });
    });
    expect(Array.from(y.data as Float32Array)).toEqual([1.5, 4]);
  });

  it('Div, Sqrt, Erf, Sub, Mul and scalars', async () => {
    const y = await run1([['x', 'float32', [3]]], { x: f([0, 1, 4], [3]) }, (g, [x]) =>
      g.mul(g.sub(g.sqrt(x!), g.scalarFloat(1)), g.erf(g.div(x!, g.scalarFloat(2)))),
    );
    // (√x − 1)·erf(x/2): x=0 → 0; x=1 → 0; x=4 → 1·erf(2)
    close(y.data as Float32Array, [0, 0, 0.9953222650189527]);
  });

  it('Softmax over the last axis', async () => {
    const y = await run1([['x', 'float32', [2, 3]]], { x: f([0, 0, 0, 1, 2, 3], [2, 3]) }, (g, [x]) => g.softmax(x!, -1));
    const e = [1, Math.E, Math.E ** 2];
    const s = e[0]! + e[1]! + e[2]!;
    close(y.data as Float32Array, [1 / 3, 1 / 3, 1 / 3, e[0]! / s, e[1]! / s, e[2]! / s]);
  });

  it('LayerNormalization with scale, bias and epsilon', async () => {
    const y = await run1([['x', 'float32', [1, 4]]], { x: f([1, 2, 3, 6], [1, 4]) }, (g, [x]) =>
      g.layerNormalization(x!, g.floats([1, 2, 1, 1]), g.floats([0, 0, 1, 0]), 1e-5),
    );
    const mean = 3;
    const v = (4 + 1 + 0 + 9) / 4;
    const inv = 1 / Math.sqrt(v + 1e-5);
    close(y.data as Float32Array, [(1 - mean) * inv, 2 * (2 - mean) * inv, (3 - mean) * inv + 1, (6 - mean) * inv], 1e-5);
  });

  it('Conv with stride = kernel sums patches (patch embedding)', async () => {
    // 1 channel 4×4 image, 1 output channel, 2×2 kernel of ones, stride 2
    const img = Array.from({ length: 16 }, (_, i) => i);
    const y = await run1([['x', 'float32', [1, 1, 4, 4]]], { x: f(img, [1, 1, 4, 4]) }, (g, [x]) => {
      const w = g.initializer('w', f([1, 1, 1, 1], [1, 1, 2, 2]));
      return g.conv(x!, w, g.initializer('b', f([0.5], [1])), { strides: [2, 2], kernelShape: [2, 2] });
    });
    expect(y.dims).toEqual([1, 1, 2, 2]);
    expect(Array.from(y.data as Float32Array)).toEqual([0 + 1 + 4 + 5 + 0.5, 2 + 3 + 6 + 7 + 0.5, 8 + 9 + 12 + 13 + 0.5, 10 + 11 + 14 + 15 + 0.5]);
  });

  it('Reshape (0 copies a dim) and Transpose', async () => {
    const y = await run1([['x', 'float32', [2, 6]]], { x: f([...Array(12).keys()], [2, 6]) }, (g, [x]) =>
      g.transpose(g.reshape(x!, [0, 3, 2]), [0, 2, 1]),
    );
    expect(y.dims).toEqual([2, 2, 3]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11]);
  });

  it('Concat, Gather (row lookup), Slice and Unsqueeze', async () => {
    const table = f([10, 11, 20, 21, 30, 31], [3, 2]);
    const y = await run1([['ids', 'int64', [2]]], { ids: int64([2, 0], [2]) }, (g, [ids]) => {
      const t = g.initializer('table', table);
      const rows = g.gather(t, ids!, 0); // [[30,31],[10,11]]
      const both = g.concat([rows, g.initializer('extra', f([1, 2], [1, 2]))], 0); // 3×2
      return g.unsqueeze(g.slice(both, [1], [3], [0]), [0]); // [1, 2, 2]
    });
    expect(y.dims).toEqual([1, 2, 2]);
    expect(Array.from(y.data as Float32Array)).toEqual([10, 11, 1, 2]);
  });

  it('Shape, Range, LessOrEqual, Where and Expand build a causal mask', async () => {
    const y = await run1([['x', 'float32', [1, 'n']]], { x: f([0, 0, 0], [1, 3]) }, (g, [x]) => {
      const n = g.squeeze(g.dim(x!, 1), [0]);
      const pos = g.range(g.scalarInt64(0), n, g.scalarInt64(1));
      const allowed = g.lessOrEqual(g.unsqueeze(pos, [0]), g.unsqueeze(pos, [1]));
      const mask = g.where(allowed, g.scalarFloat(0), g.scalarFloat(-1));
      return g.expand(mask, g.int64s([2, 3, 3]));
    });
    expect(y.dims).toEqual([2, 3, 3]);
    expect(Array.from(y.data as Float32Array).slice(0, 9)).toEqual([0, -1, -1, 0, 0, -1, 0, 0, 0]);
  });

  it('Cast int64 → float32', async () => {
    const y = await run1([['m', 'int64', [3]]], { m: int64([1, 0, 1], [3]) }, (g, [m]) => g.cast(m!, 'float32'));
    expect(Array.from(y.data as Float32Array)).toEqual([1, 0, 1]);
  });

  it('node() reaches any op with typed attributes', async () => {
    const y = await run1([['x', 'float32', [4]]], { x: f([-2, -0.5, 0.5, 2], [4]) }, (g, [x]) =>
      g.op('Clip', [x!, g.scalarFloat(-1), g.scalarFloat(1)]),
    );
    expect(Array.from(y.data as Float32Array)).toEqual([-1, -0.5, 0.5, 1]);
    const z = await run1([['x', 'float32', [2, 2]]], { x: f([1, 2, 3, 4], [2, 2]) }, (g, [x]) =>
      g.op('ReduceSum', [x!, g.int64s([1])], { keepdims: attr.int(0) }),
    );
    expect(Array.from(z.data as Float32Array)).toEqual([3, 7]);
  });

  it('rejects a value name used twice', () => {
    const g = new GraphBuilder('t');
    g.input('x', 'float32', [1]);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already used/);
  });

  it('deduplicates identical constants', () => {
    const g = new GraphBuilder('t');
    expect(g.scalarFloat(2)).toBe(g.scalarFloat(2));
    expect(g.int64s([1, 2])).toBe(g.int64s([1, 2]));
    expect(g.int64s([1, 2])).not.toBe(g.int64s([2, 1]));
  });
});

describe('writeOnnxModel (external data)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  function bigGraph(): GraphBuilder {
    const g = new GraphBuilder('big');
    const x = g.input('x', 'float32', ['batch', 256]);
    const w = new Float32Array(256 * 300);
    for (let i = 0; i < w.length; i++) w[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    g.output(g.add(g.matmul(x, g.initializer('w', float32(w, [256, 300]))), g.scalarFloat(1)), 'y', 'float32', ['batch', 300]);
    return g;
  }

  it('puts large weights in <model>.data, loads through a session, and is byte-deterministic', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-onnx-'));
    dirs.push(dir);
    const a = await writeOnnxModel(bigGraph(), join(dir, 'a.onnx'));
    await writeOnnxModel(bigGraph(), join(dir, 'b.onnx'));
    expect(a.dataBytes).toBe(256 * 300 * 4);
    expect(a.modelBytes).toBeLessThan(4096);
    expect((await stat(join(dir, 'a.onnx.data'))).size).toBe(256 * 300 * 4);
    expect(Buffer.compare(await readFile(join(dir, 'a.onnx.data')), await readFile(join(dir, 'b.onnx.data')))).toBe(0);
    // the .onnx files differ only in the data file name they reference
    const ta = (await readFile(join(dir, 'a.onnx'))).toString('latin1').replace('a.onnx.data', 'X.onnx.data');
    const tb = (await readFile(join(dir, 'b.onnx'))).toString('latin1').replace('b.onnx.data', 'X.onnx.data');
    expect(ta).toBe(tb);
    expect((await readdir(dir)).sort()).toEqual(['a.onnx', 'a.onnx.data', 'b.onnx', 'b.onnx.data']);

    const session = await createInferenceSession(join(dir, 'a.onnx'), { executionProvider: 'cpu', intraOpThreads: 1 });
    try {
      const x = new Float32Array(2 * 256).fill(0);
      x[3] = 1; // row 0 picks w[3, :]
      const out = (await session.run({ x: float32(x, [2, 256]) })).y as NdFloat32;
      expect(out.dims).toEqual([2, 300]);
      expect(out.data[0]).toBeCloseTo(((3 * 300 * 7919) % 1000) / 1000 - 0.5 + 1, 5);
      expect(out.data[300]).toBe(1);
    } finally {
      await session.dispose();
    }
  });

  it('a model file onnxruntime cannot read becomes a ModelFileError naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-onnx-'));
    dirs.push(dir);
    await writeOnnxModel(bigGraph(), join(dir, 'm.onnx'));
    await rm(join(dir, 'm.onnx.data'));
    await expect(createInferenceSession(join(dir, 'm.onnx'), { executionProvider: 'cpu' })).rejects.toMatchObject({
      name: 'ModelFileError',
      file: join(dir, 'm.onnx'),
    });
  });

  it('int64 initializers round-trip', async () => {
    const y = (await run1([['x', 'int64', [2]]], { x: int64([5, 6], [2]) }, (g, [x]) => g.add(x!, g.initializer('k', int64([10, 20], [2]))), 'int64')) as NdInt64;
    expect(Array.from(y.data)).toEqual([15n, 26n]);
  });
});
