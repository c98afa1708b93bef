/**
 * LLaVA in plain float64 loops, written from transformers' formulas (CLIPVisionTransformer /
 * SiglipVisionTransformer hidden states, LlavaMultiModalProjector, LlamaModel / Qwen2Model), independently of
 * the ONNX graph code, so tests can check the compiled graphs against it. Slow, and only for tiny models.
 * Weights are read with the weights/ loaders, by their llava-hf hub names.
 */
import { loadCheckpoint } from '../src/main/core/weights/load-checkpoint';
import type { TinyLlavaHfShape } from './tiny-llava-hf';

type Vec = Float64Array;

/** erf to ~1e-15: Taylor series near 0, a continued fraction for erfc further out. */
export function erf(x: number): number {
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 80; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    let t = 0;
    for (let n = 60; n >= 1; n--) t = n / 2 / (z + t);
    r = 1 - Math.exp(-z * z) / Math.sqrt(Math.PI) / (z + t);
  }
  return x < 0 ? -r : r;
}

function act(name: string, x: number): number {
  switch (name) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_pytorch_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case 'quick_gelu':
      return x / (1 + Math.exp(-1.702 * x));
    case 'silu':
      return x / (1 + Math.exp(-x));
    default:
      throw new Error(`reference: no activation ${name}`);
  }
}

export class LlavaReference {
  private constructor(
    private readonly w: Map<string, Float64Array>,
    private readonly shapes: Map<string, number[]>,
    readonly shape: TinyLlavaHfShape,
    readonly vocab: number,
  ) {}

  static async load(dir: string, shape: TinyLlavaHfShape, vocab: number): Promise<LlavaReference> {
    const { weights } = await loadCheckpoint(dir);
    const w = new Map<string, Float64Array>();
    const shapes = new Map<string, number[]>();
    for (const [name, t] of weights) {
      w.set(name, Float64Array.from(t.data as Float32Array));
      shapes.set(name, t.shape);
    }
    return new LlavaReference(w, shapes, shape, vocab);
  }

  /** A copy whose weights pass through `fn` (e.g. quantise-dequantise, to model a quantised graph exactly). */
  mapWeights(fn: (name: string, data: Float64Array, shape: readonly number[]) => Float64Array): LlavaReference {
    const w = new Map<string, Float64Array>();
    for (const [name, data] of this.w) w.set(name, fn(name, data, this.shapes.get(name)!));
    return new LlavaReference(w, this.shapes, this.shape, this.vocab);
  }

  private get(name: string): Float64Array {
    const t = this.w.get(name);
    if (!t) throw new Error(`reference: no tensor ${name}`);
    return t;
  }

