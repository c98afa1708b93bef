/** LLaVA compiler pieces: config defaults and refusals, tensor-name spellings, q4 packing, streaming writes. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { checkpointNameCandidates } from '../../src/main/core/llava-compiler/checkpoint-names';
import { parseLlavaConfig } from '../../src/main/core/llava-compiler/llava-config';
import { dequantizeRowsQ4, quantizeRowsQ4, type Q4BlockSize } from '../../src/main/core/llava-compiler/q4-quantize';
import { StreamingOnnxWriter } from '../../src/main/core/llava-compiler/streaming-onnx-writer';
import { attr, GraphBuilder } from '../../src/main/core/onnx/graph-builder';
import { encodeOnnxModelInline } from '../../src/main/core/onnx/onnx-model-writer';
import { createInferenceSession, runModelBytes } from '../../src/main/core/onnx/runtime';
import { LLAVA_15_7B_CONFIG, LLAVA_INTERLEAVE_05B_CONFIG } from '../../test-models/random-llava-hf';
import { SeededRandom } from '../../test-models/seeded-random';

/** llava-hf/llava-1.5-7b-hf's config.json as published. */
const LLAVA_15_7B = LLAVA_15_7B_CONFIG;

/** llava-hf/llava-interleave-qwen-0.5b-hf's config.json. */
const LLAVA_INTERLEAVE_05B = LLAVA_INTERLEAVE_05B_CONFIG;

const parse = (json: unknown) => parseLlavaConfig(json, 'config.json');
const withText = (extra: Record<string, unknown>) => ({ ...LLAVA_15_7B, text_config: { ...LLAVA_15_7B.text_config, ...extra } });

