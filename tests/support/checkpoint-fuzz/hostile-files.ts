/**
 * Hand-crafted hostile model files, one per attack of issue 13. Each must be refused with a ModelFileError in
 * well under 2 s without the process's memory jumping; on the readers before the fix each one either hung, grew
 * memory by hundreds of MB, surfaced a raw TypeError/RangeError, or loaded a file outside the pack.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../../../src/main/core/weights/safetensors';
import type { FuzzCase, FuzzCaseSource } from './fuzz-case';
import {
  i32le,
  pickleBytes,
  statePickle,
  storedEntry,
  torchEntries,
  u32le,
  writeRawZip,
  zeroBomb,
  type RawZipEntry,
  type TensorRecord,
} from './zip-bytes';

const PROTO2 = [0x80, 0x02];
const STOP = 0x2e;

function floatTensor(name: string, key: string, numel: number, extra: Partial<TensorRecord> = {}): TensorRecord {
  return { name, storage: 'FloatStorage', key, numel, offset: 0, shape: [numel], stride: [1], ...extra };
}

/** A safetensors file from a literal header object and a data buffer (header padded as the format writes it). */
async function writeSafetensorsRaw(path: string, header: Record<string, unknown>, data: Uint8Array): Promise<void> {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await writeFile(path, Buffer.concat([len, Buffer.from(json), data]));
}

type Writer = (dir: string) => Promise<Omit<FuzzCase, 'id'>>;

const torchCase =
  (entries: () => RawZipEntry[]): Writer =>
  async (dir) => {
    const path = join(dir, 'pytorch_model.bin');
    await writeRawZip(path, entries());
    return { kind: 'torch', path, expect: 'refuse' };
  };

async function shardedPack(dir: string, shardName: string | number, outsideName?: string): Promise<Omit<FuzzCase, 'id'>> {
  const pack = join(dir, 'pack');
  await mkdir(pack, { recursive: true });
  const w = new Map([['a', { storedDType: 'float32' as const, shape: [1], data: Float32Array.from([1]) }]]);
  if (outsideName) {
    await mkdir(join(dir, outsideName, '..'), { recursive: true });
    await writeSafetensors(join(dir, outsideName), w);
  }
  await writeFile(join(pack, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: { a: shardName } }));
  return { kind: 'pack', path: pack, expect: 'refuse' };
}

