/**
 * safetensors: 8-byte little-endian header length, a JSON header, then raw little-endian tensor bytes.
 * https://github.com/huggingface/safetensors#format
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { asModelFileError, ModelFileError } from '../errors';
import type { WeightDType, WeightMap, WeightTensor } from './weight-tensor';

/** A Map, so a header naming dtype "constructor" or "__proto__" finds nothing rather than Object's internals. */
const DTYPES: ReadonlyMap<string, { dtype: WeightDType; bytes: number }> = new Map([
  ['F32', { dtype: 'float32', bytes: 4 }],
  ['F16', { dtype: 'float16', bytes: 2 }],
  ['BF16', { dtype: 'bfloat16', bytes: 2 }],
  ['F64', { dtype: 'float64', bytes: 8 }],
  ['I64', { dtype: 'int64', bytes: 8 }],
  ['I32', { dtype: 'int32', bytes: 4 }],
  ['I8', { dtype: 'int8', bytes: 1 }],
  ['U8', { dtype: 'uint8', bytes: 1 }],
  ['BOOL', { dtype: 'bool', bytes: 1 }],
]);
/** torch stops at 64 dimensions; a longer shape array is only there to cost time. */
const MAX_RANK = 64;

const CODE_OF: Record<WeightDType, string> = {
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** A header claiming more than this is corrupt rather than real (HF caps it at 100 MB too). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  name: string;
  dtype: WeightDType;
  shape: number[];
  /** absolute byte range in the file */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  fileSize: number;
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reads and validates the header; every entry is checked against the file size. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw new ModelFileError(path, `Weight file ${path} cannot be opened: ${(err as Error).message}`, { cause: err });
  });
  try {
    return await readHeader(fh, path);
  } catch (err) {
    throw asModelFileError(path, err, 'is not a readable safetensors file');
  } finally {
    await fh.close();
  }
}

async function readHeader(fh: FileHandle, path: string): Promise<SafetensorsHeader> {
  const fileSize = (await fh.stat()).size;
  if (fileSize < 8) throw new ModelFileError(path, `Weight file ${path} is truncated: ${fileSize} bytes, not even a safetensors header.`);
  const lenBuf = Buffer.alloc(8);
  await readExactly(fh, lenBuf, 0, path, 'header length');
  const headerLen = Number(lenBuf.readBigUInt64LE(0));
  if (headerLen > MAX_HEADER_BYTES || headerLen < 2) {
    throw new ModelFileError(path, `Weight file ${path} is not a safetensors file (header length ${headerLen}).`);
  }
  if (8 + headerLen > fileSize) {
    throw new ModelFileError(path, `Weight file ${path} is truncated: its header needs ${headerLen} bytes but the file has ${fileSize}.`);
  }
  const headerBuf = Buffer.alloc(headerLen);
  await readExactly(fh, headerBuf, 8, path, 'header');
  let json: unknown;
  try {
    json = JSON.parse(headerBuf.toString('utf8'));
  } catch (err) {
    throw new ModelFileError(path, `Weight file ${path} is corrupt: its safetensors header is not valid JSON.`, { cause: err });
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ModelFileError(path, `Weight file ${path} is corrupt: its safetensors header is not an object.`);
  }
  const dataStart = 8 + headerLen;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = readMetadata(path, raw);
      continue;
    }
    const info = (raw !== null && typeof raw === 'object' ? raw : {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dt = typeof info.dtype === 'string' ? DTYPES.get(info.dtype) : undefined;
    if (!dt) throw new ModelFileError(path, `Weight file ${path}: tensor ${name} has unsupported dtype ${describe(info.dtype)}.`);
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ModelFileError(path, `Weight file ${path}: tensor ${name} has an invalid shape.`);
    }
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new ModelFileError(path, `Weight file ${path}: tensor ${name} has invalid data offsets.`);
    }
    const [b, e] = offs as [number, number];
    const expected = numel(shape as number[]) * dt.bytes;
    if (e - b !== expected) {
      throw new ModelFileError(path, `Weight file ${path} is corrupt: tensor ${name} [${(shape as number[]).join(', ')}] ${info.dtype} needs ${expected} bytes but its offsets span ${e - b}.`);
    }
    if (dataStart + e > fileSize) {
      throw new ModelFileError(path, `Weight file ${path} is truncated: tensor ${name} ends at byte ${dataStart + e} but the file has ${fileSize} bytes.`);
    }
    entries.push({ name, dtype: dt.dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e });
  }
  checkCoverage(path, entries, dataStart, fileSize);
  return { entries, metadata, fileSize };
}