describe('parseLlavaConfig', () => {
  it("fills llava-1.5-7b's omitted keys with transformers' defaults", () => {
    const spec = parse(LLAVA_15_7B);
    expect(spec.vision).toEqual({ kind: 'clip', hiddenSize: 1024, intermediateSize: 4096, numHeads: 16, numLayers: 24, numChannels: 3, imageSize: 336, patchSize: 14, layerNormEps: 1e-5, hiddenAct: 'quick_gelu' });
    expect(spec.text).toEqual({
      kind: 'llama',
      hiddenSize: 4096,
      intermediateSize: 11008,
      numHeads: 32,
      numKvHeads: 32,
      headDim: 128,
      numLayers: 32,
      vocabSize: 32064,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      hiddenAct: 'silu',
      maxPositionEmbeddings: 4096,
      qkvBias: false,
      oBias: false,
      mlpBias: false,
      tiedEmbeddings: false,
    });
    expect(spec).toMatchObject({ imageTokenIndex: 32000, visionFeatureLayer: -2, visionLayersUsed: 23, featureSelectStrategy: 'default', projectorAct: 'gelu', projectorBias: true, imageTokens: 576 });
  });

  it('reads llava-interleave-qwen-0.5b (SigLIP + Qwen2, tied, every layer, no CLS)', () => {
    const spec = parse(LLAVA_INTERLEAVE_05B);
    expect(spec.vision).toMatchObject({ kind: 'siglip', hiddenSize: 1152, numLayers: 26, layerNormEps: 1e-6, hiddenAct: 'gelu_pytorch_tanh' });
    expect(spec.text).toMatchObject({ kind: 'qwen2', numKvHeads: 16, headDim: 64, ropeTheta: 1e6, qkvBias: true, oBias: false, tiedEmbeddings: true, vocabSize: 152000 });
    expect(spec).toMatchObject({ visionLayersUsed: 26, imageTokens: 729, imageTokenIndex: 151646 });
  });

  it('uses LlavaConfig defaults for an almost empty config', () => {
    const spec = parse({ model_type: 'llava' });
    expect(spec.vision).toMatchObject({ kind: 'clip', hiddenSize: 1024, numLayers: 24, imageSize: 336, patchSize: 14 });
    expect(spec.text).toMatchObject({ kind: 'llama', hiddenSize: 4096, vocabSize: 32000, rmsNormEps: 1e-6, maxPositionEmbeddings: 2048 });
    expect(spec).toMatchObject({ imageTokenIndex: 32000, visionLayersUsed: 23, imageTokens: 576 });
  });

  it('reads Llama options: GQA, attention_bias, head_dim, tied embeddings, image_token_id', () => {
    const spec = parse({ ...withText({ num_key_value_heads: 8, attention_bias: true, head_dim: 64, tie_word_embeddings: true }), image_token_index: undefined, image_token_id: 7 });
    expect(spec.text).toMatchObject({ numKvHeads: 8, headDim: 64, qkvBias: true, oBias: true, tiedEmbeddings: true });
    expect(spec.imageTokenIndex).toBe(7);
    expect(parse(withText({ rope_scaling: { rope_type: 'default' } })).text.ropeTheta).toBe(10000);
    expect(parse(withText({ rope_parameters: { rope_type: 'default', rope_theta: 500000 } })).text.ropeTheta).toBe(500000);
    expect(parse({ ...LLAVA_15_7B, vision_feature_layer: [-2] }).visionLayersUsed).toBe(23);
    expect(parse({ ...LLAVA_15_7B, vision_feature_select_strategy: 'full' }).imageTokens).toBe(577);
  });

  it.each([
    ['unknown model_type', { ...LLAVA_15_7B, model_type: 'llava_next' }, /model_type is "llava_next"/],
    ['no model_type', { vision_config: {} }, /model_type is ""/],
    ['unknown text model', withText({ model_type: 'mistral' }), /text_config.model_type "mistral"/],
    ['unknown vision model', { ...LLAVA_15_7B, vision_config: { model_type: 'dinov2' } }, /vision_config.model_type "dinov2"/],
    ['llama3 RoPE', withText({ rope_scaling: { rope_type: 'llama3', factor: 8 } }), /"llama3" RoPE scaling/],
    ['yarn RoPE', withText({ rope_parameters: { rope_type: 'yarn' } }), /"yarn" RoPE scaling/],
    ['sliding window', { ...LLAVA_INTERLEAVE_05B, text_config: { ...LLAVA_INTERLEAVE_05B.text_config, use_sliding_window: true } }, /sliding-window/],
    ['several feature layers', { ...LLAVA_15_7B, vision_feature_layer: [-2, -5] }, /concatenates several layers/],
    ['feature layer out of range', { ...LLAVA_15_7B, vision_feature_layer: -26 }, /outside the tower's 25 hidden states/],
    ['bad strategy', { ...LLAVA_15_7B, vision_feature_select_strategy: 'cls' }, /vision_feature_select_strategy "cls"/],
    ['string where a number belongs', withText({ hidden_size: 'big' }), /text_config.hidden_size must be an integer/],
    ['heads not dividing kv heads', withText({ num_key_value_heads: 5 }), /num_attention_heads \(32\) is not divisible by 5/],
    ['unknown activation', { ...LLAVA_15_7B, projector_hidden_act: 'mish' }, /projector_hidden_act must be an activation/],
    ['not an object', [1, 2], /not a JSON object/],
  ])('refuses %s with a clear error', (_label, json, message) => {
    expect(() => parse(json)).toThrow(ModelFileError);
    expect(() => parse(json)).toThrow(message);
  });
});

describe('checkpointNameCandidates', () => {
  it('accepts both the hub and the transformers ≥ 4.52 spellings', () => {
    expect(checkpointNameCandidates('language_model.model.layers.3.self_attn.q_proj.weight')).toEqual(['language_model.model.layers.3.self_attn.q_proj.weight', 'model.language_model.layers.3.self_attn.q_proj.weight']);
    expect(checkpointNameCandidates('language_model.lm_head.weight')).toEqual(['language_model.lm_head.weight', 'lm_head.weight']);
    expect(checkpointNameCandidates('vision_tower.vision_model.pre_layrnorm.weight')).toEqual(['vision_tower.vision_model.pre_layrnorm.weight', 'model.vision_tower.vision_model.pre_layrnorm.weight']);
    expect(checkpointNameCandidates('multi_modal_projector.linear_1.bias')).toEqual(['multi_modal_projector.linear_1.bias', 'model.multi_modal_projector.linear_1.bias']);
  });
});

describe('quantizeRowsQ4 + MatMulNBits', () => {
  it.each([
    [64, 32],
    [40, 32],
    [256, 128],
    [200, 128],
    [96, 16],
  ] as [number, Q4BlockSize][])('computes x · dequant(W)ᵀ from [N, K] rows (K = %i, blocks of %i)', async (k, blockSize) => {
    const [n, rows] = [24, 3];
    const rng = new SeededRandom(5);
    const w = rng.normals(n * k, 0.5);
    const x = rng.normals(rows * k, 1);
    const q = quantizeRowsQ4(w, n, k, blockSize);
    expect(q.blocks).toBe(Math.ceil(k / blockSize));
    const deq = dequantizeRowsQ4(q, n, k);
    let err = 0;
    for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs((w[i] as number) - (deq[i] as number)));
    expect(err).toBeLessThan(0.5 * 4 / 7); // half a step of the largest possible scale
    const g = new GraphBuilder('q4');
    const input = g.input('x', 'float32', [rows, k]);
    const pw = g.initializer('w', { type: 'uint8', data: q.packed, dims: [n, q.blocks, blockSize / 2] });
    const sc = g.initializer('s', { type: 'float32', data: q.scales, dims: [n * q.blocks] });
    const attrs = { K: attr.int(k), N: attr.int(n), bits: attr.int(4), block_size: attr.int(blockSize), accuracy_level: attr.int(0) };
    const [y] = g.node('MatMulNBits', [input, pw, sc], attrs, { domain: 'com.microsoft' });
    g.output(y!, 'y', 'float32', [rows, n]);
    const out = (await runModelBytes(encodeOnnxModelInline(g), { x: { type: 'float32', data: x, dims: [rows, k] } }))['y']!.data as Float32Array;
    let maxDiff = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < n; c++) {
        let want = 0;
        for (let i = 0; i < k; i++) want += (x[r * k + i] as number) * (deq[c * k + i] as number);
        maxDiff = Math.max(maxDiff, Math.abs(want - (out[r * n + c] as number)));
      }
    }
    expect(maxDiff).toBeLessThan(1e-4);
  });
});

