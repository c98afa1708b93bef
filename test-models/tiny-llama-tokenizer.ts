/**
 * A small real Llama-style tokenizer for the tiny LLaVA-1.5: SentencePiece BPE as LlamaTokenizerFast saves
 * it (spaces become ▁, one ▁ is prepended, unknown characters fall back to <0xNN> byte tokens), with
 * `<unk>` 0, `<s>` 1, `</s>` 2, the 256 byte tokens, the pieces for a few hundred English words, then
 * LLaVA's added `<image>` and `<pad>` (32000 and 32001 in llava-1.5; here right after the vocabulary).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TinyLlamaTokenizerIds {
  unk: number;
  bos: number;
  eos: number;
  image: number;
  pad: number;
  /** ids in use: the vocabulary plus the added tokens */
  size: number;
}

const SPACE = '\u2581';

const WORDS = [
  'USER', 'ASSISTANT', 'the', 'a', 'an', 'of', 'in', 'on', 'and', 'is', 'are', 'it', 'this', 'that', 'with', 'what',
  'photo', 'picture', 'image', 'red', 'green', 'blue', 'yellow', 'white', 'black', 'dog', 'cat', 'man', 'woman',
  'sky', 'sea', 'tree', 'house', 'street', 'table', 'car', 'light', 'dark', 'there', 'shows', 'describe', 'tell',
  'me', 'about', 'how', 'many', 'people', 'yes', 'no', 'one', 'two', 'three', 'colour', 'color', 'scene',
];

const CHARS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?\'"()-'];

/** Vocabulary (piece → id) and merges that spell each word with and without its leading ▁. */
export function tinyLlamaBpe(): { vocab: Map<string, number>; merges: [string, string][] } {
  const vocab = new Map<string, number>([['<unk>', 0], ['<s>', 1], ['</s>', 2]]);
  for (let b = 0; b < 256; b++) vocab.set(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, vocab.size);
  vocab.set(SPACE, vocab.size);
  for (const c of CHARS) vocab.set(c, vocab.size);
  const merges: [string, string][] = [];
  for (const word of WORDS) {
    for (const form of [`${SPACE}${word}`, word]) {
      let piece = form[0]!;
      for (const ch of form.slice(1)) {
        const next = piece + ch;
        if (!vocab.has(next)) {
          merges.push([piece, ch]);
          vocab.set(next, vocab.size);
        }
        piece = next;
      }
    }
  }
  return { vocab, merges };
}

function addedToken(id: number, content: string, special: boolean): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json as llava-hf/llava-1.5-7b-hf has them. */
export async function writeTinyLlamaTokenizer(dir: string): Promise<TinyLlamaTokenizerIds> {
  const { vocab, merges } = tinyLlamaBpe();
  const image = vocab.size;
  const pad = vocab.size + 1;
  const added = [addedToken(0, '<unk>', true), addedToken(1, '<s>', true), addedToken(2, '</s>', true), addedToken(image, '<image>', true), addedToken(pad, '<pad>', true)];
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SPACE },
        { type: 'Replace', pattern: { String: ' ' }, content: SPACE },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: SPACE }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const decoderEntry = (t: Record<string, unknown>) => {
    const { id: _id, ...rest } = t;
    return rest;
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(added.map((t) => [String(t['id']), decoderEntry(t)])),
    bos_token: '<s>',
    clean_up_tokenization_spaces: false,
    eos_token: '</s>',
    legacy: false,
    model_max_length: 1000000000000000019884624838656,
    pad_token: '<pad>',
    padding_side: 'left',
    processor_class: 'LlavaProcessor',
    sp_model_kwargs: {},
    spaces_between_special_tokens: false,
    tokenizer_class: 'LlamaTokenizer',
    unk_token: '<unk>',
    use_default_system_prompt: false,
  };
  const specials = {
    bos_token: { content: '<s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    eos_token: { content: '</s>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    pad_token: { content: '<pad>', lstrip: false, normalized: false, rstrip: false, single_word: false },
    unk_token: { content: '<unk>', lstrip: false, normalized: false, rstrip: false, single_word: false },
  };
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(join(dir, 'special_tokens_map.json'), `${JSON.stringify(specials, null, 2)}\n`);
  return { unk: 0, bos: 1, eos: 2, image, pad, size: pad + 1 };
}
