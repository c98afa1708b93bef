import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import onnxProto from 'onnx-proto';
import type { AttrValue, Dim, GraphBuilder, ValueSpec } from './graph-builder';
import { onnxDataType } from './graph-builder';
import type { NdArray } from './nd-array';

const { onnx } = onnxProto;

/** IR 8 is the newest onnx-proto v8 knows and covers opset 17 (LayerNormalization). */
const IR_VERSION = 8;

export interface WriteModelOptions {
  /** Initializers at least this many bytes go to the external data file; smaller ones stay inline. */
  externalThresholdBytes?: number;
  /** Offsets of external tensors are multiples of this, so onnxruntime can map them directly. */
  alignment?: number;
  docString?: string;
}

export interface WrittenModel {
  modelPath: string;
  dataPath: string | undefined;
  modelBytes: number;
  dataBytes: number;
}

function bytesOf(t: NdArray): Uint8Array {
  const d = t.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function attributeProto(name: string, a: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int':
      return onnx.AttributeProto.create({ name, type: T.INT, i: a.value });
    case 'float':
      return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.value });
    case 'ints':
      return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...a.value] });
    case 'floats':
      return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...a.value] });
    case 'string':
      return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.value) });
  }
}

function valueInfo(v: ValueSpec): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: {
      tensorType: {
        elemType: onnxDataType(v.type),
        ...(v.dims ? { shape: { dim: v.dims.map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    },
  });
}

interface ExternalChunk {
  offset: number;
  bytes: Uint8Array;
}

/**
 * Encodes the graph. With `externalFile`, large initializers are referenced by offset into that file and
 * returned as chunks for the caller to write; without it everything is inline (only for small graphs: a
 * protobuf message cannot exceed 2 GB).
 */
export function encodeOnnxModel(
  graph: GraphBuilder,
  options: WriteModelOptions & { externalFile?: string } = {},
): { model: Uint8Array; chunks: ExternalChunk[]; dataBytes: number } {
  const threshold = options.externalThresholdBytes ?? 1024;
  const alignment = options.alignment ?? 4096;
  const chunks: ExternalChunk[] = [];
  let dataBytes = 0;

  const initializer = graph.initializers.map(({ name, tensor }) => {
    const bytes = bytesOf(tensor);
    const base = { name, dims: [...tensor.dims], dataType: onnxDataType(tensor.type) };
    if (options.externalFile && bytes.byteLength >= threshold) {
      const offset = Math.ceil(dataBytes / alignment) * alignment;
      chunks.push({ offset, bytes });
      dataBytes = offset + bytes.byteLength;
      return onnx.TensorProto.create({
        ...base,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: options.externalFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.byteLength) },
        ],
      });
    }
    // raw_data must be its own copy: protobufjs keeps a reference to the view otherwise.
    return onnx.TensorProto.create({ ...base, rawData: bytes.slice() });
  });

  const opsetImport = [{ domain: '', version: graph.opset }, ...[...graph.extraOpsets].map(([domain, version]) => ({ domain, version }))];
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'tandem',
    producerVersion: '1',
    docString: options.docString ?? '',
    opsetImport,
    graph: onnx.GraphProto.create({
      name: graph.name,
      node: graph.nodes.map((n) =>
        onnx.NodeProto.create({
          name: n.name,
          opType: n.opType,
          domain: n.domain,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attributes).map(([k, v]) => attributeProto(k, v)),
        }),
      ),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
      initializer,
    }),
  });
  return { model: onnx.ModelProto.encode(model).finish(), chunks, dataBytes };
}

/** Everything inline, for small graphs built in tests; onnxruntime can load the bytes directly. */
export function encodeOnnxModelInline(graph: GraphBuilder): Uint8Array {
  return encodeOnnxModel(graph).model;
}

/**
 * Writes `<modelPath>` and, when any initializer is large, `<modelPath>.data` next to it. Bytes depend only
 * on the graph, so the same weights always give the same files.
 */
export async function writeOnnxModel(graph: GraphBuilder, modelPath: string, options: WriteModelOptions = {}): Promise<WrittenModel> {
  const dataPath = `${modelPath}.data`;
  const { model, chunks, dataBytes } = encodeOnnxModel(graph, { ...options, externalFile: basename(dataPath) });
  const mf = await open(modelPath, 'w');
  try {
    await mf.writeFile(model);
  } finally {
    await mf.close();
  }
  if (chunks.length === 0) return { modelPath, dataPath: undefined, modelBytes: model.byteLength, dataBytes: 0 };
  const df = await open(dataPath, 'w');
  try {
    let pos = 0;
    const zeros = new Uint8Array(options.alignment ?? 4096);
    for (const c of chunks) {
      if (c.offset > pos) {
        await df.write(zeros, 0, c.offset - pos, pos);
        pos = c.offset;
      }
      // Large typed arrays are written in slices: fs writes are capped at 2 GB per call.
      const step = 1 << 28;
      for (let i = 0; i < c.bytes.byteLength; i += step) {
        const part = c.bytes.subarray(i, Math.min(i + step, c.bytes.byteLength));
        await df.write(part, 0, part.byteLength, pos);
        pos += part.byteLength;
      }
    }
  } finally {
    await df.close();
  }
  return { modelPath, dataPath, modelBytes: model.byteLength, dataBytes };
}