/**
 * The format requires the tensors to tile the data buffer exactly: no holes (polyglot files) and no overlaps (one
 * stored range read as many tensors: a few MB claiming hundreds). Writers lay tensors out by offset, but JSON key
 * order need not follow, so check in offset order.
 */
function checkCoverage(path: string, entries: readonly SafetensorsEntry[], dataStart: number, fileSize: number): void {
  const byOffset = [...entries].sort((x, y) => x.begin - y.begin || x.end - y.end);
  let at = dataStart;
  for (const e of byOffset) {
    if (e.begin < at) {
      throw new ModelFileError(path, `Weight file ${path} is corrupt: tensor ${e.name} overlaps the tensor before it (bytes ${e.begin - dataStart}–${e.end - dataStart}).`);
    }
    if (e.begin > at) {
      throw new ModelFileError(path, `Weight file ${path} is corrupt: bytes ${at - dataStart}–${e.begin - dataStart} before tensor ${e.name} belong to no tensor.`);
    }
    at = e.end;
  }
  if (at !== fileSize) {
    throw new ModelFileError(path, `Weight file ${path} is corrupt: its last ${fileSize - at} bytes belong to no tensor.`);
  }
}

/** `__metadata__` is a string-to-string map by the format; anything else is refused rather than trusted. */
function readMetadata(path: string, raw: unknown): Record<string, string> {
  // null is what the reference implementation reads as "no metadata".
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ModelFileError(path, `Weight file ${path} is corrupt: its __metadata__ is not an object.`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new ModelFileError(path, `Weight file ${path} is corrupt: __metadata__.${k} is not a string.`);
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? v.slice(0, 40) : typeof v;
}

async function readExactly(fh: FileHandle, buf: Uint8Array, position: number, path: string, what: string): Promise<void> {
  let done = 0;
  while (done < buf.byteLength) {
    const { bytesRead } = await fh.read(buf, done, Math.min(buf.byteLength - done, 1 << 30), position + done);
    if (bytesRead === 0) throw new ModelFileError(path, `Weight file ${path} is truncated while reading ${what}.`);
    done += bytesRead;
  }
}

let halfTable: Float32Array | undefined;
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) t[h] = s * m * 2 ** -24;
    else if (e === 31) t[h] = m ? NaN : s * Infinity;
    else t[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  halfTable = t;
  return t;
}

function decode(entry: SafetensorsEntry, bytes: Uint8Array): WeightTensor['data'] {
  const n = numel(entry.shape);
  switch (entry.dtype) {
    case 'float32':
      return new Float32Array(bytes.buffer, bytes.byteOffset, n);
    case 'float16': {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const table = halfToFloatTable();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[src[i] as number] as number;
      return out;
    }
    case 'bfloat16': {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = (src[i] as number) << 16;
      return out;
    }
    case 'float64':
      return Float32Array.from(new Float64Array(bytes.buffer, bytes.byteOffset, n));
    case 'int64':
      return new BigInt64Array(bytes.buffer, bytes.byteOffset, n);
    case 'int32':
      return new Int32Array(bytes.buffer, bytes.byteOffset, n);
    case 'int8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n));
    case 'uint8':
    case 'bool':
      return bytes;
  }
}

