/**
 * A plain TypeScript BLIP forward pass in float64, written loop by loop from transformers' modeling_blip.py and
 * modeling_blip_text.py. It shares no code with the ONNX compiler, so tests can hold the compiled graphs
 * against it. Slow; for tiny models only.
 */
import type { BlipSpec } from '../src/main/core/blip/blip-config';
import type { WeightMap } from '../src/main/core/weights/weight-tensor';

type Vec = Float64Array<ArrayBuffer>;

/** erf to ~1e-15: Maclaurin series near 0, continued fraction for erfc further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x);
  // erfc(ax) by Lentz's continued fraction.
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = ax + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = ax + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

function act(name: string, x: number): number {
  switch (name) {
    case 'gelu':
    case 'gelu_python':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'relu':
      return Math.max(0, x);
    case 'silu':
    case 'swish':
      return x / (1 + Math.exp(-x));
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    default:
      throw new Error(`reference: unknown activation ${name}`);
  }
}

export class BlipReference {
  constructor(
    readonly spec: BlipSpec,
    private readonly weights: WeightMap,
  ) {}

  private w(name: string): Float32Array {
    const t = this.weights.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`reference: missing tensor ${name}`);
    return t.data;
  }

  /** y[n][out] = b + Σ x[n][in] · W[out][in] */
  private linear(x: Vec, n: number, inDim: number, prefix: string, outDim: number): Vec {
    const W = this.w(`${prefix}.weight`);
    const b = this.w(`${prefix}.bias`);
    const y = new Float64Array(n * outDim);
    for (let r = 0; r < n; r++) {
      for (let o = 0; o < outDim; o++) {
        let s = b[o] as number;
        for (let i = 0; i < inDim; i++) s += (x[r * inDim + i] as number) * (W[o * inDim + i] as number);
        y[r * outDim + o] = s;
      }
    }
    return y;
  }

  private layerNorm(x: Vec, n: number, d: number, prefix: string, eps: number): Vec {
    const g = this.w(`${prefix}.weight`);
    const b = this.w(`${prefix}.bias`);
    const y = new Float64Array(n * d);
    for (let r = 0; r < n; r++) {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x[r * d + i] as number;
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) v += ((x[r * d + i] as number) - mean) ** 2;
      v /= d;
      const inv = 1 / Math.sqrt(v + eps);
      for (let i = 0; i < d; i++) y[r * d + i] = ((x[r * d + i] as number) - mean) * inv * (g[i] as number) + (b[i] as number);
    }
    return y;
  }

  /**
   * Multi-head attention: q [nq, H·hd], k/v [nk, H·hd]; mask(i, j) additive or undefined.
   * Scores are scaled by 1/√hd (the vision model multiplies by hd^-0.5: the same value in float64).
   */
  private attention(q: Vec, k: Vec, v: Vec, nq: number, nk: number, heads: number, hd: number, mask?: (i: number, j: number) => number): Vec {
    const D = heads * hd;
    const out = new Float64Array(nq * D);
    const scores = new Float64Array(nk);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < nq; i++) {
        let max = -Infinity;
        for (let j = 0; j < nk; j++) {
          let s = 0;
          for (let e = 0; e < hd; e++) s += (q[i * D + h * hd + e] as number) * (k[j * D + h * hd + e] as number);
          s /= Math.sqrt(hd);
          if (mask) s += mask(i, j);
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j < nk; j++) {
          scores[j] = Math.exp((scores[j] as number) - max);
          sum += scores[j] as number;
        }
        for (let j = 0; j < nk; j++) {
          const p = (scores[j] as number) / sum;
          for (let e = 0; e < hd; e++) out[i * D + h * hd + e] = (out[i * D + h * hd + e] as number) + p * (v[j * D + h * hd + e] as number);
        }
      }
    }
    return out;
  }

  private add(a: Vec, b: Vec): Vec {
    const y = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) y[i] = (a[i] as number) + (b[i] as number);
    return y;
  }

  /** BlipVisionModel last_hidden_state (after post_layernorm) for one [3, S, S] image: [tokens, D]. */
  vision(pixels: Float32Array): Vec {
    const s = this.spec.vision;
    const D = s.hiddenSize;
    const P = s.patchSize;
    const S = s.imageSize;
    const g = Math.floor(S / P);
    const n = g * g + 1;
    const pre = 'vision_model.embeddings';
    const convW = this.w(`${pre}.patch_embedding.weight`);
    const convB = this.w(`${pre}.patch_embedding.bias`);
    const cls = this.w(`${pre}.class_embedding`);
    const pos = this.w(`${pre}.position_embedding`);
    let h: Vec = new Float64Array(n * D);
    for (let d = 0; d < D; d++) h[d] = (cls[d] as number) + (pos[d] as number);
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        const t = 1 + gy * g + gx;
        for (let d = 0; d < D; d++) {
          let acc = convB[d] as number;
          for (let c = 0; c < 3; c++) {
            for (let ky = 0; ky < P; ky++) {
              for (let kx = 0; kx < P; kx++) {
                acc += (convW[((d * 3 + c) * P + ky) * P + kx] as number) * (pixels[(c * S + gy * P + ky) * S + gx * P + kx] as number);
              }
            }
          }
          h[t * D + d] = acc + (pos[t * D + d] as number);
        }
      }
    }
    const heads = s.numAttentionHeads;
    const hd = D / heads;
    for (let i = 0; i < s.numHiddenLayers; i++) {
      const lp = `vision_model.encoder.layers.${i}`;
      const x = this.layerNorm(h, n, D, `${lp}.layer_norm1`, s.layerNormEps);
      const qkv = this.linear(x, n, D, `${lp}.self_attn.qkv`, 3 * D);
      const q = new Float64Array(n * D);
      const k = new Float64Array(n * D);
      const v = new Float64Array(n * D);
      for (let r = 0; r < n; r++) {
        q.set(qkv.subarray(r * 3 * D, r * 3 * D + D), r * D);
        k.set(qkv.subarray(r * 3 * D + D, r * 3 * D + 2 * D), r * D);
        v.set(qkv.subarray(r * 3 * D + 2 * D, r * 3 * D + 3 * D), r * D);
      }
      const a = this.attention(q, k, v, n, n, heads, hd);
      h = this.add(this.linear(a, n, D, `${lp}.self_attn.projection`, D), h);
      const y = this.layerNorm(h, n, D, `${lp}.layer_norm2`, s.layerNormEps);
      const f1 = this.linear(y, n, D, `${lp}.mlp.fc1`, s.intermediateSize).map((z) => act(s.hiddenAct, z));
      h = this.add(this.linear(f1, n, s.intermediateSize, `${lp}.mlp.fc2`, D), h);
    }
    return this.layerNorm(h, n, D, 'vision_model.post_layernorm', s.layerNormEps);
  }

  /**
   * One BlipTextModel pass over `ids` (a single row). Decoder mode: causal self-attention; encoder mode:
   * bidirectional with `mask` (1 keep / 0 pad). Cross-attends to `enc` [nEnc, encoderHiddenSize] with
   * `encMask`. Returns [T, D].
   */
  private textModel(prefix: string, ids: readonly number[], opts: { causal: boolean; mask?: readonly number[]; enc: Vec; encMask?: readonly number[] }): Vec {
    const s = this.spec.text;
    const D = s.hiddenSize;
    const T = ids.length;
    const heads = s.numAttentionHeads;
    const hd = D / heads;
    const E = this.w(`${prefix}.embeddings.word_embeddings.weight`);
    const Pe = this.w(`${prefix}.embeddings.position_embeddings.weight`);
    let h = new Float64Array(T * D);
    for (let t = 0; t < T; t++) {
      for (let d = 0; d < D; d++) h[t * D + d] = (E[(ids[t] as number) * D + d] as number) + (Pe[t * D + d] as number);
    }
    h = this.layerNorm(h, T, D, `${prefix}.embeddings.LayerNorm`, s.layerNormEps);
    const nEnc = opts.enc.length / s.encoderHiddenSize;
    const selfMask = opts.causal
      ? (i: number, j: number): number => (j <= i ? 0 : -10000)
      : opts.mask
        ? (_i: number, j: number): number => (1 - (opts.mask![j] as number)) * -10000
        : undefined;
    const crossMask = opts.encMask ? (_i: number, j: number): number => (1 - (opts.encMask![j] as number)) * -3.4028234663852886e38 : undefined;
    for (let i = 0; i < s.numHiddenLayers; i++) {
      const lp = `${prefix}.encoder.layer.${i}`;
      const q = this.linear(h, T, D, `${lp}.attention.self.query`, D);
      const k = this.linear(h, T, D, `${lp}.attention.self.key`, D);
      const v = this.linear(h, T, D, `${lp}.attention.self.value`, D);
      const a = this.attention(q, k, v, T, T, heads, hd, selfMask);
      h = this.layerNorm(this.add(this.linear(a, T, D, `${lp}.attention.output.dense`, D), h), T, D, `${lp}.attention.output.LayerNorm`, s.layerNormEps);
      const cq = this.linear(h, T, D, `${lp}.crossattention.self.query`, D);
      const ck = this.linear(opts.enc, nEnc, s.encoderHiddenSize, `${lp}.crossattention.self.key`, D);
      const cv = this.linear(opts.enc, nEnc, s.encoderHiddenSize, `${lp}.crossattention.self.value`, D);
      const c = this.attention(cq, ck, cv, T, nEnc, heads, hd, crossMask);
      h = this.layerNorm(this.add(this.linear(c, T, D, `${lp}.crossattention.output.dense`, D), h), T, D, `${lp}.crossattention.output.LayerNorm`, s.layerNormEps);
      const inter = this.linear(h, T, D, `${lp}.intermediate.dense`, s.intermediateSize).map((z) => act(s.hiddenAct, z));
      h = this.layerNorm(this.add(this.linear(inter, T, s.intermediateSize, `${lp}.output.dense`, D), h), T, D, `${lp}.output.LayerNorm`, s.layerNormEps);
    }
    return h;
  }

  /** BlipTextLMHeadModel logits [T, V] for one row (no cache). */
  decoderLogits(ids: readonly number[], enc: Vec, encMask?: readonly number[]): Vec {
    const s = this.spec.text;
    const D = s.hiddenSize;
    const V = s.vocabSize;
    const T = ids.length;
    const h = this.textModel('text_decoder.bert', ids, { causal: true, enc, encMask });
    const p = 'text_decoder.cls.predictions';
    let x: Vec = this.linear(h, T, D, `${p}.transform.dense`, D).map((z) => act(s.hiddenAct, z));
    x = this.layerNorm(x, T, D, `${p}.transform.LayerNorm`, s.layerNormEps);
    const E = this.weights.has(`${p}.decoder.weight`) && !s.tieWordEmbeddings ? this.w(`${p}.decoder.weight`) : this.w('text_decoder.bert.embeddings.word_embeddings.weight');
    const bias = this.w(`${p}.bias`);
    const logits = new Float64Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let vId = 0; vId < V; vId++) {
        let acc = bias[vId] as number;
        for (let d = 0; d < D; d++) acc += (x[t * D + d] as number) * (E[vId * D + d] as number);
        logits[t * V + vId] = acc;
      }
    }
    return logits;
  }

  /** BlipForQuestionAnswering's text_encoder over a question: [T, D]. */
  questionStates(ids: readonly number[], mask: readonly number[], image: Vec): Vec {
    return this.textModel('text_encoder', ids, { causal: false, mask, enc: image });
  }

  /** Greedy decoding with full recomputation each step (no cache), stopping at sep or maxLength. */
  greedy(prompt: readonly number[], enc: Vec, maxLength: number, encMask?: readonly number[]): { ids: number[]; logits: Vec[] } {
    const ids = [...prompt];
    const V = this.spec.text.vocabSize;
    const logits: Vec[] = [];
    for (;;) {
      const all = this.decoderLogits(ids, enc, encMask);
      const last = all.subarray((ids.length - 1) * V, ids.length * V);
      logits.push(Float64Array.from(last));
      let best = 0;
      for (let i = 1; i < V; i++) if ((last[i] as number) > (last[best] as number)) best = i;
      ids.push(best);
      if (best === this.spec.text.sepTokenId || ids.length >= maxLength) break;
    }
    return { ids, logits };
  }
}