describe('StreamingOnnxWriter', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-streaming-onnx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('moves large initializers to disk as they are added and writes a model that runs the same', async () => {
    const rng = new SeededRandom(2);
    const w1 = rng.normals(64 * 32, 1);
    const w2 = rng.normals(32 * 8, 1);
    const bias = rng.normals(8, 1);
    const build = (g: GraphBuilder) => {
      const x = g.input('x', 'float32', [2, 64]);
      return { x, g };
    };
    const inline = new GraphBuilder('mlp');
    const streamed = new GraphBuilder('mlp');
    const writer = new StreamingOnnxWriter(streamed, join(dir, 'mlp.onnx'));
    for (const g of [inline, streamed]) {
      const { x } = build(g);
      const h = g.matmul(x, g.initializer('w1', { type: 'float32', data: w1, dims: [64, 32] }));
      if (g === streamed) {
        await writer.spill();
        // the 8 KiB matrix is on disk; the graph keeps an empty placeholder
        expect(g.initializers.find((i) => i.name === 'w1')!.tensor.data.length).toBe(0);
      }
      const y = g.add(g.matmul(g.op('Relu', [h]), g.initializer('w2', { type: 'float32', data: w2, dims: [32, 8] })), g.initializer('b', { type: 'float32', data: bias, dims: [8] }));
      g.output(y, 'y', 'float32', [2, 8]);
    }
    await writer.finish('test');
    expect((await stat(join(dir, 'mlp.onnx_data'))).size).toBeGreaterThan(64 * 32 * 4);
    expect((await readFile(join(dir, 'mlp.onnx'))).byteLength).toBeLessThan(2048);
    const x = { type: 'float32' as const, data: rng.normals(128, 1), dims: [2, 64] };
    const want = (await runModelBytes(encodeOnnxModelInline(inline), { x }))['y']!.data;
    const session = await createInferenceSession(join(dir, 'mlp.onnx'), { executionProvider: 'cpu', intraOpThreads: 1 });
    try {
      const got = (await session.run({ x }))['y']!.data;
      expect(Array.from(got as Float32Array)).toEqual(Array.from(want as Float32Array));
    } finally {
      await session.dispose();
    }
  });
});
