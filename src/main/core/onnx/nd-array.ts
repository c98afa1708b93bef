/**
 * Plain typed-array tensors that cross module boundaries. Graph building and inference both speak this
 * type so that no caller needs onnx-proto or onnxruntime types.
 */
export type NdFloat32 = { type: 'float32'; data: Float32Array; dims: number[] };
export type NdInt64 = { type: 'int64'; data: BigInt64Array; dims: number[] };
export type NdInt32 = { type: 'int32'; data: Int32Array; dims: number[] };
export type NdInt8 = { type: 'int8'; data: Int8Array; dims: number[] };
export type NdUint8 = { type: 'uint8'; data: Uint8Array; dims: number[] };
export type NdBool = { type: 'bool'; data: Uint8Array; dims: number[] };
/** float16 values kept as their raw 16-bit patterns. */
export type NdFloat16 = { type: 'float16'; data: Uint16Array; dims: number[] };

export type NdArray = NdFloat32 | NdInt64 | NdInt32 | NdInt8 | NdUint8 | NdBool | NdFloat16;
export type NdType = NdArray['type'];

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function float32(data: Float32Array, dims: number[]): NdFloat32 {
  assertSize(data.length, dims);
  return { type: 'float32', data, dims };
}

export function int64(values: BigInt64Array | readonly number[], dims: number[]): NdInt64 {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(values, (v) => BigInt(v));
  assertSize(data.length, dims);
  return { type: 'int64', data, dims };
}

function assertSize(length: number, dims: readonly number[]): void {
  if (length !== elementCount(dims)) {
    throw new RangeError(`tensor data has ${length} elements but dims [${dims.join(', ')}] need ${elementCount(dims)}`);
  }
}
