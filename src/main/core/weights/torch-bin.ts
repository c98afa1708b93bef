/**
 * PyTorch `.bin` checkpoints (the zip format of torch >= 1.6): `<folder>/data.pkl` is a pickled dict of tensors,
 * `<folder>/data/<key>` holds each storage's raw bytes. The pickle is read by our own interpreter, which only knows
 * the handful of globals a state dict needs, so a hostile checkpoint cannot run code.
 */
import { open } from 'node:fs/promises';
import { asModelFileError, InvalidInputError, ModelFileError, TandemError } from '../errors';
import { bfloat16ToFloat32, float32ToBfloat16, float32ToHalf, halfToFloat32 } from './half-float';
import {
  PickleDict,
  PickleError,
  PickleGlobal,
  PickleList,
  PickleOpaque,
  PickleTuple,
  unpickle,
  type PickleHost,
  type PickleValue,
} from './pickle-reader';
import { PickleWriter } from './pickle-writer';
import { runWithTimeLimit, TimeLimitError } from './time-limit';
import type { WeightDType, WeightMap, WeightTensor } from './weight-tensor';
import { writeStoredZip, ZipReader, type ZipEntry } from './zip-archive';

interface StorageType {
  dtype: WeightDType;
  itemSize: number;
}

/**
 * `torch.<Name>Storage` → element type. Storage classes are the only torch types a state dict names. A Map, not
 * an object literal: `'constructor' in {}` is true, and a pickle naming `torch.constructor` must not pass.
 */
const STORAGE_TYPES: ReadonlyMap<string, StorageType> = new Map([
  ['FloatStorage', { dtype: 'float32', itemSize: 4 }],
  ['HalfStorage', { dtype: 'float16', itemSize: 2 }],
  ['BFloat16Storage', { dtype: 'bfloat16', itemSize: 2 }],
  ['DoubleStorage', { dtype: 'float64', itemSize: 8 }],
  ['LongStorage', { dtype: 'int64', itemSize: 8 }],
  ['IntStorage', { dtype: 'int32', itemSize: 4 }],
  ['CharStorage', { dtype: 'int8', itemSize: 1 }],
  ['ByteStorage', { dtype: 'uint8', itemSize: 1 }],
  ['BoolStorage', { dtype: 'bool', itemSize: 1 }],
]);

const STORAGE_NAME_BY_DTYPE: Readonly<Record<WeightDType, string>> = {
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** 2^30 elements (4 GiB as float32): far above any BLIP/LLaVA tensor, below typed-array limits. */
const MAX_ELEMENTS = 2 ** 30;
/**
 * All tensors of a checkpoint together may hold at most this many elements per byte of the file. Honest files hold
 * ≤ 1 (every element is stored, itemSize ≥ 1; tied weights view one storage twice); views that repeat a tiny
 * storage (stride 0, many overlapping tensors) are how a few hundred bytes would otherwise claim gigabytes.
 */
const ELEMENTS_PER_FILE_BYTE = 4;
/** torch itself stops at 64 dimensions; more is a hostile shape tuple meant to make every tensor costly. */
const MAX_RANK = 64;
/** data.pkl of a real checkpoint parses in milliseconds; this only stops a pickle built to spin. */
const PICKLE_TIME_LIMIT_MS = 10_000;

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_WITH_STATE = 'torch._utils._rebuild_parameter_with_state';
const REBUILD_FROM_TYPE = 'torch._tensor._rebuild_from_type_v2';
const ORDERED_DICT = 'collections.OrderedDict';
/** Classes that only appear as the `new_type` argument of `_rebuild_from_type_v2`; never called. */
const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);
const CALLABLES = new Set([REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE, ORDERED_DICT]);

interface StorageRef {
  key: string;
  type: StorageType;
  typeName: string;
  numel: number;
}

