/**
 * Hand-made zip and pickle bytes for hostile-checkpoint tests: unlike the project's writer, these can deflate,
 * lie about sizes and carry any pickle.
 */
import { writeFile } from 'node:fs/promises';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { PickleWriter } from '../../../src/main/core/weights/pickle-writer';

export interface RawZipEntry {
  name: string;
  /** the bytes as they sit in the file (already compressed for method 8) */
  data: Uint8Array;
  method: 0 | 8;
  /** the uncompressed size the directory declares */
  size: number;
  crc: number;
}

export function storedEntry(name: string, data: Uint8Array): RawZipEntry {
  return { name, data, method: 0, size: data.byteLength, crc: crc32(data) >>> 0 };
}

export function deflatedEntry(name: string, data: Uint8Array): RawZipEntry {
  return { name, data: deflateRawSync(data), method: 8, size: data.byteLength, crc: crc32(data) >>> 0 };
}

/** A deflate stream of `mib` MiB of zeros, built from one 16 MiB block repeated: ~1 KB per MiB. */
export function zeroBomb(mib: number): Uint8Array {
  const block = deflateRawSync(Buffer.alloc(16 << 20), { level: 9, finishFlush: constants.Z_FULL_FLUSH });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < Math.ceil(mib / 16); i++) parts.push(block);
  parts.push(deflateRawSync(Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export async function writeRawZip(path: string, entries: readonly RawZipEntry[]): Promise<void> {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const local = Buffer.alloc(30 + name.byteLength);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.byteLength, 18);
    local.writeUInt32LE(e.size >>> 0, 22);
    local.writeUInt16LE(name.byteLength, 26);
    local.set(name, 30);
    const c = Buffer.alloc(46 + name.byteLength);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.crc, 16);
    c.writeUInt32LE(e.data.byteLength, 20);
    c.writeUInt32LE(e.size >>> 0, 24);
    c.writeUInt16LE(name.byteLength, 28);
    c.writeUInt32LE(offset, 42);
    c.set(name, 46);
    central.push(c);
    parts.push(local, e.data);
    offset += local.byteLength + e.data.byteLength;
  }
  const cdSize = central.reduce((a, c) => a + c.byteLength, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(offset, 16);
  await writeFile(path, Buffer.concat([...parts, ...central, eocd]));
}

/** A torch checkpoint's usual entries around a given data.pkl and storages. */
export function torchEntries(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}): RawZipEntry[] {
  const enc = new TextEncoder();
  return [
    storedEntry('archive/data.pkl', pkl),
    storedEntry('archive/byteorder', enc.encode('little')),
    ...Object.entries(storages).map(([key, data]) => storedEntry(`archive/data/${key}`, data)),
    storedEntry('archive/version', enc.encode('3\n')),
  ];
}

export interface TensorRecord {
  name: string;
  /** `torch.<storage>`, e.g. FloatStorage (or anything a hostile file names) */
  storage: string;
  key: string;
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/** The pickle torch.save writes for a state dict, with every field under the caller's control. */
export function statePickle(tensors: readonly TensorRecord[]): Uint8Array {
  const w = new PickleWriter();
  w.global('collections', 'OrderedDict');
  w.emptyTuple();
  w.reduce();
  w.mark();
  for (const t of tensors) {
    w.string(t.name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.mark();
    w.string('storage');
    w.global('torch', t.storage);
    w.string(t.key);
    w.string('cpu');
    w.int(t.numel);
    w.tuple();
    w.binPersId();
    w.int(t.offset);
    w.intTuple(t.shape);
    w.intTuple(t.stride);
    w.bool(false);
    w.global('collections', 'OrderedDict');
    w.emptyTuple();
    w.reduce();
    w.tuple();
    w.reduce();
  }
  w.setItems();
  return w.finish();
}

/** Raw pickle opcodes: numbers are single bytes, arrays are spliced in. */
export function pickleBytes(...parts: Array<number | Uint8Array | number[]>): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const b of p) out.push(b);
  }
  return Uint8Array.from(out);
}

export function i32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
