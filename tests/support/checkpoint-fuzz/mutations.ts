/**
 * Seeded mutations of the tiny test models' real files: byte-level damage (bit flips, interesting integers,
 * truncation, splices) and format-aware damage (a rewritten safetensors header, a damaged data.pkl re-zipped with
 * a valid CRC so the pickle reader really sees it, a hostile checkpoint index, odd JSON values in the tokenizer
 * and config files). The same seed always gives the same cases.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '../../../test-models/seeded-random';
import { writeTinyBlipCaptioner } from '../../../test-models/tiny-blip';
import { tinyVocab } from '../../../test-models/tiny-vocab';
import { readSafetensors, writeSafetensors } from '../../../src/main/core/weights/safetensors';
import type { WeightMap } from '../../../src/main/core/weights/weight-tensor';
import { ZipReader } from '../../../src/main/core/weights/zip-archive';
import type { FuzzCase, FuzzCaseSource, FuzzKind } from './fuzz-case';
import { storedEntry, writeRawZip, type RawZipEntry } from './zip-bytes';

/** The unmutated inputs every case starts from. */
interface Bases {
  safetensors: Uint8Array;
  bin: Uint8Array;
  binEntries: Array<{ name: string; data: Uint8Array }>;
  pklIndex: number;
  shards: Array<{ name: string; data: Uint8Array }>;
  index: string;
  /** tokenizer / config files of the pack, by name */
  packFiles: Map<string, string>;
}

const TOKENIZER_FILES = ['tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'tokenizer.json'];

/** A WordPiece tokenizer.json for the tiny vocab, so Tokenizers.js' own parsing is fuzzed too. */
function tokenizerJson(vocab: readonly string[]): string {
  return JSON.stringify({
    version: '1.0',
    added_tokens: [],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab.indexOf('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab.indexOf('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  });
}

async function makeBases(dir: string): Promise<Bases> {
  const st = join(dir, 'st');
  const bin = join(dir, 'bin');
  await writeTinyBlipCaptioner(st);
  await writeTinyBlipCaptioner(bin, { format: 'bin' });
  const zip = await ZipReader.open(join(bin, 'pytorch_model.bin'));
  const binEntries: Bases['binEntries'] = [];
  try {
    for (const e of zip.entries.values()) binEntries.push({ name: e.name, data: await zip.read(e) });
  } finally {
    await zip.close();
  }
  // Two shards (every other tensor) and the index naming them, as save_pretrained writes them.
  const weights = await readSafetensors(join(st, 'model.safetensors'));
  const halves: [WeightMap, WeightMap] = [new Map(), new Map()];
  const weightMap: Record<string, string> = {};
  [...weights.keys()].sort().forEach((k, i) => {
    halves[i % 2]!.set(k, weights.get(k)!);
    weightMap[k] = `model-0000${(i % 2) + 1}-of-00002.safetensors`;
  });
  const shards: Bases['shards'] = [];
  for (const [i, half] of halves.entries()) {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(join(dir, name), half);
    shards.push({ name, data: await readFile(join(dir, name)) });
  }
  const packFiles = new Map<string, string>();
  for (const f of ['config.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt']) packFiles.set(f, await readFile(join(st, f), 'utf8'));
  packFiles.set('tokenizer.json', tokenizerJson(tinyVocab()));
  return {
    safetensors: await readFile(join(st, 'model.safetensors')),
    bin: await readFile(join(bin, 'pytorch_model.bin')),
    binEntries,
    pklIndex: binEntries.findIndex((e) => e.name.endsWith('/data.pkl')),
    shards,
    index: JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
    packFiles,
  };
}

const INTERESTING_INTS = [0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, 0xffffffff];

/** Byte-level damage: what a bad disk, a bad download or a naive fuzzer does. */
function mutateBytes(rng: SeededRandom, input: Uint8Array, hotspot = input.byteLength): Uint8Array {
  const pick = (n: number): number => Math.floor(rng.next() * n);
  const at = (): number => pick(rng.next() < 0.7 ? Math.min(hotspot, input.byteLength) : input.byteLength);
  let out = Uint8Array.from(input);
  switch (pick(6)) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips; i++) {
        const p = at();
        out[p] = out[p]! ^ (1 << pick(8));
      }
      break;
    }
    case 1: {
      const p = Math.min(at(), out.byteLength - 4);
      if (p >= 0) new DataView(out.buffer).setUint32(p, INTERESTING_INTS[pick(INTERESTING_INTS.length)]! >>> 0, true);
      break;
    }
    case 2:
      out = out.slice(0, at());
      break;
    case 3: {
      const p = at();
      const len = 1 + pick(64);
      out = Uint8Array.from([...out.subarray(0, p), ...out.subarray(p + len)]);
      break;
    }
    case 4: {
      // splice a copy of some other region in: repeated structure is what parsers trip on
      const src = at();
      const chunk = out.slice(src, src + 1 + pick(256));
      const p = at();
      out = Uint8Array.from([...out.subarray(0, p), ...chunk, ...out.subarray(p)]);
      break;
    }
    default: {
      const p = at();
      out[p] = [0x00, 0xff, 0x7f, 0x80, 0x2e, 0x28][pick(6)]!;
    }
  }
  return out;
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1.5,
  2 ** 53,
  1e308,
  -1e308,
  '',
  'x'.repeat(2000),
  '../outside.safetensors',
  '/etc/passwd',
  'constructor',
  '__proto__',
  [],
  {},
  [[[[[]]]]],
  { content: 5 },
  ['F32', 'BF16'],
];