interface TensorSpec {
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

type Storage = PickleOpaque<StorageRef>;
type Tensor = PickleOpaque<TensorSpec>;

function isTensor(v: PickleValue): v is Tensor {
  return v instanceof PickleOpaque && v.kind === 'tensor';
}

function isStorage(v: PickleValue): v is Storage {
  return v instanceof PickleOpaque && v.kind === 'storage';
}

function refuse(file: string, name: string): never {
  throw new ModelFileError(file, `refusing to load ${name} from ${file}: pickles may only contain tensors`);
}

function intArg(file: string, v: PickleValue | undefined, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw new ModelFileError(file, `${file}: tensor ${what} is not a non-negative integer`);
}

function intTuple(file: string, v: PickleValue | undefined, what: string): number[] {
  if (!(v instanceof PickleTuple)) throw new ModelFileError(file, `${file}: tensor ${what} is not a tuple`);
  if (v.items.length > MAX_RANK) throw new ModelFileError(file, `${file}: tensor ${what} has ${v.items.length} dimensions, more than torch allows`);
  return v.items.map((x) => intArg(file, x, what));
}

/**
 * @param pickleBytes the size of data.pkl: the host's own work (copying OrderedDict items) is held to it, since a
 *   memoised list can be fed to OrderedDict() again and again at two bytes a time.
 */
function torchHost(file: string, pickleBytes: number): PickleHost {
  let workLeft = pickleBytes;
  const host: PickleHost = {
    checkGlobal(g) {
      const name = g.qualifiedName;
      if (CALLABLES.has(name) || TENSOR_TYPES.has(name)) return;
      if (g.module === 'torch' && STORAGE_TYPES.has(g.name)) return;
      if (g.module === 'torch' && g.name.endsWith('Storage')) {
        throw new ModelFileError(file, `${file}: tensors stored as ${name} are not supported`);
      }
      refuse(file, name);
    },
    call(callable, args) {
      switch (callable.qualifiedName) {
        case ORDERED_DICT: {
          const dict = new PickleDict();
          const items = args[0];
          if (items instanceof PickleList || items instanceof PickleTuple) {
            workLeft -= items.items.length;
            if (workLeft < 0) throw new ModelFileError(file, `${file}: data.pkl rebuilds the same dictionaries over and over`);
            for (const pair of items.items) {
              if (!(pair instanceof PickleTuple) || pair.items.length !== 2) refuse(file, ORDERED_DICT);
              const [k, v] = pair.items;
              if (typeof k !== 'string') refuse(file, ORDERED_DICT);
              dict.map.set(k, v!);
            }
          }
          return dict;
        }
        case REBUILD_TENSOR: {
          const [storage, offset, size, stride] = args;
          if (!storage || !isStorage(storage)) throw new ModelFileError(file, `${file}: tensor is not backed by a storage record`);
          const shape = intTuple(file, size, 'size');
          const strides = intTuple(file, stride, 'stride');
          if (shape.length !== strides.length) throw new ModelFileError(file, `${file}: tensor size and stride disagree`);
          // Stride 0 repeats one element along a dimension: torch.save never writes it (it saves the expanded
          // storage), and it lets a few bytes claim any number of elements.
          if (shape.some((d, i) => d > 1 && strides[i] === 0)) {
            throw new ModelFileError(file, `${file}: tensor has stride 0 on a dimension of size > 1, which a saved checkpoint never has`);
          }
          const spec: TensorSpec = { storage: storage.value, offset: intArg(file, offset, 'offset'), shape, stride: strides };
          return new PickleOpaque('tensor', spec);
        }
        case REBUILD_PARAMETER:
        case REBUILD_PARAMETER_WITH_STATE: {
          const data = args[0];
          if (!data || !isTensor(data)) throw new ModelFileError(file, `${file}: parameter holds no tensor`);
          return data;
        }
        case REBUILD_FROM_TYPE: {
          const [func, newType, inner] = args;
          if (!(func instanceof PickleGlobal) || !(newType instanceof PickleGlobal) || !(inner instanceof PickleTuple)) {
            return refuse(file, REBUILD_FROM_TYPE);
          }
          if (!TENSOR_TYPES.has(newType.qualifiedName)) refuse(file, newType.qualifiedName);
          if (func.qualifiedName === REBUILD_FROM_TYPE) refuse(file, REBUILD_FROM_TYPE);
          return host.call(func, inner.items);
        }
        default:
          return refuse(file, callable.qualifiedName);
      }
    },
    persistentLoad(id) {
      const items = id instanceof PickleTuple ? id.items : [];
      const [tag, type, key, , numel] = items;
      const storageType = type instanceof PickleGlobal && type.module === 'torch' ? STORAGE_TYPES.get(type.name) : undefined;
      if (tag !== 'storage' || !storageType || typeof key !== 'string') {
        throw new ModelFileError(file, `${file}: the pickle references an external object that is not a tensor storage`);
      }
      const ref: StorageRef = {
        key,
        type: storageType,
        typeName: (type as PickleGlobal).qualifiedName,
        numel: intArg(file, numel, 'storage size'),
      };
      return new PickleOpaque('storage', ref);
    },
  };
  return host;
}

/** Legacy (torch < 1.6) checkpoints are a bare pickle stream starting with PROTO. */
async function looksLikeLegacyTorch(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(2);
    await fh.read(head, 0, 2, 0);
    return head[0] === 0x80 && head[1]! <= 5;
  } finally {
    await fh.close();
  }
}

