/**
 * 4-bit decoder linears as the LLaVA compiler writes them, checked against onnxruntime's MatMulNBits: the tiny
 * llava-interleave (SigLIP + Qwen2) llava-hf folder is compiled with a q4 decoder (accuracy_level 0), and every
 * MatMulNBits node of the written decoder_model_merged is run on its own, with its packed weights and scales
 * read back from the compiled files. Each must compute x @ dequantized(W)ᵀ, the nibbles decoded here
 * independently of the compiler, and stay within half a quantisation step of x @ Wᵀ for the checkpoint's own
 * weights. Every decoder Linear of the checkpoint must be covered by one of the nodes.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLlavaToFolder } from '../../src/main/core/llava-compiler/compile-llava';
import { attr, GraphBuilder, type AttrValue } from '../../src/main/core/onnx/graph-builder';
import { encodeOnnxModelInline } from '../../src/main/core/onnx/onnx-model-writer';
import { runModelBytes } from '../../src/main/core/onnx/runtime';
import { readSafetensors } from '../../src/main/core/weights/safetensors';
import type { WeightMap } from '../../src/main/core/weights/weight-tensor';
import { SeededRandom } from '../../test-models/seeded-random';
import { ensureTinyLlavaHf } from '../../test-models/tiny-llava-hf';

const { onnx } = onnxProto;

let root: string;
let source: string;
let weights: WeightMap;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-llava-q4-'));
  source = await ensureTinyLlavaHf('llava-interleave');
  weights = new Map();
  for (const f of (await readdir(source)).filter((n) => n.endsWith('.safetensors'))) {
    for (const [name, w] of await readSafetensors(join(source, f))) weights.set(name, w);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An initializer's bytes, inline or from the external data file next to the model. */
async function initializerBytes(t: onnxProto.onnx.ITensorProto, modelDir: string): Promise<Uint8Array> {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value;
    const file = await readFile(join(modelDir, entry('location')!));
    const offset = Number(entry('offset') ?? 0);
    return file.subarray(offset, offset + Number(entry('length')));
  }
  if (t.rawData && t.rawData.length > 0) return t.rawData;
  if (t.floatData && t.floatData.length > 0) return new Uint8Array(Float32Array.from(t.floatData).buffer);
  throw new Error(`initializer ${t.name} has no data`);
}

function floats(bytes: Uint8Array): Float32Array {
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

/**
 * The checkpoint rows [N, K] a MatMulNBits node of the compiled decoder multiplies by, from the name of its packed
 * weights: `<prefix>.weight_Q4` for one Linear, `<head>.q_proj+k_proj+v_proj.weight_Q4` for Linears fused over
 * their stacked rows, `lm_head.weight_Q4` for the tied lm_head (the embedding matrix).
 */
function sourceRows(packedName: string): { names: string[]; rows: Float32Array } {
  expect(packedName).toMatch(/\.weight_Q4$/);
  const prefix = packedName.slice(0, -'.weight_Q4'.length);
  let names: string[];
  if (prefix === 'lm_head') {
    names = ['language_model.model.embed_tokens.weight'];
  } else {
    const dot = prefix.lastIndexOf('.');
    names = prefix.slice(dot + 1).split('+').map((p) => `${prefix.slice(0, dot + 1)}${p}.weight`);
  }
  const parts = names.map((n) => {
    const w = weights.get(n);
    expect(w, `${packedName}: checkpoint tensor ${n}`).toBeDefined();
    return w!.data as Float32Array;
  });
  const rows = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    rows.set(p, at);
    at += p.length;
  }
  return { names, rows };
}

