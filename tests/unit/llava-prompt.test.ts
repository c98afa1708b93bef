/**
 * Chat template rendering and tokenization for both LLaVA families, on the tiny tokenizers that mirror
 * llava-hf's files: Llama (llava-1.5, `<s>` added by the tokenizer) and Qwen2 (interleave, no bos).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAVA_15_CHAT_TEMPLATE, LLAVA_INTERLEAVE_CHAT_TEMPLATE } from '../../src/main/core/llava/chat-template';
import { LlavaPrompt } from '../../src/main/core/llava/llava-prompt';
import { tinyLlamaBpe, writeTinyLlamaTokenizer, type TinyLlamaTokenizerIds } from '../../test-models/tiny-llama-tokenizer';
import { writeTinyQwenTokenizer, type TinyTokenizerIds } from '../../test-models/tiny-llava-tokenizer';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let llamaDir: string;
let qwenDir: string;
let llamaIds: TinyLlamaTokenizerIds;
let qwenIds: TinyTokenizerIds;

beforeAll(async () => {
  tmp = tempDir('tandem-llava-prompt-');
  llamaDir = join(tmp.dir, 'llama');
  qwenDir = join(tmp.dir, 'qwen');
  mkdirSync(llamaDir);
  mkdirSync(qwenDir);
  llamaIds = await writeTinyLlamaTokenizer(llamaDir);
  writeFileSync(join(llamaDir, 'chat_template.json'), JSON.stringify({ chat_template: LLAVA_15_CHAT_TEMPLATE }));
  qwenIds = await writeTinyQwenTokenizer(qwenDir, { chatTemplate: LLAVA_INTERLEAVE_CHAT_TEMPLATE, templateIn: 'chat_template.json' });
});
afterAll(() => tmp?.cleanup());

const question = [{ role: 'user' as const, text: 'What is this?' }];

describe('llava-1.5 template with the Llama tokenizer', () => {
  const llama = (imageTokens = 3) => LlavaPrompt.load(llamaDir, { imageToken: '<image>', imageTokenId: llamaIds.image, imageTokens, textModelType: 'llama' });

  it('renders `USER: <image>\\n… ASSISTANT:` with no system text, and one `<s>` from the tokenizer', async () => {
    const p = await llama();
    const { vocab } = tinyLlamaBpe();
    const v = (piece: string): number => vocab.get(piece)!;
    const e = p.encode('', question);
    expect(e.text).toBe('USER: <image>\nWhat is this? ASSISTANT:');
    // As LlamaTokenizerFast: each text piece between added tokens gets its own leading ▁ (hence ▁ after <image>).
    const img = llamaIds.image;
    expect(e.ids).toEqual([
      llamaIds.bos, v('▁USER'), v(':'), v('▁'), img, img, img, v('▁'), v('<0x0A>'), v('W'), v('h'), v('a'), v('t'), v('▁is'), v('▁th'), v('is'), v('?'), v('▁ASSISTANT'), v(':'),
    ]);
    expect(e.imageStart).toBe(4);
    expect(e.ids.filter((id) => id === llamaIds.bos)).toHaveLength(1);
  });

  it('puts the system text first, the image on the first user turn only, and history as `ASSISTANT: … `', async () => {
    const p = await llama();
    const text = p.render('Be brief.', [
      { role: 'user', text: 'What is this?' },
      { role: 'assistant', text: 'a dog' },
      { role: 'user', text: 'and?' },
    ]);
    expect(text).toBe('Be brief. USER: <image>\nWhat is this? ASSISTANT: a dog USER: and? ASSISTANT:');
  });

  it('expands the image placeholder to the feature count (576 for CLIP-336 with the default strategy)', async () => {
    const p = await llama(576);
    const e = p.encode('', question);
    expect(e.ids.filter((id) => id === llamaIds.image)).toHaveLength(576);
    expect(e.ids.slice(e.imageStart, e.imageStart + 576).every((id) => id === llamaIds.image)).toBe(true);
  });

  it('does not add a second bos when the template writes it', async () => {
    const dir = join(tmp.dir, 'llama-bos');
    mkdirSync(dir);
    await writeTinyLlamaTokenizer(dir);
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: `{{ bos_token }}${LLAVA_15_CHAT_TEMPLATE}` }));
    const p = await LlavaPrompt.load(dir, { imageToken: '<image>', imageTokenId: llamaIds.image, imageTokens: 2, textModelType: 'llama' });
    const e = p.encode('', question);
    expect(e.text.startsWith('<s>USER: ')).toBe(true);
    expect(e.ids[0]).toBe(llamaIds.bos);
    expect(e.ids.filter((id) => id === llamaIds.bos)).toHaveLength(1);
  });

  it('falls back to the llava-1.5 template for a Llama pack without one, and drops a typed `<image>`', async () => {
    const dir = join(tmp.dir, 'llama-bare');
    mkdirSync(dir);
    await writeTinyLlamaTokenizer(dir);
    const p = await LlavaPrompt.load(dir, { imageToken: '<image>', imageTokenId: llamaIds.image, imageTokens: 2, textModelType: 'llama' });
    expect(p.render('', [{ role: 'user', text: 'is <image> this?' }])).toBe('USER: <image>\nis  this? ASSISTANT:');
    expect(p.encode('', [{ role: 'user', text: 'is <image> this?' }]).ids.filter((id) => id === llamaIds.image)).toHaveLength(2);
  });
});

describe('interleave template with the Qwen2 tokenizer', () => {
  it('renders the im_start/im_end turns exactly and tokenizes without a bos', async () => {
    const p = await LlavaPrompt.load(qwenDir, { imageToken: '<image>', imageTokenId: qwenIds.image, imageTokens: 4, textModelType: 'qwen2' });
    const e = p.encode('', question);
    expect(e.text).toBe('<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n');
    // The text between special tokens is byte-level BPE on its own; the specials and the expanded image are spliced in.
    const raw = new Tokenizer(JSON.parse(readFileSync(join(qwenDir, 'tokenizer.json'), 'utf8')) as object, {});
    const t = (text: string): number[] => raw.encode(text, { add_special_tokens: false }).ids;
    const img = qwenIds.image;
    expect(e.ids).toEqual([
      qwenIds.imStart, ...t('user\n'), img, img, img, img, ...t('\nWhat is this?'), qwenIds.imEnd, ...t('\n'), qwenIds.imStart, ...t('assistant\n'),
    ]);
    expect(e.imageStart).toBe(1 + t('user\n').length);
  });

  it('keeps a system turn when there is system text (the grounded chat)', async () => {
    const p = await LlavaPrompt.load(qwenDir, { imageToken: '<image>', imageTokenId: qwenIds.image, imageTokens: 729, textModelType: 'qwen2' });
    const e = p.encode('SYS', question);
    expect(e.text).toBe('<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n');
    expect(e.ids.filter((id) => id === qwenIds.image)).toHaveLength(729);
    expect(p.decode(e.ids)).toBe('system\nSYS\nuser\n\nWhat is this?\nassistant\n');
  });
});

describe('earlier answers as the ids the model generated', () => {
  const conversation = (answer: string) => [
    { role: 'user' as const, text: 'What is this?' },
    { role: 'assistant' as const, text: answer },
    { role: 'user' as const, text: 'and?' },
  ];

  it('llava-1.5: the answer after `ASSISTANT:` is the generated ids, the rest the text tokenized', async () => {
    const p = await LlavaPrompt.load(llamaDir, { imageToken: '<image>', imageTokenId: llamaIds.image, imageTokens: 2, textModelType: 'llama' });
    const { vocab } = tinyLlamaBpe();
    const v = (piece: string): number => vocab.get(piece)!;
    const asText = p.encode('', conversation('this is'));
    // The tokenizer writes `▁th is ▁is`; this model wrote the first word without a leading space, letter by letter.
    const generated = [v('t'), v('h'), v('i'), v('s'), v('▁is')];
    const spliced = p.encode('', conversation('this is'), new Map([['this is', generated]]));
    const asked = p.encode('', conversation('this is').slice(0, 1)).ids;
    expect(asText.ids.slice(0, asked.length)).toEqual(asked);
    expect(asText.ids.slice(asked.length, asked.length + 3)).toEqual([v('▁th'), v('is'), v('▁is')]);
    const tail = asText.ids.slice(asked.length + 3);
    expect(spliced.ids).toEqual([...asked, ...generated, ...tail]);
    expect(p.decode(tail)).toBe('USER: and? ASSISTANT:');
    expect(spliced.text).toBe(asText.text);
    expect(spliced.imageStart).toBe(asText.imageStart);
  });

  it('interleave: the same, before `<|im_end|>`; several answers, each in its place', async () => {
    const p = await LlavaPrompt.load(qwenDir, { imageToken: '<image>', imageTokenId: qwenIds.image, imageTokens: 3, textModelType: 'qwen2' });
    const raw = new Tokenizer(JSON.parse(readFileSync(join(qwenDir, 'tokenizer.json'), 'utf8')) as object, {});
    const t = (text: string): number[] => raw.encode(text, { add_special_tokens: false }).ids;
    const chars = (text: string): number[] => [...text].flatMap((c) => t(c));
    const turns = [...conversation('a dog'), { role: 'assistant' as const, text: 'a cat' }, { role: 'user' as const, text: 'why?' }];
    const answers = new Map([['a dog', chars('a dog')], ['a cat', chars('a cat')]]);
    expect(chars('a dog')).not.toEqual(t('a dog'));
    const spliced = p.encode('SYS', turns, answers);
    const asText = p.encode('SYS', turns);
    const decoded = p.decode(spliced.ids);
    expect(decoded).toBe(p.decode(asText.ids));
    // Each answer's generated ids sit right after its generation prompt and right before its <|im_end|>.
    const find = (ids: readonly number[], part: readonly number[], from = 0): number => {
      for (let i = from; i + part.length <= ids.length; i++) if (part.every((x, k) => ids[i + k] === x)) return i;
      return -1;
    };
    const dog = find(spliced.ids, [...t('assistant\n'), ...chars('a dog'), qwenIds.imEnd]);
    const cat = find(spliced.ids, [...t('assistant\n'), ...chars('a cat'), qwenIds.imEnd], dog + 1);
    expect(dog).toBeGreaterThan(0);
    expect(cat).toBeGreaterThan(dog);
    expect(spliced.ids.length - asText.ids.length).toBe(chars('a dog').length - t('a dog').length + chars('a cat').length - t('a cat').length);
  });

  it('an answer the user edited, or one no model gave, stays text', async () => {
    const p = await LlavaPrompt.load(llamaDir, { imageToken: '<image>', imageTokenId: llamaIds.image, imageTokens: 2, textModelType: 'llama' });
    const { vocab } = tinyLlamaBpe();
    const answers = new Map([['this is', [vocab.get('t')!, vocab.get('h')!, vocab.get('i')!, vocab.get('s')!, vocab.get('▁is')!]]]);
    expect(p.encode('', conversation('this is it'), answers).ids).toEqual(p.encode('', conversation('this is it')).ids);
    // The same words as a question are the user's, not an answer.
    const asked = [{ role: 'user' as const, text: 'this is' }];
    expect(p.encode('', asked, answers).ids).toEqual(p.encode('', asked).ids);
  });
});
