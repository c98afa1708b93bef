/**
 * BlipForImageTextRetrieval's forward pass in plain float64, written loop by loop from transformers'
 * modeling_blip.py (BlipForImageTextRetrieval.forward with use_itm_head False and True) and
 * modeling_blip_text.py (BlipTextModel as an encoder: padding mask (1 − m)·−10000, cross-attention only when
 * encoder_hidden_states is given). It shares no code with the ONNX compiler; the vision tower is
 * blip-reference.ts's, which does not either. Slow; for tiny models only.
 */
import type { BlipSpec } from '../src/main/core/blip/blip-config';
import type { WeightMap } from '../src/main/core/weights/weight-tensor';
import { BlipReference, erf } from './blip-reference';

type Vec = Float64Array<ArrayBuffer>;

function gelu(name: string, x: number): number {
  if (name === 'gelu' || name === 'gelu_python') return 0.5 * x * (1 + erf(x / Math.SQRT2));
  throw new Error(`retrieval reference: activation ${name} is not implemented`);
}

export class BlipRetrievalReference {
  private readonly vision: BlipReference;

  constructor(
    readonly spec: BlipSpec,
    private readonly weights: WeightMap,
    readonly imageTextHiddenSize: number,
  ) {
    this.vision = new BlipReference(spec, weights);
  }

  private w(name: string): Float32Array {
    const t = this.weights.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw new Error(`retrieval reference: missing tensor ${name}`);
    return t.data;
  }

  /** rows × in → rows × out with nn.Linear's [out, in] weight. */
  private linear(x: Vec, rows: number, inDim: number, prefix: string, outDim: number): Vec {
    const W = this.w(`${prefix}.weight`);
    const b = this.w(`${prefix}.bias`);
    const y = new Float64Array(rows * outDim);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outDim; o++) {
        let s = b[o] as number;
        for (let i = 0; i < inDim; i++) s += (x[r * inDim + i] as number) * (W[o * inDim + i] as number);
        y[r * outDim + o] = s;
      }
    }
    return y;
  }

  /** LayerNorm(a + b) over rows of width d. */
  private addNorm(a: Vec, b: Vec | undefined, rows: number, d: number, prefix: string): Vec {
    const g = this.w(`${prefix}.weight`);
    const beta = this.w(`${prefix}.bias`);
    const eps = this.spec.text.layerNormEps;
    const y = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) {
      const row = Array.from({ length: d }, (_, i) => (a[r * d + i] as number) + (b ? (b[r * d + i] as number) : 0));
      const mean = row.reduce((s, v) => s + v, 0) / d;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / d;
      const inv = 1 / Math.sqrt(variance + eps);
      for (let i = 0; i < d; i++) y[r * d + i] = ((row[i] as number) - mean) * inv * (g[i] as number) + (beta[i] as number);
    }
    return y;
  }

  /** BlipTextSelfAttention + BlipTextSelfOutput: softmax(q·kᵀ/√hd + mask)·v, dense, LayerNorm(+ input). */
  private attention(prefix: string, x: Vec, T: number, kv: Vec, nKv: number, kvDim: number, mask: (j: number) => number): Vec {
    const D = this.spec.text.hiddenSize;
    const heads = this.spec.text.numAttentionHeads;
    const hd = D / heads;
    const q = this.linear(x, T, D, `${prefix}.self.query`, D);
    const k = this.linear(kv, nKv, kvDim, `${prefix}.self.key`, D);
    const v = this.linear(kv, nKv, kvDim, `${prefix}.self.value`, D);
    const ctx = new Float64Array(T * D);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: nKv }, (_, j) => {
          let s = 0;
          for (let e = 0; e < hd; e++) s += (q[i * D + h * hd + e] as number) * (k[j * D + h * hd + e] as number);
          return s / Math.sqrt(hd) + mask(j);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < nKv; j++) {
          const p = (exps[j] as number) / sum;
          for (let e = 0; e < hd; e++) ctx[i * D + h * hd + e] = (ctx[i * D + h * hd + e] as number) + p * (v[j * D + h * hd + e] as number);
        }
      }
    }
    return this.addNorm(this.linear(ctx, T, D, `${prefix}.output.dense`, D), x, T, D, `${prefix}.output.LayerNorm`);
  }

  /** text_encoder's last hidden state at token 0 for one row; `image` [nImg, Dv] turns cross-attention on. */
  private textCls(ids: readonly number[], mask: readonly number[], image?: Vec): Vec {
    const s = this.spec.text;
    const D = s.hiddenSize;
    const T = ids.length;
    const E = this.w('text_encoder.embeddings.word_embeddings.weight');
    const P = this.w('text_encoder.embeddings.position_embeddings.weight');
    const emb = new Float64Array(T * D);
    for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) emb[t * D + d] = (E[(ids[t] as number) * D + d] as number) + (P[t * D + d] as number);
    let h = this.addNorm(emb, undefined, T, D, 'text_encoder.embeddings.LayerNorm');
    const padMask = (j: number): number => (1 - (mask[j] as number)) * -10000;
    for (let i = 0; i < s.numHiddenLayers; i++) {
      const lp = `text_encoder.encoder.layer.${i}`;
      h = this.attention(`${lp}.attention`, h, T, h, T, D, padMask);
      if (image) h = this.attention(`${lp}.crossattention`, h, T, image, image.length / s.encoderHiddenSize, s.encoderHiddenSize, () => 0);
      const inter = this.linear(h, T, D, `${lp}.intermediate.dense`, s.intermediateSize).map((z) => gelu(s.hiddenAct, z));
      h = this.addNorm(this.linear(inter, T, s.intermediateSize, `${lp}.output.dense`, D), h, T, D, `${lp}.output.LayerNorm`);
    }
    return h.slice(0, D);
  }

  /** torch.nn.functional.normalize: x / max(‖x‖, 1e-12). */
  private normalize(x: Vec): Vec {
    const n = Math.max(Math.sqrt(x.reduce((a, v) => a + v * v, 0)), 1e-12);
    return x.map((v) => v / n);
  }

  /** BlipVisionModel last_hidden_state for one [3, S, S] image: [tokens, Dv]. */
  imageEmbeds(pixels: Float32Array): Vec {
    return this.vision.vision(pixels);
  }

  /** normalize(vision_proj(image_embeds[0])) */
  imageFeature(embeds: Vec): Vec {
    const Dv = this.spec.vision.hiddenSize;
    return this.normalize(this.linear(embeds.slice(0, Dv), 1, Dv, 'vision_proj', this.imageTextHiddenSize));
  }

  /** normalize(text_proj(text_encoder(ids, mask)[0])), no cross-attention. Padding rows: mask 0. */
  textFeature(ids: readonly number[], mask: readonly number[] = ids.map(() => 1)): Vec {
    const cls = this.textCls(ids, mask);
    return this.normalize(this.linear(cls, 1, this.spec.text.hiddenSize, 'text_proj', this.imageTextHiddenSize));
  }

  /** itm_head(text_encoder(ids, mask, image_embeds)[0]): [not matching, matching]. */
  itmLogits(ids: readonly number[], embeds: Vec, mask: readonly number[] = ids.map(() => 1)): Vec {
    return this.linear(this.textCls(ids, mask, embeds), 1, this.spec.text.hiddenSize, 'itm_head', 2);
  }

  /** softmax(itm logits)[1] */
  itmProbability(ids: readonly number[], embeds: Vec, mask?: readonly number[]): number {
    const [a, b] = this.itmLogits(ids, embeds, mask) as unknown as [number, number];
    return 1 / (1 + Math.exp(a - b));
  }
}
