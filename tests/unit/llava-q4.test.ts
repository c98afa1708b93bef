/** The 4-bit packing the benchmark's quantized decoder uses, checked against onnxruntime's MatMulNBits. */
import { describe, expect, it } from 'vitest';
import { attr, GraphBuilder } from '../../src/main/core/onnx/graph-builder';
import { encodeOnnxModelInline } from '../../src/main/core/onnx/onnx-model-writer';
import { runModelBytes } from '../../src/main/core/onnx/runtime';
import { SeededRandom } from '../../test-models/seeded-random';
import { quantizeQ4 } from '../../test-models/tiny-llava-graphs';

describe('quantizeQ4 + MatMulNBits', () => {
  it('matches x @ dequantized(W) and stays close to x @ W', async () => {
    const [k, n, rows] = [64, 24, 3];
    const rng = new SeededRandom(5);
    const w = rng.normals(k * n, 0.5);
    const x = rng.normals(rows * k, 1);
    const { packed, scales } = quantizeQ4(w, k, n);
    const g = new GraphBuilder('q4');
    const input = g.input('x', 'float32', [rows, k]);
    const pw = g.initializer('w', { type: 'uint8', data: packed, dims: [n, k / 32, 16] });
    const sc = g.initializer('s', { type: 'float32', data: scales, dims: [n * (k / 32)] });
    const [y] = g.node('MatMulNBits', [input, pw, sc], { K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(32) }, { domain: 'com.microsoft' });
    g.output(y!, 'y', 'float32', [rows, n]);
    const out = (await runModelBytes(encodeOnnxModelInline(g), { x: { type: 'float32', data: x, dims: [rows, k] } }))['y']!.data as Float32Array;
    let maxDeq = 0;
    let maxFp = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < n; c++) {
        let deq = 0;
        let fp = 0;
        for (let i = 0; i < k; i++) {
          const b = Math.floor(i / 32);
          const byte = packed[(c * (k / 32) + b) * 16 + ((i % 32) >> 1)]!;
          const q = (i % 2 ? byte >> 4 : byte & 15) - 8;
          deq += x[r * k + i]! * q * scales[c * (k / 32) + b]!;
          fp += x[r * k + i]! * w[i * n + c]!;
        }
        maxDeq = Math.max(maxDeq, Math.abs(out[r * n + c]! - deq));
        maxFp = Math.max(maxFp, Math.abs(out[r * n + c]! - fp));
      }
    }
    expect(maxDeq).toBeLessThan(1e-3);
    expect(maxFp).toBeLessThan(1.5);
  });
});