/** Replaces one value (or key) somewhere inside a JSON document with something a loader does not expect. */
function mutateJson(rng: SeededRandom, text: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const holders: Array<Record<string, unknown> | unknown[]> = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 6 || v === null || typeof v !== 'object') return;
    holders.push(v as Record<string, unknown> | unknown[]);
    for (const child of Object.values(v)) walk(child, depth + 1);
  };
  walk(doc, 0);
  const pick = (n: number): number => Math.floor(rng.next() * n);
  const holder = holders[pick(holders.length)]!;
  const keys = Object.keys(holder);
  const key = keys.length ? keys[pick(keys.length)]! : '0';
  const value = ODD_VALUES[pick(ODD_VALUES.length)];
  const h = holder as Record<string, unknown>;
  const r = rng.next();
  if (r < 0.15) delete h[key];
  else if (r < 0.25) {
    Object.defineProperty(h, ['__proto__', 'constructor', 'toString'][pick(3)]!, { value: h[key], enumerable: true, configurable: true, writable: true });
  } else h[key] = value;
  return JSON.stringify(doc);
}

/** Safetensors header damage that keeps the file well-formed enough to reach the checks after JSON parsing. */
function mutateSafetensorsHeader(rng: SeededRandom, file: Uint8Array): Uint8Array {
  const n = Number(Buffer.from(file).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(file.subarray(8, 8 + n)).toString('utf8')) as Record<string, { data_offsets?: number[]; shape?: number[]; dtype?: string }>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const pick = (k: number): number => Math.floor(rng.next() * k);
  const t = header[names[pick(names.length)]!]!;
  const other = header[names[pick(names.length)]!]!;
  switch (pick(7)) {
    case 0:
      t.data_offsets = [...other.data_offsets!]; // overlap another tensor
      t.shape = [...other.shape!];
      t.dtype = other.dtype!;
      break;
    case 1:
      t.data_offsets = t.data_offsets!.map((o) => o + 4 * (1 + pick(8))); // shift: holes and overlaps
      break;
    case 2:
      t.shape = [...t.shape!, 0];
      t.data_offsets = [t.data_offsets![0]!, t.data_offsets![0]!];
      break;
    case 3:
      t.shape = [2 ** 40, 2 ** 40];
      break;
    case 4:
      t.dtype = ['F16', 'I64', 'BOOL', 'F8_E4M3', 'constructor', ''][pick(6)]!;
      break;
    case 5: {
      // Reverse the key order: must still load.
      const reversed = Object.fromEntries(Object.entries(header).reverse());
      return rebuildSafetensors(reversed, file.subarray(8 + n));
    }
    default:
      (header as Record<string, unknown>)['__metadata__'] = ODD_VALUES[pick(ODD_VALUES.length)];
  }
  return rebuildSafetensors(header, file.subarray(8 + n));
}

function rebuildSafetensors(header: unknown, data: Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), data]);
}

