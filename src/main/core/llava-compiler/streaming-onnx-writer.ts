/**
 * Writes a graph's large initializers to its external data file while the graph is still being built, so a
 * 7B decoder never holds all its weights at once: `spill()` moves every large initializer added since the
 * last call to `<model>_data` and leaves a zero-length placeholder in the graph; `finish()` encodes the graph
 * with onnx-model-writer.ts (everything inline, placeholders are empty) and then points each placeholder at
 * its bytes in the data file. onnx-model-writer.ts itself encodes a whole graph in one go, which is why this
 * lives here rather than there.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import onnxProto from 'onnx-proto';
import type { GraphBuilder } from '../onnx/graph-builder';
import type { NdArray, NdType } from '../onnx/nd-array';
import { encodeOnnxModel } from '../onnx/onnx-model-writer';

const { onnx } = onnxProto;

interface Spilled {
  dims: number[];
  offset: number;
  length: number;
}

function bytesOf(t: NdArray): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function emptyOf(type: NdType): NdArray {
  switch (type) {
    case 'float32':
      return { type, data: new Float32Array(0), dims: [0] };
    case 'float16':
      return { type, data: new Uint16Array(0), dims: [0] };
    case 'int64':
      return { type, data: new BigInt64Array(0), dims: [0] };
    case 'int32':
      return { type, data: new Int32Array(0), dims: [0] };
    case 'int8':
      return { type, data: new Int8Array(0), dims: [0] };
    case 'uint8':
    case 'bool':
      return { type, data: new Uint8Array(0), dims: [0] };
  }
}

export interface StreamingWriterOptions {
  /** initializers at least this large go to the data file. Default 1 KiB. */
  thresholdBytes?: number;
  /** offsets are multiples of this, so onnxruntime can map tensors in place. Default 4096. */
  alignment?: number;
}

export class StreamingOnnxWriter {
  private readonly spilled = new Map<string, Spilled>();
  private next = 0;
  private dataBytes = 0;
  private file: FileHandle | undefined;
  readonly dataName: string;

  constructor(
    readonly graph: GraphBuilder,
    /** the .onnx path; external data goes to `<path>_data` (transformers.js' naming) */
    readonly modelPath: string,
    private readonly options: StreamingWriterOptions = {},
  ) {
    this.dataName = `${basename(modelPath)}_data`;
  }

  /** Moves large initializers added since the last call out of memory and into the data file. */
  async spill(): Promise<void> {
    const threshold = this.options.thresholdBytes ?? 1024;
    const alignment = this.options.alignment ?? 4096;
    const inits = this.graph.initializers;
    for (; this.next < inits.length; this.next++) {
      const init = inits[this.next]!;
      const bytes = bytesOf(init.tensor);
      if (bytes.byteLength < threshold) continue;
      this.file ??= await open(join(this.modelPath, '..', this.dataName), 'w');
      const offset = Math.ceil(this.dataBytes / alignment) * alignment;
      let written = 0;
      while (written < bytes.byteLength) {
        // fs writes are capped at 2 GB per call.
        const r = await this.file.write(bytes, written, Math.min(bytes.byteLength - written, 1 << 28), offset + written);
        written += r.bytesWritten;
      }
      this.dataBytes = offset + bytes.byteLength;
      this.spilled.set(init.name, { dims: [...init.tensor.dims], offset, length: bytes.byteLength });
      inits[this.next] = { name: init.name, tensor: emptyOf(init.tensor.type) };
    }
  }

  /** Spills what is left, writes the .onnx file and closes the data file. Returns the bytes written. */
  async finish(docString = ''): Promise<{ modelBytes: number; dataBytes: number }> {
    try {
      await this.spill();
      const { model } = encodeOnnxModel(this.graph, { docString });
      const proto = onnx.ModelProto.decode(model);
      for (const t of proto.graph?.initializer ?? []) {
        const s = this.spilled.get(t.name ?? '');
        if (!s) continue;
        t.dims = s.dims;
        t.rawData = new Uint8Array(0);
        t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        t.externalData = [
          onnx.StringStringEntryProto.create({ key: 'location', value: this.dataName }),
          onnx.StringStringEntryProto.create({ key: 'offset', value: String(s.offset) }),
          onnx.StringStringEntryProto.create({ key: 'length', value: String(s.length) }),
        ];
      }
      const bytes = onnx.ModelProto.encode(proto).finish();
      await writeFile(this.modelPath, bytes);
      return { modelBytes: bytes.byteLength, dataBytes: this.dataBytes };
    } finally {
      await this.close();
    }
  }

  /** Closes the data file (also after an error). */
  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await f?.close();
  }
}