function findArchivePrefix(zip: ZipReader): string {
  for (const name of zip.entries.keys()) {
    const m = /^([^/]+\/)data\.pkl$/.exec(name);
    if (m) return m[1]!;
  }
  throw new ModelFileError(zip.file, `${zip.file}: zip archive has no <folder>/data.pkl, so it is not a PyTorch checkpoint`);
}

type StoredArray = Float32Array | Uint16Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

function typedView(bytes: Uint8Array, dtype: WeightDType): StoredArray {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'float64':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'int32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'int8':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'uint8':
    case 'bool':
      return bytes;
  }
}

/** Element indices of a strided view, in row-major order of its shape. */
function stridedIndices(offset: number, shape: readonly number[], stride: readonly number[], numel: number): Float64Array {
  const out = new Float64Array(numel);
  if (numel === 0) return out;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let base = offset;
  const last = rank - 1;
  const lastSize = rank ? shape[last]! : 1;
  const lastStride = rank ? stride[last]! : 0;
  let o = 0;
  for (;;) {
    for (let j = 0; j < lastSize; j++) out[o++] = base + j * lastStride;
    // Odometer over the leading dims.
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      base += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= stride[d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) return out;
  }
}

function gather<T extends StoredArray>(src: T, indices: Float64Array, make: (n: number) => T): T {
  const out = make(indices.length);
  // Same element type on both sides; the index signature differs only between number and bigint arrays.
  const s = src as unknown as { [i: number]: number };
  const d = out as unknown as { [i: number]: number };
  for (let i = 0; i < indices.length; i++) d[i] = s[indices[i]!]!;
  return out;
}

function sameTypeEmpty(src: StoredArray): (n: number) => StoredArray {
  if (src instanceof Float32Array) return (n) => new Float32Array(n);
  if (src instanceof Uint16Array) return (n) => new Uint16Array(n);
  if (src instanceof Float64Array) return (n) => new Float64Array(n);
  if (src instanceof BigInt64Array) return (n) => new BigInt64Array(n);
  if (src instanceof Int32Array) return (n) => new Int32Array(n);
  if (src instanceof Int8Array) return (n) => new Int8Array(n);
  return (n) => new Uint8Array(n);
}

/** Widens the stored element type to what WeightTensor promises; copies unless `owned` says the array is ours. */
function widen(values: StoredArray, dtype: WeightDType, owned: boolean): WeightTensor['data'] {
  switch (dtype) {
    case 'float32':
      return owned ? (values as Float32Array) : (values as Float32Array).slice();
    case 'float16':
      return halfToFloat32(values as Uint16Array);
    case 'bfloat16':
      return bfloat16ToFloat32(values as Uint16Array);
    case 'float64':
      return Float32Array.from(values as Float64Array);
    case 'int64':
      return owned ? (values as BigInt64Array) : (values as BigInt64Array).slice();
    case 'int32':
      return owned ? (values as Int32Array) : (values as Int32Array).slice();
    case 'int8':
      return Int32Array.from(values as Int8Array);
    case 'uint8':
    case 'bool':
      return owned ? (values as Uint8Array) : (values as Uint8Array).slice();
  }
}

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Reads every tensor of a PyTorch zip checkpoint (`pytorch_model.bin`), widening floats to float32. */
export async function readTorchBin(path: string): Promise<WeightMap> {
  try {
    return await readTorchZip(path);
  } catch (err) {
    throw asModelFileError(path, err, 'is not a readable PyTorch checkpoint');
  }
}

function parsePickle(path: string, pkl: Uint8Array): PickleValue {
  try {
    return runWithTimeLimit(() => unpickle(pkl, torchHost(path, pkl.byteLength)), PICKLE_TIME_LIMIT_MS);
  } catch (err) {
    if (err instanceof PickleError) {
      throw new ModelFileError(path, `${path}: data.pkl is damaged (${err.message} at byte ${err.offset})`, { cause: err });
    }
    if (err instanceof TimeLimitError) {
      throw new ModelFileError(path, `${path}: data.pkl ${err.message}; a state dict parses in milliseconds, so the file is damaged or hostile`, { cause: err });
    }
    throw err;
  }
}

