/**
 * A small real Qwen2-style tokenizer for the tiny LLaVA: byte-level BPE (GPT-2's byte alphabet, so any text
 * encodes), a few hundred merges that spell common English words, and Qwen's special tokens plus LLaVA's
 * `<image>`, written as tokenizer.json + tokenizer_config.json the way the llava-hf repos ship them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const QWEN_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<image>'] as const;

export interface TinyTokenizerIds {
  /** Tokens in the BPE vocabulary plus the added specials. */
  size: number;
  endOfText: number;
  imStart: number;
  imEnd: number;
  image: number;
  /** Ids of single bytes other than letters and space: the generator keeps the model away from them. */
  rareByteIds: number[];
}

const WORDS = [
  'the', 'a', 'an', 'of', 'in', 'on', 'and', 'is', 'are', 'it', 'this', 'that', 'with', 'photo', 'picture', 'image',
  'red', 'green', 'blue', 'yellow', 'white', 'black', 'square', 'dog', 'cat', 'man', 'woman', 'child', 'people',
  'sky', 'sea', 'tree', 'house', 'street', 'table', 'car', 'light', 'bright', 'dark', 'old', 'new', 'story', 'once',
  'upon', 'time', 'there', 'was', 'past', 'future', 'think', 'looks', 'like', 'scene', 'shows', 'you', 'user',
  'assistant', 'system', 'what', 'how', 'many', 'why', 'tell', 'about', 'colour', 'color', 'describe', 'Tandem',
  'BLIP', 'caption', 'answer', 'facts', 'model', 'friendly', 'one', 'two', 'three', 'yes', 'no',
];

/** GPT-2's reversible byte → printable character map (bytes_to_unicode). */
export function byteAlphabet(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const out: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) out[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return out;
}

/** ChatML's role names, which Qwen2's real vocabulary holds as single tokens. */
const ROLE_NAMES = ['system', 'user', 'assistant'];

/**
 * Vocabulary (token → id) and merges, in priority order, that build each word left to right. `firstWords` are
 * merged before all others, so no earlier merge splits them (by default 'user' encodes as u·se·r, since the
 * `se` of 'sea' outranks its own merges).
 */
export function tinyBpe(firstWords: readonly string[] = []): { vocab: Map<string, number>; merges: [string, string][] } {
  const alphabet = byteAlphabet();
  const vocab = new Map<string, number>();
  alphabet.forEach((ch) => vocab.set(ch, vocab.size));
  const merges: [string, string][] = [];
  const space = alphabet[32]!;
  for (const word of [...firstWords, ...WORDS.filter((w) => !firstWords.includes(w))]) {
    for (const form of [word, `${space}${word}`]) {
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

const TEMPLATE_NOTE = 'chat_template.json';

export interface TinyQwenTokenizerOptions {
  chatTemplate?: string;
  templateIn?: 'tokenizer_config' | 'chat_template.json';
  /**
   * Make 'system', 'user' and 'assistant' one token each, as in Qwen2's vocabulary, so a ChatML turn costs the
   * ~5 template tokens a real one does (what the engine's context trimming budgets per turn). Default false.
   */
  wholeRoleNames?: boolean;
}

export async function writeTinyQwenTokenizer(dir: string, options: TinyQwenTokenizerOptions = {}): Promise<TinyTokenizerIds> {
  const { vocab, merges } = tinyBpe(options.wholeRoleNames ? ROLE_NAMES : []);
  const base = vocab.size;
  const added = QWEN_SPECIALS.map((content, i) => ({ id: base + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, use_regex: false },
    decoder: { ...byteLevel, use_regex: false },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config: Record<string, unknown> = {
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(added.map((t) => [String(t.id), { ...t, id: undefined }])),
    additional_special_tokens: ['<|im_start|>', '<|im_end|>', '<image>'],
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    padding_side: 'left',
    processor_class: 'LlavaProcessor',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  // llava-hf keeps the template in chat_template.json, not in tokenizer_config.json.
  if (options.chatTemplate && options.templateIn === 'tokenizer_config') config['chat_template'] = options.chatTemplate;
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config, null, 2));
  await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>', additional_special_tokens: ['<|im_start|>', '<|im_end|>', '<image>'] }, null, 2));
  if (options.chatTemplate && options.templateIn !== 'tokenizer_config') {
    await writeFile(join(dir, TEMPLATE_NOTE), JSON.stringify({ chat_template: options.chatTemplate }, null, 2));
  }
  const alphabet = byteAlphabet();
  const rareByteIds: number[] = [];
  for (let b = 0; b < 256; b++) {
    const isLetter = (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
    if (!isLetter && b !== 32) rareByteIds.push(vocab.get(alphabet[b]!)!);
  }
  return { size: base + added.length, endOfText: base, imStart: base + 1, imEnd: base + 2, image: base + 3, rareByteIds };
}