const CASES: Record<string, Writer> = {
  // 1. BINSTRING with a negative length sent the reader backwards forever.
  'pickle-negative-binstring': torchCase(() => torchEntries(pickleBytes(PROTO2, 0x54, i32le(-5), STOP))),
  // 2. LONG4 decoding was quadratic: 300 KB took ~9 s.
  'pickle-long4-300kb': torchCase(() => torchEntries(pickleBytes(PROTO2, 0x8b, u32le(300_000), new Uint8Array(300_000).fill(1), STOP))),
  // 3a. 1 GiB of zeros deflated to ~1 MB; the directory declares it honestly.
  'zip-bomb-1gib': torchCase(() => {
    const pkl = statePickle([floatTensor('w', '0', 4)]);
    const bomb: RawZipEntry = { name: 'archive/data/0', data: zeroBomb(1024), method: 8, size: 2 ** 30, crc: 0 };
    return [storedEntry('archive/data.pkl', pkl), bomb];
  }),
  // 3b. The directory says 16 bytes; the stream inflates to 256 MiB.
  'zip-lying-size': torchCase(() => {
    const pkl = statePickle([floatTensor('w', '0', 4)]);
    const bomb: RawZipEntry = { name: 'archive/data/0', data: zeroBomb(256), method: 8, size: 16, crc: 0 };
    return [storedEntry('archive/data.pkl', pkl), bomb];
  }),
  // 3c. A stride-0 view over one float claims 2^27 elements (1.5 GB of indices and values).
  'torch-stride-0': torchCase(() =>
    torchEntries(statePickle([floatTensor('w', '0', 1, { shape: [2 ** 27], stride: [0] })]), { '0': new Uint8Array(4) }),
  ),
  // 3d. 2000 full views of one 256 KB storage: 512 MB of float32 from a ~400 KB file.
  'torch-many-views': torchCase(() => {
    const tensors = Array.from({ length: 2000 }, (_, i) => floatTensor(`w${i}`, '0', 65536));
    return torchEntries(statePickle(tensors), { '0': new Uint8Array(65536 * 4) });
  }),
  // 3e. `'constructor' in STORAGE_TYPES` was true: the storage type became Object and a TypeError escaped.
  'torch-constructor-storage': torchCase(() =>
    torchEntries(statePickle([floatTensor('w', '0', 4, { storage: 'constructor' })]), { '0': new Uint8Array(16) }),
  ),
  'torch-hasownproperty-storage': torchCase(() =>
    torchEntries(statePickle([floatTensor('w', '0', 4, { storage: 'hasOwnProperty' })]), { '0': new Uint8Array(16) }),
  ),
  // 3f. APPENDS of a million items overflowed the stack through push(...items).
  'pickle-million-appends': torchCase(() =>
    torchEntries(pickleBytes(PROTO2, 0x5d, 0x28, new Uint8Array(1_000_000).fill(0x4e), 0x65, STOP)),
  ),
  // The same memoised 100k-pair list fed to OrderedDict() 100k times: 10^10 steps from 1 MB.
  'pickle-ordereddict-replay': torchCase(() => {
    const n = 100_000;
    const pair = [0x8c, 1, 0x6b, 0x4e, 0x86]; // SHORT_BINUNICODE 'k', NONE, TUPLE2
    const replay = [0x68, 0, 0x68, 1, 0x85, 0x52, 0x30]; // BINGET 0, BINGET 1, TUPLE1, REDUCE, POP
    const pkl = pickleBytes(
      PROTO2,
      0x63,
      [...new TextEncoder().encode('collections\nOrderedDict\n')],
      0x71,
      0,
      0x30,
      0x5d,
      0x28,
      new Uint8Array(n * pair.length).map((_, i) => pair[i % pair.length]!),
      0x65,
      0x71,
      1,
      0x30,
      new Uint8Array(n * replay.length).map((_, i) => replay[i % replay.length]!),
      0x7d,
      STOP,
    );
    return torchEntries(pkl);
  }),
  // A stored entry whose declared size differs from what it holds.
  'zip-stored-size-mismatch': torchCase(() => {
    const entries = torchEntries(statePickle([floatTensor('w', '0', 4)]), { '0': new Uint8Array(16) });
    return entries.map((e) => (e.name === 'archive/data/0' ? { ...e, size: 1 << 30 } : e));
  }),
  // 3g. 120 tensors over the same 4 MiB: 480 MB from a 4 MB file.
  'safetensors-overlap': async (dir) => {
    const path = join(dir, 'model.safetensors');
    const n = 4 << 20;
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 120; i++) header[`t${i}`] = { dtype: 'U8', shape: [n], data_offsets: [0, n] };
    await writeSafetensorsRaw(path, header, new Uint8Array(n));
    return { kind: 'safetensors', path, expect: 'refuse' };
  },
  'safetensors-hole': async (dir) => {
    const path = join(dir, 'model.safetensors');
    const header = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    await writeSafetensorsRaw(path, header, new Uint8Array(12));
    return { kind: 'safetensors', path, expect: 'refuse' };
  },
  'safetensors-trailing-bytes': async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsRaw(path, { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4096));
    return { kind: 'safetensors', path, expect: 'refuse' };
  },
  'safetensors-dtype-constructor': async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeSafetensorsRaw(path, { a: { dtype: 'constructor', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
    return { kind: 'safetensors', path, expect: 'refuse' };
  },
  // Key order ≠ offset order is legal (and what JSON round-trips may produce): it must still load.
  'safetensors-keys-out-of-offset-order': async (dir) => {
    const path = join(dir, 'model.safetensors');
    const header = {
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      empty: { dtype: 'F32', shape: [0, 3], data_offsets: [12, 12] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    await writeSafetensorsRaw(path, header, new Uint8Array(new Float32Array([1, 2, 3]).buffer));
    return { kind: 'safetensors', path, expect: 'any' };
  },
  // 4. Shard names must be plain files inside the pack.
  'shard-parent-traversal': (dir) => shardedPack(dir, '../outside.safetensors', 'outside.safetensors'),
  'shard-subfolder': (dir) => shardedPack(dir, 'sub/inner.safetensors', 'pack/sub/inner.safetensors'),
  'shard-absolute': (dir) => shardedPack(dir, join(dir, 'outside.safetensors'), 'outside.safetensors'),
  'shard-not-a-string': (dir) => shardedPack(dir, 5),
  'shard-backslash': (dir) => shardedPack(dir, '..\\outside.safetensors'),
  // JSON the parser cannot even nest, and a config far larger than any real one.
  'config-deep-nesting': async (dir) => {
    const path = join(dir, 'config.json');
    await writeFile(path, `${'['.repeat(500_000)}${']'.repeat(500_000)}`);
    return { kind: 'config', path, expect: 'refuse' };
  },
  'config-oversized': async (dir) => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ model_type: 'blip', padding: 'x'.repeat(5 << 20) }));
    return { kind: 'config', path, expect: 'refuse' };
  },
  'config-architecture-constructor': async (dir) => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ model_type: 'blip', architectures: ['constructor'] }));
    return { kind: 'config', path, expect: 'refuse' };
  },
  'tokenizer-negative-ids': async (dir) => {
    const pack = join(dir, 'pack');
    await mkdir(pack, { recursive: true });
    const vocab = { '[PAD]': 0, '[UNK]': -1, '[CLS]': 1.5, '[SEP]': 3 };
    await writeFile(join(pack, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab, unk_token: '[UNK]' } }));
    return { kind: 'tokenizer', path: pack, expect: 'refuse' };
  },
};

export const hostileCases: FuzzCaseSource = {
  count: Object.keys(CASES).length,
  async write(index, dir) {
    const [id, writer] = Object.entries(CASES)[index]!;
    return { id, ...(await writer(dir)) };
  },
};
