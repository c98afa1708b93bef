/** A named tensor read from a checkpoint (safetensors or PyTorch .bin), always widened to float32 or int64. */
export type WeightDType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'float64';

export interface WeightTensor {
  /** dtype as stored in the file (before widening). */
  storedDType: WeightDType;
  shape: number[];
  /** float tensors widen to Float32Array; integer ones to BigInt64Array / Int32Array as stored. */
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export type WeightMap = Map<string, WeightTensor>;
