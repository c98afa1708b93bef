/**
 * A small real WordPiece vocabulary in bert-base-uncased's style: BERT's special tokens, punctuation, common
 * caption words (colours included) and a few `##` continuation pieces. BLIP's `[DEC]`/`[ENC]` are not in
 * vocab.txt: like Salesforce's checkpoints they are appended after it (ids vocab.length, vocab.length + 1).
 */
export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export const COLOUR_WORDS = ['red', 'green', 'blue', 'yellow', 'orange', 'purple', 'pink', 'brown', 'white', 'black', 'gray', 'cyan'] as const;
export type ColourWord = (typeof COLOUR_WORDS)[number];

const PUNCTUATION = ['!', '"', "'", '(', ')', ',', '-', '.', '/', ':', ';', '?'];

const WORDS = [
  'a', 'an', 'the', 'of', 'in', 'on', 'at', 'with', 'and', 'is', 'are', 'to', 'for', 'by', 'from', 'near', 'under', 'over',
  'photo', 'photograph', 'photography', 'picture', 'image', 'view', 'close', 'up',
  ...COLOUR_WORDS, 'grey', 'dark', 'light', 'bright',
  'man', 'woman', 'person', 'people', 'child', 'boy', 'girl', 'dog', 'cat', 'bird', 'horse', 'cow', 'sheep',
  'car', 'bus', 'train', 'boat', 'bike', 'plane', 'street', 'road', 'building', 'house', 'room', 'table', 'chair',
  'couch', 'bed', 'window', 'door', 'wall', 'floor', 'sky', 'cloud', 'clouds', 'tree', 'trees', 'grass', 'field',
  'flower', 'flowers', 'water', 'sea', 'beach', 'lake', 'river', 'mountain', 'snow', 'sun', 'sunset', 'night',
  'city', 'park', 'garden', 'food', 'plate', 'cup', 'coffee', 'cake', 'pizza', 'book', 'phone', 'computer',
  'sitting', 'standing', 'walking', 'running', 'playing', 'holding', 'looking', 'eating', 'lying', 'riding',
  'large', 'small', 'big', 'old', 'young', 'two', 'three', 'some', 'many', 'group', 'top', 'side', 'front', 'back',
  'background', 'colour', 'color', 'what', 'which', 'how', 'is', 'this', 'that', 'there', 'it', 'yes', 'no', 'one',
  'solid', 'plain', 'blank', 'empty', 'surface', 'paper', 'square',
];

const CONTINUATIONS = ['##s', '##ed', '##ing', '##er', '##ly', '##y', '##ish'];

/** The vocab.txt lines (ids are line numbers). */
export function tinyVocab(): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of [...SPECIAL_TOKENS, ...PUNCTUATION, ...WORDS, ...CONTINUATIONS]) {
    if (!seen.has(t)) {
      seen.add(t);
      out.push(t);
    }
  }
  return out;
}