/** Inserts a random opcode with random arguments into data.pkl, or damages it byte-wise. */
function mutatePickle(rng: SeededRandom, pkl: Uint8Array): Uint8Array {
  const pick = (n: number): number => Math.floor(rng.next() * n);
  if (rng.next() < 0.6) return mutateBytes(rng, pkl);
  const opcodes = [0x28, 0x29, 0x2e, 0x30, 0x31, 0x32, 0x4a, 0x4b, 0x4e, 0x51, 0x52, 0x54, 0x58, 0x5d, 0x61, 0x62, 0x65, 0x68, 0x71, 0x73, 0x74, 0x75, 0x7d, 0x81, 0x85, 0x86, 0x87, 0x8a, 0x8b, 0x8c, 0x93, 0x94];
  const insert = [opcodes[pick(opcodes.length)]!, ...Array.from({ length: pick(6) }, () => [0, 0xff, 0x80, pick(256)][pick(4)]!)];
  const p = pick(pkl.byteLength);
  return Uint8Array.from([...pkl.subarray(0, p), ...insert, ...pkl.subarray(p)]);
}

/** JSON-aware damage with probability `structured`, byte damage otherwise. */
function damageText(rng: SeededRandom, text: string, structured: number): string | Uint8Array {
  return rng.next() < structured ? mutateJson(rng, text) : mutateBytes(rng, Buffer.from(text));
}

/** What each generated case damages; the counts add up to the suite's size. */
const PLAN: Array<{ kind: FuzzKind; what: string; count: number }> = [
  { kind: 'safetensors', what: 'bytes', count: 80 },
  { kind: 'safetensors', what: 'header', count: 70 },
  { kind: 'torch', what: 'pickle', count: 110 },
  { kind: 'torch', what: 'bytes', count: 50 },
  { kind: 'pack', what: 'index', count: 40 },
  { kind: 'tokenizer', what: 'json', count: 40 },
  { kind: 'config', what: 'json', count: 20 },
];

export function mutationCases(seed: number, baseDir: string): FuzzCaseSource {
  let bases: Promise<Bases> | undefined;
  const plan = PLAN.flatMap((p) => Array.from({ length: p.count }, (_, i) => ({ ...p, i })));
  return {
    count: plan.length,
    async write(index, dir): Promise<FuzzCase> {
      bases ??= mkdir(baseDir, { recursive: true }).then(() => makeBases(baseDir));
      const b = await bases;
      const { kind, what, i } = plan[index]!;
      const rng = new SeededRandom(seed * 100_003 + index);
      const id = `${kind}-${what}-${i}`;
      switch (kind) {
        case 'safetensors': {
          const path = join(dir, 'model.safetensors');
          const n = Number(Buffer.from(b.safetensors).readBigUInt64LE(0));
          await writeFile(path, what === 'header' ? mutateSafetensorsHeader(rng, b.safetensors) : mutateBytes(rng, b.safetensors, 8 + n));
          return { id, kind, path, expect: 'any' };
        }
        case 'torch': {
          const path = join(dir, 'pytorch_model.bin');
          if (what === 'bytes') {
            await writeFile(path, mutateBytes(rng, b.bin));
          } else {
            const entries: RawZipEntry[] = b.binEntries.map((e, k) => storedEntry(e.name, k === b.pklIndex ? mutatePickle(rng, e.data) : e.data));
            await writeRawZip(path, entries);
          }
          return { id, kind, path, expect: 'any' };
        }
        case 'pack': {
          for (const s of b.shards) await writeFile(join(dir, s.name), s.data);
          await writeFile(join(dir, 'model.safetensors.index.json'), damageText(rng, b.index, 0.7));
          return { id, kind, path: dir, expect: 'any' };
        }
        case 'tokenizer': {
          // Half the packs ship tokenizer.json, half only vocab.txt, so both loading paths are fuzzed.
          const files = i % 2 ? TOKENIZER_FILES.filter((f) => f !== 'tokenizer.json') : TOKENIZER_FILES;
          const target = files[Math.floor(rng.next() * files.length)]!;
          for (const f of files) {
            const text = b.packFiles.get(f)!;
            await writeFile(join(dir, f), f !== target ? text : damageText(rng, text, f.endsWith('.json') ? 0.75 : 0));
          }
          return { id, kind, path: dir, expect: 'any' };
        }
        case 'config': {
          const path = join(dir, 'config.json');
          await writeFile(path, damageText(rng, b.packFiles.get('config.json')!, 0.8));
          return { id, kind, path, expect: 'any' };
        }
      }
    },
  };
}
