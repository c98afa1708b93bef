import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { loadBlipTokenizer, type BlipTokenizer } from '../../src/main/core/blip/tokenizer';

/** A small real BERT-style vocabulary: id = position. */
const VOCAB = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', // 0-4
  'a', 'dog', 'on', 'the', 'couch', // 5-9
  '.', ',', '?', '!', "'", // 10-14
  't', 'don', 'play', '##ing', '##s', // 15-19
  'cafe', 'you', 're', 'un', '##believ', // 20-24
  '##able', '中', '国', 'red', '##a', // 25-29
  'isn', '(', ')', 'photo', // 30-33
];
const DEC = 34;
const ENC = 35;

const SPECIAL_TOKENS_MAP = {
  bos_token: '[DEC]',
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  pad_token: '[PAD]',
  sep_token: '[SEP]',
  unk_token: '[UNK]',
  additional_special_tokens: ['[ENC]'],
};
const TOKENIZER_CONFIG = { do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer', strip_accents: null };

function addedToken(id: number, content: string) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

/** tokenizer.json as transformers saves BertTokenizerFast (BLIP's repos ship this). */
function tokenizerJson() {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      addedToken(0, '[PAD]'), addedToken(1, '[UNK]'), addedToken(2, '[CLS]'), addedToken(3, '[SEP]'), addedToken(4, '[MASK]'),
      addedToken(DEC, '[DEC]'), addedToken(ENC, '[ENC]'),
    ],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
    },
  };
}

let root: string;
const dirs = { json: '', vocab: '', bare: '', cased: '' };