  /** y = x · Wᵀ + b for W [out, in] stored row-major. */
  private linear(x: Vec, name: string, out: number, bias: boolean): Vec {
    const W = this.get(`${name}.weight`);
    const inp = x.length;
    const b = bias ? this.get(`${name}.bias`) : undefined;
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let s = b ? (b[o] as number) : 0;
      for (let i = 0; i < inp; i++) s += (W[o * inp + i] as number) * (x[i] as number);
      y[o] = s;
    }
    return y;
  }

  private layerNorm(x: Vec, name: string, eps: number): Vec {
    const g = this.get(`${name}.weight`);
    const b = this.get(`${name}.bias`);
    const n = x.length;
    let mean = 0;
    for (const v of x) mean += v;
    mean /= n;
    let variance = 0;
    for (const v of x) variance += (v - mean) ** 2;
    variance /= n;
    const inv = 1 / Math.sqrt(variance + eps);
    return x.map((v, i) => (v - mean) * inv * (g[i] as number) + (b[i] as number));
  }

  private rmsNorm(x: Vec, name: string, eps: number): Vec {
    const g = this.get(name);
    let ms = 0;
    for (const v of x) ms += v * v;
    ms /= x.length;
    const inv = 1 / Math.sqrt(ms + eps);
    return x.map((v, i) => (g[i] as number) * v * inv);
  }

  /** Multi-head attention of `q` rows over `k`/`v` rows; `visible(i, j)` says whether query i sees key j. */
  private attend(q: Vec[], k: Vec[], v: Vec[], heads: number, kvHeads: number, hd: number, visible: (i: number, j: number) => boolean): Vec[] {
    const rep = heads / kvHeads;
    return q.map((qi, i) => {
      const out = new Float64Array(heads * hd);
      for (let h = 0; h < heads; h++) {
        const kh = Math.floor(h / rep);
        const scores: number[] = [];
        for (let j = 0; j < k.length; j++) {
          if (!visible(i, j)) {
            scores.push(-Infinity);
            continue;
          }
          let s = 0;
          for (let d = 0; d < hd; d++) s += (qi[h * hd + d] as number) * (k[j]![kh * hd + d] as number);
          scores.push(s / Math.sqrt(hd));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < k.length; j++) {
          const p = (e[j] as number) / z;
          if (p === 0) continue;
          for (let d = 0; d < hd; d++) out[h * hd + d] = (out[h * hd + d] as number) + p * (v[j]![kh * hd + d] as number);
        }
      }
      return out;
    });
  }

  /** Projected image features [tokens][text_hidden] for one image given as normalised pixels [3, H, W]. */
  imageFeatures(pixels: Float32Array): Vec[] {
    const v = this.shape.vision;
    const D = v.hidden;
    const P = v.patchSize;
    const S = v.imageSize;
    const grid = Math.floor(S / P);
    const vp = 'vision_tower.vision_model';
    const conv = this.get(`${vp}.embeddings.patch_embedding.weight`);
    const convBias = v.kind === 'siglip' ? this.get(`${vp}.embeddings.patch_embedding.bias`) : undefined;
    let x: Vec[] = [];
    if (v.kind === 'clip') x.push(Float64Array.from(this.get(`${vp}.embeddings.class_embedding`)));
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const e = new Float64Array(D);
        for (let d = 0; d < D; d++) {
          let s = convBias ? (convBias[d] as number) : 0;
          for (let c = 0; c < 3; c++) {
            for (let ky = 0; ky < P; ky++) {
              for (let kx = 0; kx < P; kx++) {
                s += (conv[((d * 3 + c) * P + ky) * P + kx] as number) * (pixels[(c * S + gy * P + ky) * S + gx * P + kx] as number);
              }
            }
          }
          e[d] = s;
        }
        x.push(e);
      }
    }
    const pos = this.get(`${vp}.embeddings.position_embedding.weight`);
    x = x.map((row, t) => row.map((val, d) => val + (pos[t * D + d] as number)));
    if (v.kind === 'clip') x = x.map((row) => this.layerNorm(row, `${vp}.pre_layrnorm`, v.eps));
    const states = v.layers + 1;
    const used = this.shape.featureLayer < 0 ? states + this.shape.featureLayer : this.shape.featureLayer;
    const hd = D / v.heads;
    for (let l = 0; l < used; l++) {
      const p = `${vp}.encoder.layers.${l}`;
      const h = x.map((row) => this.layerNorm(row, `${p}.layer_norm1`, v.eps));
      const q = h.map((row) => this.linear(row, `${p}.self_attn.q_proj`, D, true));
      const k = h.map((row) => this.linear(row, `${p}.self_attn.k_proj`, D, true));
      const val = h.map((row) => this.linear(row, `${p}.self_attn.v_proj`, D, true));
      const ctx = this.attend(q, k, val, v.heads, v.heads, hd, () => true);
      x = x.map((row, t) => {
        const o = this.linear(ctx[t]!, `${p}.self_attn.out_proj`, D, true);
        return row.map((a, d) => a + (o[d] as number));
      });
      x = x.map((row) => {
        const h2 = this.layerNorm(row, `${p}.layer_norm2`, v.eps);
        const f = this.linear(h2, `${p}.mlp.fc1`, v.intermediate, true).map((a) => act(v.act, a));
        const o = this.linear(f, `${p}.mlp.fc2`, D, true);
        return row.map((a, d) => a + (o[d] as number));
      });
    }
    const selected = this.shape.strategy === 'default' ? x.slice(1) : x;
    const T = this.shape.text.hidden;
    return selected.map((row) => this.linear(this.linear(row, 'multi_modal_projector.linear_1', T, true).map((a) => act('gelu', a)), 'multi_modal_projector.linear_2', T, true));
  }

  embed(ids: readonly number[]): Vec[] {
    const H = this.shape.text.hidden;
    const table = this.get('language_model.model.embed_tokens.weight');
    return ids.map((id) => table.slice(id * H, (id + 1) * H));
  }

  /** Logits [s][vocab] for input embeddings at positions 0…s−1, every token attending causally. */
  logits(embeds: readonly Vec[]): Vec[] {
    const t = this.shape.text;
    const H = t.hidden;
    const hd = H / t.heads;
    const tp = 'language_model.model';
    const rope = (row: Vec, heads: number, pos: number): Vec => {
      const out = Float64Array.from(row);
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < hd / 2; i++) {
          const angle = pos * t.ropeTheta ** ((-2 * i) / hd);
          const a = row[h * hd + i] as number;
          const b = row[h * hd + i + hd / 2] as number;
          out[h * hd + i] = a * Math.cos(angle) - b * Math.sin(angle);
          out[h * hd + i + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
        }
      }
      return out;
    };
    const qkvBias = t.kind === 'qwen2';
    let x = embeds.map((e) => Float64Array.from(e));
    for (let l = 0; l < t.layers; l++) {
      const p = `${tp}.layers.${l}`;
      const h = x.map((row) => this.rmsNorm(row, `${p}.input_layernorm.weight`, t.eps));
      const q = h.map((row, i) => rope(this.linear(row, `${p}.self_attn.q_proj`, t.heads * hd, qkvBias), t.heads, i));
      const k = h.map((row, i) => rope(this.linear(row, `${p}.self_attn.k_proj`, t.kvHeads * hd, qkvBias), t.kvHeads, i));
      const v = h.map((row) => this.linear(row, `${p}.self_attn.v_proj`, t.kvHeads * hd, qkvBias));
      const ctx = this.attend(q, k, v, t.heads, t.kvHeads, hd, (i, j) => j <= i);
      x = x.map((row, i) => {
        const o = this.linear(ctx[i]!, `${p}.self_attn.o_proj`, H, false);
        return row.map((a, d) => a + (o[d] as number));
      });
      x = x.map((row) => {
        const h2 = this.rmsNorm(row, `${p}.post_attention_layernorm.weight`, t.eps);
        const gate = this.linear(h2, `${p}.mlp.gate_proj`, t.intermediate, false);
        const up = this.linear(h2, `${p}.mlp.up_proj`, t.intermediate, false);
        const o = this.linear(gate.map((g, i) => act('silu', g) * (up[i] as number)), `${p}.mlp.down_proj`, H, false);
        return row.map((a, d) => a + (o[d] as number));
      });
    }
    const head = t.tied ? 'language_model.model.embed_tokens' : 'language_model.lm_head';
    return x.map((row) => this.linear(this.rmsNorm(row, `${tp}.norm.weight`, t.eps), head, this.vocab, false));
  }
}
