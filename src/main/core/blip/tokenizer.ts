/**
 * BLIP's text tokenizer: BERT WordPiece (bert-base-uncased) plus BLIP's `[DEC]` (bos) and `[ENC]` tokens.
 *
 * Tokenization itself runs in `@huggingface/tokenizers` (Tokenizers.js, pure JS, no network: it only takes JSON
 * objects, and `@huggingface/transformers` uses the same package). A repo that ships only `vocab.txt` gets the
 * `tokenizer.json` that transformers' BertConverter would have produced from it, so both layouts go through one
 * code path and yield the same ids.
 */
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { asModelFileError, ModelFileError } from '../errors';
import { MAX_TOKENIZER_JSON_BYTES, parseModelJson, readModelText } from '../weights/model-json';

export interface BlipTokenizer {
  /** `[CLS] … [SEP]`, like BertTokenizer(add_special_tokens=True). */
  encode(text: string): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  readonly vocabSize: number;
  readonly specialIds: {
    cls?: number;
    sep?: number;
    pad?: number;
    unk?: number;
    mask?: number;
    /** `[DEC]` */
    bos?: number;
    /** `[ENC]` */
    enc?: number;
  };
}

type Json = Record<string, unknown>;

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** Order in which transformers registers special tokens missing from the vocab (SPECIAL_TOKENS_ATTRIBUTES). */
const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
type SpecialKey = (typeof SPECIAL_KEYS)[number];

const BERT_DEFAULTS: Partial<Record<SpecialKey, string>> = {
  unk_token: '[UNK]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
};

/** What BLIP's own `init_tokenizer()` adds to bert-base-uncased. */
const BLIP_DEC = '[DEC]';
const BLIP_ENC = '[ENC]';

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Size-capped (model-json.ts): tokenizer files come from the internet with the rest of the pack. */
async function readOptional(file: string): Promise<string | undefined> {
  return readModelText(file, MAX_TOKENIZER_JSON_BYTES);
}

async function readJson(file: string): Promise<Json | undefined> {
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  const value = parseModelJson(file, text);
  if (!isObject(value)) throw new ModelFileError(file, `${file}: expected a JSON object`);
  return value;
}

/** Token ids index embedding rows: anything but a non-negative integer is a damaged file. */
function isTokenId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Special tokens are saved either as strings or as serialized AddedToken objects (`{"content": "[CLS]", …}`). */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** HF's load_vocab: one token per line, id = line number, only the newline stripped. */
function parseVocabTxt(text: string): Map<string, number> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((token, i) => vocab.set(token, i));
  return vocab;
}

function maxId(ids: Iterable<number>, tokens: Iterable<AddedTokenJson>): number {
  let max = -1;
  for (const id of ids) if (id > max) max = id;
  for (const t of tokens) if (t.id > max) max = t.id;
  return max;
}

