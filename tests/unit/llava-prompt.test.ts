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
