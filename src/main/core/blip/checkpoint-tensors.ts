import { ModelFileError } from '../errors';
import type { WeightMap } from '../weights/weight-tensor';

/**
 * Typed access to a checkpoint: every read names the tensor and checks its shape, so a wrong or truncated
 * checkpoint fails with the tensor's name instead of producing garbage.
 */
export class CheckpointTensors {
  constructor(
    private readonly weights: WeightMap,
    /** the checkpoint file, for error messages */
    readonly file: string,
  ) {}

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /** TF-era BERT checkpoints name LayerNorm parameters gamma/beta; transformers renames them on load too. */
  private resolve(name: string): string | undefined {
    if (this.weights.has(name)) return name;
    const alias = name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    return alias !== name && this.weights.has(alias) ? alias : undefined;
  }

  names(): Set<string> {
    return new Set(this.weights.keys());
  }

  /** The tensor as float32, after checking it exists with exactly `shape`. */
  float(name: string, shape: readonly number[]): Float32Array {
    const key = this.resolve(name);
    const t = key === undefined ? undefined : this.weights.get(key);
    if (!t) throw new ModelFileError(this.file, `The checkpoint ${this.file} has no tensor ${name} (expected shape [${shape.join(', ')}]).`);
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new ModelFileError(
        this.file,
        `Tensor ${name} in ${this.file} has shape [${t.shape.join(', ')}] but the config needs [${shape.join(', ')}].`,
      );
    }
    if (!(t.data instanceof Float32Array)) {
      throw new ModelFileError(this.file, `Tensor ${name} in ${this.file} is ${t.storedDType}, not a floating-point tensor.`);
    }
    // The readers guarantee this; checking here keeps a reader bug from becoming out-of-bounds graph weights.
    const count = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new ModelFileError(this.file, `Tensor ${name} in ${this.file} holds ${t.data.length} values, not the ${count} its shape needs.`);
    }
    return t.data;
  }
}