function added(id: number, content: string): AddedTokenJson {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** The tokenizer.json transformers' BertConverter writes for a BertTokenizer with these settings. */
function bertTokenizerJson(vocab: Map<string, number>, config: Json, unk: string, cls: string, sep: string): Json {
  const doLowerCase = config.do_lower_case ?? true;
  const chinese = config.tokenize_chinese_chars ?? true;
  const stripAccents = config.strip_accents ?? null;
  const clsId = vocab.get(cls);
  const sepId = vocab.get(sep);
  return {
    version: '1.0',
    added_tokens: [],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: chinese, strip_accents: stripAccents, lowercase: doLowerCase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    model: {
      type: 'WordPiece',
      unk_token: unk,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: clsId === undefined ? [] : [clsId], tokens: [cls] },
        [sep]: { id: sep, ids: sepId === undefined ? [] : [sepId], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  };
}

/**
 * Astral-plane CJK ideographs (BERT's `_is_chinese_char` ranges above U+FFFF). Tokenizers.js walks UTF-16 code
 * units, so it misses these; spacing them out first gives what BERT's normalizer does.
 */
const ASTRAL_CJK = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;
/** BERT drops every "C*" category character; Tokenizers.js forgets unassigned code points (Cn). */
const UNASSIGNED = /\p{Cn}/gu;

export async function loadBlipTokenizer(dir: string): Promise<BlipTokenizer> {
  try {
    return await buildBlipTokenizer(dir);
  } catch (err) {
    // Tokenizers.js throws plain TypeErrors on malformed fields; the user needs to know which folder is at fault.
    throw asModelFileError(join(dir, 'tokenizer.json'), err, 'cannot be used as a BLIP tokenizer');
  }
}

async function buildBlipTokenizer(dir: string): Promise<BlipTokenizer> {
  const tokenizerJsonPath = join(dir, 'tokenizer.json');
  const vocabPath = join(dir, 'vocab.txt');
  const config = (await readJson(join(dir, 'tokenizer_config.json'))) ?? {};
  const specialMap = (await readJson(join(dir, 'special_tokens_map.json'))) ?? {};
  const addedJson = (await readJson(join(dir, 'added_tokens.json'))) ?? {};
  const tokenizerJson = await readJson(tokenizerJsonPath);

  const special = (key: string): string | undefined => tokenText(config[key]) ?? tokenText(specialMap[key]);
  const unk = special('unk_token') ?? BERT_DEFAULTS.unk_token!;
  const cls = special('cls_token') ?? BERT_DEFAULTS.cls_token!;
  const sep = special('sep_token') ?? BERT_DEFAULTS.sep_token!;

  let base: Json;
  let vocab: Map<string, number>;
  const addedTokens = new Map<string, AddedTokenJson>();
  if (tokenizerJson) {
    const model = tokenizerJson.model;
    if (!isObject(model) || model.type !== 'WordPiece' || !isObject(model.vocab)) {
      throw new ModelFileError(tokenizerJsonPath, `${tokenizerJsonPath}: expected a WordPiece (BERT) tokenizer, which BLIP uses`);
    }
    vocab = new Map();
    for (const [token, id] of Object.entries(model.vocab)) {
      if (!isTokenId(id)) throw new ModelFileError(tokenizerJsonPath, `${tokenizerJsonPath}: vocab entry ${JSON.stringify(token.slice(0, 100))} has no valid id`);
      vocab.set(token, id);
    }
    for (const t of Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : []) {
      if (isObject(t) && isTokenId(t.id) && typeof t.content === 'string') {
        addedTokens.set(t.content, { ...added(t.id, t.content), ...(t as Partial<AddedTokenJson>) });
      }
    }
    base = tokenizerJson;
  } else {
    const text = await readOptional(vocabPath);
    if (text === undefined) {
      throw new ModelFileError(tokenizerJsonPath, `${dir}: no tokenizer.json or vocab.txt, so the model's text cannot be tokenized`);
    }
    vocab = parseVocabTxt(text);
    base = bertTokenizerJson(vocab, config, unk, cls, sep);
  }

  // Tokens appended after the vocab: newer configs list them in added_tokens_decoder, older ones in added_tokens.json.
  const decoderEntries = isObject(config.added_tokens_decoder) ? Object.entries(config.added_tokens_decoder) : [];
  for (const [idText, t] of decoderEntries) {
    const content = tokenText(t);
    if (content !== undefined && isTokenId(Number(idText)) && !addedTokens.has(content)) {
      addedTokens.set(content, { ...added(Number(idText), content), special: isObject(t) ? t.special !== false : true });
    }
  }
  for (const [content, id] of Object.entries(addedJson)) {
    if (isTokenId(id) && !addedTokens.has(content)) addedTokens.set(content, added(id, content));
  }

  const idOf = (token: string): number | undefined => addedTokens.get(token)?.id ?? vocab.get(token);
  if (vocab.get(unk) === undefined) {
    const file = tokenizerJson ? tokenizerJsonPath : vocabPath;
    throw new ModelFileError(file, `${file}: the vocabulary has no unknown-word token ${unk}`);
  }
  let nextId = maxId(vocab.values(), addedTokens.values()) + 1;
  const ensureSpecial = (token: string): number => {
    let id = idOf(token);
    if (id === undefined) id = nextId++;
    const existing = addedTokens.get(token);
    addedTokens.set(token, existing ? { ...existing, special: true } : added(id, token));
    return id;
  };

  const declared = new Map<SpecialKey, string>();
  for (const key of SPECIAL_KEYS) {
    const fallback = BERT_DEFAULTS[key];
    // BERT's defaults count only when the vocab has them; cls/sep/unk are needed whatever happens.
    const usable = fallback !== undefined && (idOf(fallback) !== undefined || key === 'cls_token' || key === 'sep_token' || key === 'unk_token');
    const token = special(key) ?? (usable ? fallback : undefined);
    if (token !== undefined) declared.set(key, token);
  }
  const extraRaw = config.additional_special_tokens ?? specialMap.additional_special_tokens;
  const extra = (Array.isArray(extraRaw) ? extraRaw : []).map(tokenText).filter((t): t is string => t !== undefined);
  // A BLIP checkpoint always has [DEC] and [ENC]; if the files never mention a bos token, do what BLIP does.
  if (!declared.has('bos_token')) {
    declared.set('bos_token', BLIP_DEC);
    if (!extra.includes(BLIP_ENC)) extra.push(BLIP_ENC);
  }
  for (const key of SPECIAL_KEYS) {
    const token = declared.get(key);
    if (token !== undefined) ensureSpecial(token);
  }
  for (const token of extra) ensureSpecial(token);

  const addedList = [...addedTokens.values()].sort((a, b) => a.id - b.id);
  const lib = new Tokenizer(
    { ...base, added_tokens: addedList },
    {
      clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? true,
      additional_special_tokens: extra,
    },
  );

  const normalizer = isObject(base.normalizer) ? base.normalizer : {};
  const handleChinese = normalizer.handle_chinese_chars !== false;
  const vocabSize = maxId(vocab.values(), addedList) + 1;
  const idFor = (key: SpecialKey): number | undefined => {
    const token = declared.get(key);
    return token === undefined ? undefined : idOf(token);
  };

  return {
    encode(text: string): number[] {
      let t = text.replace(UNASSIGNED, '');
      if (handleChinese) t = t.replace(ASTRAL_CJK, ' $& ');
      return lib.encode(t).ids;
    },
    decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string {
      if (ids.length === 0) return '';
      return lib.decode([...ids], { skip_special_tokens: opts?.skipSpecialTokens ?? false });
    },
    tokenToId(token: string): number | undefined {
      return idOf(token);
    },
    vocabSize,
    specialIds: {
      cls: idFor('cls_token'),
      sep: idFor('sep_token'),
      pad: idFor('pad_token'),
      unk: idFor('unk_token'),
      mask: idFor('mask_token'),
      bos: idFor('bos_token'),
      enc: idOf(BLIP_ENC),
    },
  };
}