/** Refuses, before any storage is read, tensors that together claim more elements than the file could hold. */
function checkElementBudget(path: string, fileSize: number, tensors: ReadonlyArray<[string, TensorSpec]>): void {
  const limit = ELEMENTS_PER_FILE_BYTE * fileSize;
  let total = 0;
  for (const [name, t] of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel > MAX_ELEMENTS) {
      throw new ModelFileError(path, `${path}: tensor ${name} has ${numel} elements, more than Tandem can hold in memory`);
    }
    total += numel;
    if (total > limit) {
      throw new ModelFileError(path, `${path}: its tensors claim ${total}+ elements, more than a ${fileSize}-byte checkpoint can hold (damaged or hostile file)`);
    }
  }
}

async function readTorchZip(path: string): Promise<WeightMap> {
  let zip: ZipReader;
  try {
    zip = await ZipReader.open(path);
  } catch (err) {
    if (err instanceof ModelFileError && (await looksLikeLegacyTorch(path).catch(() => false))) {
      throw new ModelFileError(
        path,
        `${path}: this is a legacy PyTorch checkpoint (saved by torch < 1.6), which is not supported; use the model's .safetensors file`,
        { cause: err },
      );
    }
    if (err instanceof TandemError) throw err;
    throw new ModelFileError(path, `${path}: cannot open the checkpoint: ${(err as Error).message}`, { cause: err });
  }
  try {
    const prefix = findArchivePrefix(zip);
    const entry = (name: string): ZipEntry | undefined => zip.entries.get(prefix + name);
    const pklEntry = entry('data.pkl')!;
    const byteorderEntry = entry('byteorder');
    const bigEndian = byteorderEntry ? new TextDecoder().decode(await zip.read(byteorderEntry)).trim() === 'big' : false;

    const root = parsePickle(path, await zip.read(pklEntry));
    if (!(root instanceof PickleDict)) {
      throw new ModelFileError(path, `${path}: the checkpoint is not a dict of tensors (a state dict)`);
    }

    const tensors: Array<[string, TensorSpec]> = [];
    for (const [key, value] of root.map) {
      if (typeof key === 'string' && isTensor(value)) tensors.push([key, value.value]);
    }
    if (tensors.length === 0) throw new ModelFileError(path, `${path}: the checkpoint holds no tensors`);
    checkElementBudget(path, zip.fileSize, tensors);

    // Tied weights share one storage: load each storage once and drop it after its last tensor.
    const refsTotal = new Map<string, number>();
    for (const [, t] of tensors) refsTotal.set(t.storage.key, (refsTotal.get(t.storage.key) ?? 0) + 1);
    const refsLeft = new Map(refsTotal);
    const loaded = new Map<string, StoredArray>();

    const loadStorage = async (ref: StorageRef): Promise<StoredArray> => {
      const cached = loaded.get(ref.key);
      if (cached) return cached;
      const e = entry(`data/${ref.key}`);
      if (!e) throw new ModelFileError(path, `${path}: storage data/${ref.key} is missing from the archive`);
      const bytes = await zip.read(e);
      if (bytes.byteLength < ref.numel * ref.type.itemSize) {
        throw new ModelFileError(path, `${path}: storage data/${ref.key} is shorter than its ${ref.numel} ${ref.type.dtype} elements`);
      }
      const used = bytes.subarray(0, ref.numel * ref.type.itemSize);
      if (bigEndian && ref.type.itemSize > 1) {
        const b = Buffer.from(used.buffer, used.byteOffset, used.byteLength);
        if (ref.type.itemSize === 2) b.swap16();
        else if (ref.type.itemSize === 4) b.swap32();
        else b.swap64();
      }
      const arr = typedView(used, ref.type.dtype);
      loaded.set(ref.key, arr);
      return arr;
    };

    const out: WeightMap = new Map();
    for (const [name, t] of tensors) {
      const numel = t.shape.reduce((a, b) => a * b, 1);
      const storage = await loadStorage(t.storage);
      if (numel > 0) {
        let last = t.offset;
        for (let d = 0; d < t.shape.length; d++) last += (t.shape[d]! - 1) * t.stride[d]!;
        if (last >= storage.length) {
          throw new ModelFileError(path, `${path}: tensor ${name} reads past the end of its storage data/${t.storage.key}`);
        }
      }
      const left = refsLeft.get(t.storage.key)! - 1;
      refsLeft.set(t.storage.key, left);
      if (left === 0) loaded.delete(t.storage.key);

      let values: StoredArray;
      let owned: boolean;
      if (isContiguous(t.shape, t.stride)) {
        const wholeStorage = t.offset === 0 && numel === storage.length;
        values = storage.subarray(t.offset, t.offset + numel);
        // Only hand out the storage's own memory when no other tensor views it and no bytes are wasted.
        owned = wholeStorage && refsTotal.get(t.storage.key) === 1;
      } else {
        values = gather(storage, stridedIndices(t.offset, t.shape, t.stride, numel), sameTypeEmpty(storage));
        owned = true;
      }
      out.set(name, { storedDType: t.storage.type.dtype, shape: [...t.shape], data: widen(values, t.storage.type.dtype, owned) });
    }
    return out;
  } finally {
    await zip.close();
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function asBytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Raw little-endian bytes of one tensor in its stored dtype. */
function storageBytes(name: string, t: WeightTensor): Uint8Array {
  const bad = (): never => {
    throw new InvalidInputError(`weight ${name}: ${t.data.constructor.name} data cannot be saved as ${t.storedDType}`);
  };
  const d = t.data;
  switch (t.storedDType) {
    case 'float32':
      return d instanceof Float32Array ? asBytes(d) : bad();
    case 'float16':
      return d instanceof Float32Array ? asBytes(float32ToHalf(d)) : bad();
    case 'bfloat16':
      return d instanceof Float32Array ? asBytes(float32ToBfloat16(d)) : bad();
    case 'float64':
      return d instanceof Float32Array ? asBytes(Float64Array.from(d)) : bad();
    case 'int64':
      if (d instanceof BigInt64Array) return asBytes(d);
      return d instanceof Int32Array ? asBytes(BigInt64Array.from(d, (x) => BigInt(x))) : bad();
    case 'int32':
      return d instanceof Int32Array ? asBytes(d) : bad();
    case 'int8':
      return d instanceof Int32Array ? asBytes(Int8Array.from(d)) : bad();
    case 'uint8':
    case 'bool':
      return d instanceof Uint8Array ? asBytes(d) : bad();
  }
}

/** setitems batches of this size, as CPython's pickler writes them. */
const BATCH = 1000;

/**
 * Writes weights as `torch.save(state_dict)` would: zip with `archive/data.pkl` (an OrderedDict of
 * `_rebuild_tensor_v2` calls, protocol 2), one storage record per tensor, `byteorder` and `version`.
 */
export async function writeTorchBin(path: string, weights: WeightMap): Promise<void> {
  const folder = 'archive/';
  const storages: Array<{ name: string; data: Uint8Array }> = [];
  const w = new PickleWriter();
  w.global('collections', 'OrderedDict');
  w.emptyTuple();
  w.reduce();
  let inBatch = 0;
  let index = 0;
  for (const [name, t] of weights) {
    const numel = elementCount(t.shape);
    if (numel !== t.data.length) {
      throw new InvalidInputError(`weight ${name}: shape [${t.shape.join(', ')}] needs ${numel} values, data has ${t.data.length}`);
    }
    const key = String(index++);
    storages.push({ name: `${folder}data/${key}`, data: storageBytes(name, t) });
    if (inBatch === 0) w.mark();
    w.string(name);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.mark();
    w.mark();
    w.string('storage');
    w.global('torch', STORAGE_NAME_BY_DTYPE[t.storedDType]);
    w.string(key);
    w.string('cpu');
    w.int(numel);
    w.tuple();
    w.binPersId();
    w.int(0);
    w.intTuple(t.shape);
    const stride = new Array<number>(t.shape.length);
    for (let d = t.shape.length - 1, s = 1; d >= 0; d--) {
      stride[d] = s;
      s *= t.shape[d]!;
    }
    w.intTuple(stride);
    w.bool(false);
    w.global('collections', 'OrderedDict');
    w.emptyTuple();
    w.reduce();
    w.tuple();
    w.reduce();
    if (++inBatch === BATCH) {
      w.setItems();
      inBatch = 0;
    }
  }
  if (inBatch > 0) w.setItems();
  const enc = new TextEncoder();
  await writeStoredZip(path, [
    { name: `${folder}data.pkl`, data: w.finish() },
    { name: `${folder}byteorder`, data: enc.encode('little') },
    ...storages,
    { name: `${folder}version`, data: enc.encode('3\n') },
  ]);
}
