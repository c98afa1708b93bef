import { describe, expect, it } from 'vitest';
import type { ActivationName } from '../../src/main/core/onnx/blocks';
import { activation, layerNorm, linear, mergeHeads, scaledDotProductAttention, splitHeads, transposeMatrix } from '../../src/main/core/onnx/blocks';
import { GraphBuilder } from '../../src/main/core/onnx/graph-builder';
import type { NdFloat32 } from '../../src/main/core/onnx/nd-array';
import { float32 } from '../../src/main/core/onnx/nd-array';
import { encodeOnnxModelInline } from '../../src/main/core/onnx/onnx-model-writer';
import { runModelBytes } from '../../src/main/core/onnx/runtime';
import { erf } from '../../test-models/blip-reference';
import { SeededRandom } from '../../test-models/seeded-random';

const rng = new SeededRandom(99);

async function runGraph(g: GraphBuilder, feeds: Record<string, NdFloat32>): Promise<NdFloat32> {
  return (await runModelBytes(encodeOnnxModelInline(g), feeds)).y as NdFloat32;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('transformer blocks vs a direct TypeScript computation', () => {
  it('transposeMatrix', () => {
    const m = Float32Array.from([...Array(6 * 70).keys()]);
    const t = transposeMatrix(m, 6, 70);
    for (let r = 0; r < 6; r++) for (let c = 0; c < 70; c++) expect(t[c * 6 + r]).toBe(m[r * 70 + c]);
  });

  it('linear = x·Wᵀ + b for a PyTorch [out, in] weight', async () => {
    const [n, inp, out] = [5, 7, 3];
    const x = rng.normals(n * inp, 1);
    const W = rng.normals(out * inp, 1);
    const b = rng.normals(out, 1);
    const g = new GraphBuilder('t');
    const xi = g.input('x', 'float32', [n, inp]);
    const wi = g.initializer('w', float32(transposeMatrix(W, out, inp), [inp, out]));
    g.output(linear(g, xi, { weight: wi, bias: g.initializer('b', float32(b, [out])) }), 'y', 'float32', [n, out]);
    const y = await runGraph(g, { x: float32(x, [n, inp]) });
    const expected = new Float64Array(n * out);
    for (let r = 0; r < n; r++) for (let o = 0; o < out; o++) {
      let s = b[o]!;
      for (let i = 0; i < inp; i++) s += x[r * inp + i]! * W[o * inp + i]!;
      expected[r * out + o] = s;
    }
    expect(maxDiff(y.data, expected)).toBeLessThan(1e-5);
  });

  it('layerNorm with biased variance and eps, as torch.nn.LayerNorm', async () => {
    const [n, d] = [4, 16];
    const x = rng.normals(n * d, 3, 1);
    const gamma = rng.normals(d, 0.3, 1);
    const beta = rng.normals(d, 0.3);
    for (const eps of [1e-5, 1e-12]) {
      const g = new GraphBuilder('t');
      const xi = g.input('x', 'float32', [n, d]);
      g.output(layerNorm(g, xi, { scale: g.initializer('g', float32(gamma, [d])), bias: g.initializer('b', float32(beta, [d])), epsilon: eps }), 'y', 'float32', [n, d]);
      const y = await runGraph(g, { x: float32(x, [n, d]) });
      const expected = new Float64Array(n * d);
      for (let r = 0; r < n; r++) {
        const row = Array.from(x.subarray(r * d, (r + 1) * d));
        const mean = row.reduce((a, v) => a + v, 0) / d;
        const v = row.reduce((a, z) => a + (z - mean) ** 2, 0) / d;
        row.forEach((z, i) => (expected[r * d + i] = ((z - mean) / Math.sqrt(v + eps)) * gamma[i]! + beta[i]!));
      }
      expect(maxDiff(y.data, expected)).toBeLessThan(2e-5);
    }
  });

  const references: Record<string, (x: number) => number> = {
    gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    gelu_new: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
    relu: (x) => Math.max(0, x),
    silu: (x) => x / (1 + Math.exp(-x)),
    tanh: Math.tanh,
  };
  for (const [name, ref] of Object.entries(references)) {
    it(`activation ${name}`, async () => {
      const x = Float32Array.from([-6, -3, -1.5, -0.75, -0.1, 0, 0.1, 0.5, 1, 2.5, 6, ...rng.normals(21, 2)]);
      const g = new GraphBuilder('t');
      const xi = g.input('x', 'float32', [x.length]);
      g.output(activation(g, xi, name as ActivationName), 'y', 'float32', [x.length]);
      const y = await runGraph(g, { x: float32(x, [x.length]) });
      expect(maxDiff(y.data, Array.from(x, ref))).toBeLessThan(2e-6);
    });
  }

  it('exact (erf) GELU differs from the tanh approximation, so the right one is in use', async () => {
    const x = Float32Array.from([-2.2, -1.1, 0.7, 1.9]);
    const g = new GraphBuilder('t');
    const xi = g.input('x', 'float32', [4]);
    g.output(activation(g, xi, 'gelu'), 'y', 'float32', [4]);
    const y = await runGraph(g, { x: float32(x, [4]) });
    expect(maxDiff(y.data, Array.from(x, references.gelu_new!))).toBeGreaterThan(1e-4);
  });

  it('multi-head attention with split/merge heads and an additive mask', async () => {
    const [b, sq, sk, heads, hd] = [2, 3, 5, 2, 4];
    const D = heads * hd;
    const q = rng.normals(b * sq * D, 1);
    const k = rng.normals(b * sk * D, 1);
    const v = rng.normals(b * sk * D, 1);
    const mask = Float32Array.from({ length: b * sk }, (_, i) => (i % 5 === 3 ? -10000 : 0));
    const g = new GraphBuilder('t');
    const qi = g.input('q', 'float32', [b, sq, D]);
    const ki = g.input('k', 'float32', [b, sk, D]);
    const vi = g.input('v', 'float32', [b, sk, D]);
    const mi = g.input('m', 'float32', [b, 1, 1, sk]);
    const ctx = scaledDotProductAttention(g, splitHeads(g, qi, heads, hd), splitHeads(g, ki, heads, hd), splitHeads(g, vi, heads, hd), {
      scale: { op: 'div', value: Math.sqrt(hd) },
      mask: mi,
    });
    g.output(mergeHeads(g, ctx, D), 'y', 'float32', [b, sq, D]);
    const y = await runGraph(g, {
      q: float32(q, [b, sq, D]),
      k: float32(k, [b, sk, D]),
      v: float32(v, [b, sk, D]),
      m: float32(mask, [b, 1, 1, sk]),
    });
    const expected = new Float64Array(b * sq * D);
    for (let bi = 0; bi < b; bi++) for (let h = 0; h < heads; h++) for (let i = 0; i < sq; i++) {
      const scores = Array.from({ length: sk }, (_, j) => {
        let s = 0;
        for (let e = 0; e < hd; e++) s += q[(bi * sq + i) * D + h * hd + e]! * k[(bi * sk + j) * D + h * hd + e]!;
        return s / Math.sqrt(hd) + mask[bi * sk + j]!;
      });
      const m = Math.max(...scores);
      const ex = scores.map((s) => Math.exp(s - m));
      const z = ex.reduce((a, c) => a + c, 0);
      for (let e = 0; e < hd; e++) {
        let acc = 0;
        for (let j = 0; j < sk; j++) acc += (ex[j]! / z) * v[(bi * sk + j) * D + h * hd + e]!;
        expected[(bi * sq + i) * D + h * hd + e] = acc;
      }
    }
    expect(maxDiff(y.data, expected)).toBeLessThan(1e-5);
  });
});