async function writeLayout(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  for (const [file, content] of Object.entries(files)) {
    await writeFile(join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-tok-'));
  const vocabTxt = VOCAB.join('\n') + '\n';
  dirs.json = await writeLayout('json', {
    'tokenizer.json': tokenizerJson(),
    'tokenizer_config.json': TOKENIZER_CONFIG,
    'special_tokens_map.json': SPECIAL_TOKENS_MAP,
    'vocab.txt': vocabTxt,
  });
  // What the slow BertTokenizer saves: vocab.txt + added_tokens.json for the tokens appended after it.
  dirs.vocab = await writeLayout('vocab', {
    'vocab.txt': vocabTxt,
    'tokenizer_config.json': TOKENIZER_CONFIG,
    'special_tokens_map.json': SPECIAL_TOKENS_MAP,
    'added_tokens.json': { '[DEC]': DEC, '[ENC]': ENC },
  });
  // Only bert-base-uncased's files: BLIP's init_tokenizer() appends [DEC] then [ENC].
  dirs.bare = await writeLayout('bare', { 'vocab.txt': vocabTxt, 'tokenizer_config.json': TOKENIZER_CONFIG });
  dirs.cased = await writeLayout('cased', { 'vocab.txt': vocabTxt, 'tokenizer_config.json': { do_lower_case: false } });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Expected ids follow BertTokenizer's rules by hand: clean, lowercase, strip accents, split punctuation and CJK, WordPiece. */
const CASES: Array<[string, number[]]> = [
  ['A dog on the couch.', [2, 5, 6, 7, 8, 9, 10, 3]],
  ['Playing dogs!', [2, 17, 18, 6, 19, 13, 3]],
  ['Café', [2, 20, 3]], // NFD + drop combining marks
  ['CAFÉ', [2, 20, 3]],
  ['zebra', [2, 1, 3]], // no piece matches → the whole word is [UNK]
  ['Unbelievable', [2, 23, 24, 25, 3]],
  ["don't", [2, 16, 14, 15, 3]],
  ["you're", [2, 21, 14, 22, 3]],
  ['中国', [2, 26, 27, 3]], // CJK ideographs are split even without spaces
  ['(red) photo', [2, 31, 28, 32, 33, 3]],
  ['RED!!', [2, 28, 13, 13, 3]],
  ['dog\u0000 on\tthe\ncouch', [2, 6, 7, 8, 9, 3]], // NUL dropped, tab/newline are spaces
  ['do\u200bg', [2, 6, 3]], // zero-width space is a format (Cf) char: removed
  ['  ', [2, 3]],
  ['a'.repeat(100), [2, 5, ...new Array<number>(99).fill(29), 3]], // 100 chars: still WordPiece'd
  ['a'.repeat(101), [2, 1, 3]], // over max_input_chars_per_word → [UNK]
];

describe('loadBlipTokenizer', () => {
  let fromJson: BlipTokenizer;
  let fromVocab: BlipTokenizer;
  let fromBare: BlipTokenizer;
  beforeAll(async () => {
    [fromJson, fromVocab, fromBare] = await Promise.all([loadBlipTokenizer(dirs.json), loadBlipTokenizer(dirs.vocab), loadBlipTokenizer(dirs.bare)]);
  });

  it.each(CASES)('encodes %j like BertTokenizer', (text, ids) => {
    expect(fromJson.encode(text)).toEqual(ids);
  });

  it('gives identical ids and text from tokenizer.json, vocab.txt and bare vocab.txt layouts', () => {
    for (const [text] of CASES) {
      const ids = fromJson.encode(text);
      expect(fromVocab.encode(text), text).toEqual(ids);
      expect(fromBare.encode(text), text).toEqual(ids);
      expect(fromVocab.decode(ids, { skipSpecialTokens: true }), text).toBe(fromJson.decode(ids, { skipSpecialTokens: true }));
    }
    for (const tok of [fromJson, fromVocab, fromBare]) {
      expect(tok.vocabSize).toBe(36);
      expect(tok.specialIds).toEqual({ cls: 2, sep: 3, pad: 0, unk: 1, mask: 4, bos: DEC, enc: ENC });
      expect(tok.tokenToId('[DEC]')).toBe(DEC);
      expect(tok.tokenToId('[ENC]')).toBe(ENC);
      expect(tok.tokenToId('##believ')).toBe(24);
      expect(tok.tokenToId('nope')).toBeUndefined();
    }
  });

  it('decodes like BertTokenizer.decode(skip_special_tokens=True): drops [DEC]/[ENC]/[PAD]/[UNK], joins ##, cleans spaces', () => {
    expect(fromJson.decode([DEC, 5, 6, 7, 8, 9, 10, 3], { skipSpecialTokens: true })).toBe('a dog on the couch.');
    expect(fromJson.decode(fromJson.encode('Playing dogs!'), { skipSpecialTokens: true })).toBe('playing dogs!');
    expect(fromJson.decode(fromJson.encode('Unbelievable'), { skipSpecialTokens: true })).toBe('unbelievable');
    // "don ' t , you ' re isn ' t ?" → clean_up_tokenization_spaces
    expect(fromJson.decode(fromJson.encode("don't, you're isn't?"), { skipSpecialTokens: true })).toBe("don't, you're isn't?");
    expect(fromJson.decode([ENC, 5, 1, 6, 0, 0], { skipSpecialTokens: true })).toBe('a dog');
    expect(fromJson.decode([], { skipSpecialTokens: true })).toBe('');
  });

  it('keeps special tokens when not asked to skip them', () => {
    expect(fromJson.decode([2, 5, 6, 3])).toBe('[CLS] a dog [SEP]');
    expect(fromVocab.decode([DEC, 5, 6])).toBe('[DEC] a dog');
  });

  it('honours do_lower_case=false (no lowercasing, accents kept)', async () => {
    const cased = await loadBlipTokenizer(dirs.cased);
    expect(cased.encode('Dog dog')).toEqual([2, 1, 6, 3]);
    expect(cased.encode('café')).toEqual([2, 1, 3]);
  });

  it('names the folder when no tokenizer file is there', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    const err = await loadBlipTokenizer(empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toContain(empty);
    expect((err as Error).message).toMatch(/no tokenizer\.json or vocab\.txt/);
  });
});
