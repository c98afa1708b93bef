import type { NdArray, NdType } from './nd-array';
import { elementCount } from './nd-array';

/** A dimension is either fixed or a symbolic name shared between inputs and outputs (e.g. 'batch'). */
export type Dim = number | string;

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'string'; value: string };

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
};

export interface ValueSpec {
  name: string;
  type: NdType;
  /** undefined: rank unknown (left to onnxruntime's shape inference) */
  dims: readonly Dim[] | undefined;
}

export interface NodeSpec {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttrValue>;
}

export interface InitializerSpec {
  name: string;
  tensor: NdArray;
}

/**
 * Collects a graph as plain data; `onnx-model-writer.ts` turns it into protobuf. Values are referred to by
 * name. Op helpers cover what the BLIP graphs need; `node()` reaches any other op.
 */
export class GraphBuilder {
  readonly inputs: ValueSpec[] = [];
  readonly outputs: ValueSpec[] = [];
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  /** extra opset domains used by nodes, e.g. com.microsoft for contrib ops. */
  readonly extraOpsets = new Map<string, number>();
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(
    readonly name: string,
    readonly opset = 17,
  ) {}

  /** A fresh value name derived from `hint`; names stay readable in error messages and profiles. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph ${this.name}: value name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  input(name: string, type: NdType, dims: readonly Dim[]): string {
    this.inputs.push({ name: this.claim(name), type, dims });
    return name;
  }

  /** Declares `value` as a graph output called `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, type: NdType, dims?: readonly Dim[]): string {
    if (value !== name) {
      this.claim(name);
      this.nodes.push({ opType: 'Identity', domain: '', name: `${name}_out`, inputs: [value], outputs: [name], attributes: {} });
    }
    this.outputs.push({ name, type, dims });
    return name;
  }

  initializer(name: string, tensor: NdArray): string {
    if (tensor.data.length !== elementCount(tensor.dims)) {
      throw new Error(`initializer ${name}: ${tensor.data.length} values for dims [${tensor.dims.join(', ')}]`);
    }
    this.initializers.push({ name: this.claim(name), tensor });
    return name;
  }

  /** Small constants are deduplicated by value so repeated shapes/scalars share one initializer. */
  constant(tensor: NdArray, hint = 'const'): string {
    const key = `${tensor.type}|${tensor.dims.join(',')}|${Array.from(tensor.data as ArrayLike<number | bigint>, String).join(',')}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const name = this.fresh(hint);
    this.initializers.push({ name, tensor });
    this.constants.set(key, name);
    return name;
  }

  scalarFloat(value: number): string {
    return this.constant({ type: 'float32', data: new Float32Array([value]), dims: [] }, 'scalar_f');
  }

  scalarInt64(value: number): string {
    return this.constant({ type: 'int64', data: new BigInt64Array([BigInt(value)]), dims: [] }, 'scalar_i');
  }

  int64s(values: readonly number[]): string {
    return this.constant({ type: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)), dims: [values.length] }, 'ints');
  }

  floats(values: readonly number[], dims: number[] = [values.length]): string {
    return this.constant({ type: 'float32', data: Float32Array.from(values), dims }, 'floats');
  }

  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttrValue> = {},
    options: { outputs?: number | readonly string[]; name?: string; domain?: string } = {},
  ): string[] {
    const hint = options.name ?? opType.toLowerCase();
    const outs = options.outputs ?? 1;
    const outputs = typeof outs === 'number' ? Array.from({ length: outs }, (_, i) => this.fresh(outs === 1 ? hint : `${hint}_${i}`)) : outs.map((o) => this.claim(o));
    const domain = options.domain ?? '';
    if (domain && !this.extraOpsets.has(domain)) this.extraOpsets.set(domain, 1);
    this.nodes.push({ opType, domain, name: this.fresh(`${hint}_node`), inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  /** Single-output convenience over `node`. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttrValue> = {}, name?: string): string {
    const [out] = this.node(opType, inputs, attributes, { name });
    return out as string;
  }

  add(a: string, b: string, name?: string): string {
    return this.op('Add', [a, b], {}, name);
  }
  sub(a: string, b: string, name?: string): string {
    return this.op('Sub', [a, b], {}, name);
  }
  mul(a: string, b: string, name?: string): string {
    return this.op('Mul', [a, b], {}, name);
  }
  div(a: string, b: string, name?: string): string {
    return this.op('Div', [a, b], {}, name);
  }
  matmul(a: string, b: string, name?: string): string {
    return this.op('MatMul', [a, b], {}, name);
  }
  sqrt(x: string): string {
    return this.op('Sqrt', [x]);
  }
  erf(x: string): string {
    return this.op('Erf', [x]);
  }
  tanh(x: string): string {
    return this.op('Tanh', [x]);
  }
  sigmoid(x: string): string {
    return this.op('Sigmoid', [x]);
  }
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  softmax(x: string, axis = -1, name?: string): string {
    return this.op('Softmax', [x], { axis: attr.int(axis) }, name);
  }
  /** Opset-17 LayerNormalization over the last axis. */
  layerNormalization(x: string, scale: string, bias: string, epsilon: number, name?: string): string {
    return this.op('LayerNormalization', [x, scale, bias], { axis: attr.int(-1), epsilon: attr.float(epsilon) }, name);
  }
  gemm(a: string, b: string, c: string | undefined, opts: { transA?: boolean; transB?: boolean } = {}, name?: string): string {
    const attrs: Record<string, AttrValue> = {};
    if (opts.transA) attrs.transA = attr.int(1);
    if (opts.transB) attrs.transB = attr.int(1);
    return this.op('Gemm', c ? [a, b, c] : [a, b], attrs, name);
  }
  conv(x: string, w: string, b: string | undefined, opts: { strides: number[]; kernelShape: number[]; pads?: number[] }, name?: string): string {
    const attrs: Record<string, AttrValue> = { strides: attr.ints(opts.strides), kernel_shape: attr.ints(opts.kernelShape) };
    if (opts.pads) attrs.pads = attr.ints(opts.pads);
    return this.op('Conv', b ? [x, w, b] : [x, w], attrs, name);
  }
  /** `shape` is either a constant (0 copies the input dim, -1 infers) or a value holding an int64 vector. */
  reshape(x: string, shape: readonly number[] | string, name?: string): string {
    const s = typeof shape === 'string' ? shape : this.int64s(shape);
    return this.op('Reshape', [x, s], {}, name);
  }
  transpose(x: string, perm: readonly number[], name?: string): string {
    return this.op('Transpose', [x], { perm: attr.ints(perm) }, name);
  }
  concat(xs: readonly string[], axis: number, name?: string): string {
    return this.op('Concat', xs, { axis: attr.int(axis) }, name);
  }
  gather(data: string, indices: string, axis = 0, name?: string): string {
    return this.op('Gather', [data, indices], { axis: attr.int(axis) }, name);
  }
  slice(x: string, starts: readonly number[] | string, ends: readonly number[] | string, axes: readonly number[], name?: string): string {
    const s = typeof starts === 'string' ? starts : this.int64s(starts);
    const e = typeof ends === 'string' ? ends : this.int64s(ends);
    return this.op('Slice', [x, s, e, this.int64s(axes)], {}, name);
  }
  unsqueeze(x: string, axes: readonly number[], name?: string): string {
    return this.op('Unsqueeze', [x, this.int64s(axes)], {}, name);
  }
  squeeze(x: string, axes: readonly number[], name?: string): string {
    return this.op('Squeeze', [x, this.int64s(axes)], {}, name);
  }
  where(cond: string, a: string, b: string, name?: string): string {
    return this.op('Where', [cond, a, b], {}, name);
  }
  expand(x: string, shape: string, name?: string): string {
    return this.op('Expand', [x, shape], {}, name);
  }
  shape(x: string, name?: string): string {
    return this.op('Shape', [x], {}, name);
  }
  /** One dimension of `x` as a 1-element int64 vector. */
  dim(x: string, axis: number): string {
    return this.slice(this.shape(x), [axis], [axis + 1], [0]);
  }
  cast(x: string, to: NdType, name?: string): string {
    return this.op('Cast', [x], { to: attr.int(onnxDataType(to)) }, name);
  }
  range(start: string, limit: string, delta: string, name?: string): string {
    return this.op('Range', [start, limit, delta], {}, name);
  }
  lessOrEqual(a: string, b: string): string {
    return this.op('LessOrEqual', [a, b]);
  }
}

/** ONNX TensorProto.DataType codes. */
export function onnxDataType(type: NdType): number {
  switch (type) {
    case 'float32':
      return 1;
    case 'uint8':
      return 2;
    case 'int8':
      return 3;
    case 'int32':
      return 6;
    case 'int64':
      return 7;
    case 'bool':
      return 9;
    case 'float16':
      return 10;
  }
}