describe('the compiled q4 decoder + MatMulNBits', () => {
  it.each([32, 128] as const)('every MatMulNBits node computes x @ dequantized(W)ᵀ and stays close to x @ Wᵀ (blocks of %i)', async (blockSize) => {
    const out = join(root, `q4-b${blockSize}`);
    const manifest = await compileLlavaToFolder(source, out, { decoderPrecision: 'q4', accuracyLevel: 0, q4BlockSize: blockSize });
    const modelPath = join(out, manifest.graphs.decoder_model_merged);
    const proto = onnx.ModelProto.decode(await readFile(modelPath));
    const inits = new Map((proto.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
    const nodes = (proto.graph?.node ?? []).filter((n) => n.opType === 'MatMulNBits');
    const covered = new Set<string>();
    const rows = 3;
    const rng = new SeededRandom(5);
    for (const node of nodes) {
      const name = node.input![1]!;
      const attrs = new Map((node.attribute ?? []).map((a) => [a.name ?? '', Number(a.i)]));
      const k = attrs.get('K')!;
      const n = attrs.get('N')!;
      expect(node.domain).toBe('com.microsoft');
      expect({ bits: attrs.get('bits'), block_size: attrs.get('block_size'), accuracy_level: attrs.get('accuracy_level') }).toEqual({ bits: 4, block_size: blockSize, accuracy_level: 0 });
      const src = sourceRows(name);
      src.names.forEach((s) => covered.add(s));
      expect(src.rows.length, name).toBe(n * k);
      const blocks = Math.ceil(k / blockSize);
      const blob = blockSize / 2;
      const pwInit = inits.get(node.input![1]!)!;
      const scInit = inits.get(node.input![2]!)!;
      expect(pwInit.dims!.map(Number)).toEqual([n, blocks, blob]);
      const packed = await initializerBytes(pwInit, join(modelPath, '..'));
      const scales = floats(await initializerBytes(scInit, join(modelPath, '..')));
      expect(packed.length).toBe(n * blocks * blob);
      expect(scales.length).toBe(n * blocks);

      // What MatMulNBits should multiply by, decoded from the nibbles (low first, zero point 8) by hand.
      const deq = new Float32Array(n * k);
      let maxWeightErr = 0;
      for (let c = 0; c < n; c++) {
        for (let b = 0; b < blocks; b++) {
          let amax = 0;
          for (let i = b * blockSize; i < Math.min(k, (b + 1) * blockSize); i++) amax = Math.max(amax, Math.abs(src.rows[c * k + i]!));
          for (let i = b * blockSize; i < Math.min(k, (b + 1) * blockSize); i++) {
            const j = i - b * blockSize;
            const byte = packed[(c * blocks + b) * blob + (j >> 1)]!;
            const q = (j % 2 ? byte >> 4 : byte & 15) - 8;
            deq[c * k + i] = q * scales[c * blocks + b]!;
            // Symmetric 4 bits: every weight within half a step (max|w| / 7 / 2) of its block's largest.
            maxWeightErr = Math.max(maxWeightErr, Math.abs(deq[c * k + i]! - src.rows[c * k + i]!) - amax / 14);
          }
        }
      }
      expect(maxWeightErr, name).toBeLessThan(1e-6);

      // The node on its own, exactly as compiled (same attributes, same packed weights and scales).
      const g = new GraphBuilder('q4');
      const input = g.input('x', 'float32', [rows, k]);
      const pw = g.initializer('w', { type: 'uint8', data: Uint8Array.from(packed), dims: [n, blocks, blob] });
      const sc = g.initializer('s', { type: 'float32', data: scales, dims: [n * blocks] });
      const nodeAttrs: Record<string, AttrValue> = {};
      for (const [key, value] of attrs) nodeAttrs[key] = attr.int(value);
      const [y] = g.node('MatMulNBits', [input, pw, sc], nodeAttrs, { domain: 'com.microsoft' });
      g.output(y!, 'y', 'float32', [rows, n]);
      const x = rng.normals(rows * k, 1);
      const got = (await runModelBytes(encodeOnnxModelInline(g), { x: { type: 'float32', data: x, dims: [rows, k] } }))['y']!.data as Float32Array;
      let maxDeq = 0;
      let maxFpExcess = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < n; c++) {
          let want = 0;
          let fp = 0;
          let bound = 0;
          for (let i = 0; i < k; i++) {
            want += x[r * k + i]! * deq[c * k + i]!;
            fp += x[r * k + i]! * src.rows[c * k + i]!;
            bound += Math.abs(x[r * k + i]!) * (scales[c * blocks + Math.floor(i / blockSize)]! / 2);
          }
          maxDeq = Math.max(maxDeq, Math.abs(got[r * n + c]! - want));
          maxFpExcess = Math.max(maxFpExcess, Math.abs(got[r * n + c]! - fp) - bound);
        }
      }
      expect(maxDeq, name).toBeLessThan(1e-3);
      expect(maxFpExcess, name).toBeLessThan(1e-3);
    }
    // Every decoder Linear (q/k/v/o, gate/up/down per layer, the tied lm_head) went through MatMulNBits.
    const linears = [...weights.keys()].filter((w) => /^language_model\.model\.layers\.\d+\.(self_attn|mlp)\.\w+_proj\.weight$/.test(w) || w === 'language_model.model.embed_tokens.weight');
    expect(linears.length).toBeGreaterThan(0);
    expect([...covered].sort()).toEqual(linears.sort());
  });
});