/**
 * Reads tensors (all, or those `filter` accepts). Each tensor gets its own aligned buffer, read straight
 * from the file, so a 1 GB checkpoint never sits in memory twice.
 */
export async function readSafetensors(path: string, options: { filter?: (name: string) => boolean } = {}): Promise<WeightMap> {
  const fh = await open(path, 'r').catch((err: unknown) => {
    throw new ModelFileError(path, `Weight file ${path} cannot be opened: ${(err as Error).message}`, { cause: err });
  });
  try {
    return await readTensors(fh, path, options);
  } catch (err) {
    throw asModelFileError(path, err, 'is not a readable safetensors file');
  } finally {
    await fh.close();
  }
}

async function readTensors(fh: FileHandle, path: string, options: { filter?: (name: string) => boolean }): Promise<WeightMap> {
  const header = await readHeader(fh, path);
  const out: WeightMap = new Map();
  for (const entry of header.entries) {
    if (options.filter && !options.filter(entry.name)) continue;
    const len = entry.end - entry.begin;
    // 8-byte aligned backing store so any element type can view it.
    const bytes = new Uint8Array(new ArrayBuffer(Math.ceil(len / 8) * 8), 0, len);
    try {
      await readExactly(fh, bytes, entry.begin, path, `tensor ${entry.name}`);
    } catch (err) {
      throw new ModelFileError(path, `Weight file ${path} is truncated: tensor ${entry.name} could not be read.`, { cause: err });
    }
    out.set(entry.name, { storedDType: entry.dtype, shape: [...entry.shape], data: decode(entry, bytes) });
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, round to nearest even (as torch's .half()). */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && r & 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && r & 1)) r++;
  return sign | r;
}

/** float32 → bfloat16 bits, round to nearest even. */
export function floatToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function encode(name: string, t: WeightTensor): Uint8Array {
  const n = numel(t.shape);
  if (t.data.length !== n) throw new Error(`tensor ${name}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  const asBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (t.storedDType) {
    case 'float32':
      return asBytes(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>));
    case 'float16':
    case 'bfloat16': {
      const out = new Uint16Array(n);
      const src = t.data as Float32Array;
      const conv = t.storedDType === 'float16' ? floatToHalf : floatToBfloat16;
      for (let i = 0; i < n; i++) out[i] = conv(src[i] as number);
      return asBytes(out);
    }
    case 'float64':
      return asBytes(Float64Array.from(t.data as Float32Array));
    case 'int64':
      return asBytes(t.data instanceof BigInt64Array ? t.data : BigInt64Array.from(t.data as ArrayLike<number>, (v) => BigInt(v)));
    case 'int32':
      return asBytes(t.data instanceof Int32Array ? t.data : Int32Array.from(t.data as ArrayLike<number>));
    case 'int8':
      return asBytes(Int8Array.from(t.data as ArrayLike<number>));
    case 'uint8':
    case 'bool':
      return asBytes(t.data instanceof Uint8Array ? t.data : Uint8Array.from(t.data as ArrayLike<number>));
  }
}

/**
 * Writes a safetensors file (tensors sorted by name, header padded to 8 bytes). Written to a temporary
 * name and renamed, so a crash never leaves a half-written checkpoint under the real name.
 */
export async function writeSafetensors(path: string, weights: WeightMap, metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  const names = [...weights.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = weights.get(name) as WeightTensor;
    const bytes = encode(name, t);
    header[name] = { dtype: CODE_OF[t.storedDType], shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w');
  try {
    let pos = 0;
    for (const part of [len, headerBytes, ...blobs]) {
      for (let i = 0; i < part.byteLength; i += 1 << 28) {
        const chunk = part.subarray(i, Math.min(part.byteLength, i + (1 << 28)));
        let written = 0;
        while (written < chunk.byteLength) {
          const r = await fh.write(chunk, written, chunk.byteLength - written, pos);
          written += r.bytesWritten;
          pos += r.bytesWritten;
        }
      }
    }
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
}
