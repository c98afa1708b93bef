/**
 * A LLaVA conversation as token ids: the pack's chat template rendered with @huggingface/jinja, tokenized with
 * the pack's tokenizer.json (@huggingface/tokenizers), and the image placeholder expanded to one token per
 * image feature, as transformers' LlavaProcessor does before the model writes the features in their place.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ChatTurn } from '../chat/chat-types';
import { ModelFileError } from '../errors';
import { LLAVA_15_CHAT_TEMPLATE, LLAVA_INTERLEAVE_CHAT_TEMPLATE } from './chat-template';
import { isJsonObject, readJsonFile } from './llava-pack-config';

export interface LlavaPromptOptions {
  imageToken: string;
  imageTokenId: number;
  /** What one image placeholder expands to. */
  imageTokens: number;
  /** Picks the fallback template when the pack ships none. */
  textModelType: string;
}

export interface EncodedPrompt {
  /** The rendered template, the image placeholder not expanded. */
  text: string;
  /** Token ids with the placeholder expanded to `imageTokens` image-token ids. */
  ids: number[];
  /** Index of the first image token in `ids`, -1 without an image. */
  imageStart: number;
}

/** The ids the model generated for each answer it gave (the end-of-answer id left out), by the answer's text. */
export type GeneratedAnswers = ReadonlyMap<string, readonly number[]>;

function startsWith(ids: readonly number[], prefix: readonly number[]): boolean {
  if (prefix.length > ids.length) return false;
  for (let i = 0; i < prefix.length; i++) if (ids[i] !== prefix[i]) return false;
  return true;
}

/** Special tokens are saved as strings or as AddedToken objects (`{"content": "<s>", …}`). */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isJsonObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** tokenizer_config's chat_template, chat_template.json, chat_template.jinja, else the model family's template. */
async function findTemplate(modelDir: string, tokenizerConfig: Record<string, unknown>, textModelType: string): Promise<string> {
  const inConfig = tokenizerConfig.chat_template;
  if (typeof inConfig === 'string' && inConfig) return inConfig;
  // Newer tokenizers keep several named templates; the unnamed chat uses "default".
  if (Array.isArray(inConfig)) {
    const named = inConfig.find((t) => isJsonObject(t) && t.name === 'default');
    if (isJsonObject(named) && typeof named.template === 'string') return named.template;
  }
  const json = await readJsonFile(join(modelDir, 'chat_template.json'));
  if (typeof json?.chat_template === 'string') return json.chat_template;
  try {
    return await readFile(join(modelDir, 'chat_template.jinja'), 'utf8');
  } catch {
    // fall through to the family default
  }
  return textModelType === 'llama' ? LLAVA_15_CHAT_TEMPLATE : LLAVA_INTERLEAVE_CHAT_TEMPLATE;
}

export class LlavaPrompt {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly template: Template,
    readonly templateSource: string,
    private readonly specials: Record<string, string>,
    private readonly options: LlavaPromptOptions,
  ) {}

  static async load(modelDir: string, options: LlavaPromptOptions): Promise<LlavaPrompt> {
    const tokenizerJson = await readJsonFile(join(modelDir, 'tokenizer.json'));
    if (!tokenizerJson) throw new ModelFileError('tokenizer.json', `${modelDir} has no tokenizer.json. Reinstall or re-import the model.`);
    const config = (await readJsonFile(join(modelDir, 'tokenizer_config.json'))) ?? {};
    const specialMap = (await readJsonFile(join(modelDir, 'special_tokens_map.json'))) ?? {};
    const tokenizer = new Tokenizer(tokenizerJson, config);
    const source = await findTemplate(modelDir, config, options.textModelType);
    const specials: Record<string, string> = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const text = tokenText(config[key]) ?? tokenText(specialMap[key]);
      if (text !== undefined) specials[key] = text;
    }
    let template: Template;
    try {
      template = new Template(source);
    } catch (err) {
      throw new ModelFileError('chat_template.json', `${modelDir}: the chat template cannot be parsed: ${(err as Error).message}`, { cause: err });
    }
    return new LlavaPrompt(tokenizer, template, source, specials, options);
  }

  get bosToken(): string | undefined {
    return this.specials['bos_token'];
  }

  /**
   * The template's text; the photo rides on the first user turn. An empty system text leaves the system turn
   * out, so the prompt is exactly the template's own (the deterministic mode compares it with transformers).
   */
  render(system: string, turns: readonly ChatTurn[]): string {
    const firstUser = turns.findIndex((t) => t.role === 'user');
    const clean = (text: string): string => this.withoutPlaceholder(text);
    const messages = [
      ...(system ? [{ role: 'system', content: [{ type: 'text', text: clean(system) }] }] : []),
      ...turns.map((t, i) => ({
        role: t.role,
        content: i === firstUser ? [{ type: 'image' }, { type: 'text', text: clean(t.text) }] : [{ type: 'text', text: clean(t.text) }],
      })),
    ];
    return this.template.render({ messages, add_generation_prompt: true, ...this.specials });
  }

  /**
   * The conversation as the model reads it. With `answers`, an answer the model gave is fed back as the ids it
   * generated (see withGeneratedAnswers); every other piece is the rendered text tokenized.
   */
  encode(system: string, turns: readonly ChatTurn[], answers?: GeneratedAnswers): EncodedPrompt {
    const text = this.render(system, turns);
    // A template that writes bos itself must not get a second one from the tokenizer's post-processor
    // (transformers' apply_chat_template(tokenize=True) passes add_special_tokens=False for that reason).
    const bos = this.bosToken;
    const addSpecial = !(bos && text.startsWith(bos));
    let raw = this.tokenize(text, addSpecial);
    if (answers && answers.size > 0) raw = this.withGeneratedAnswers(system, turns, text, raw, addSpecial, answers);
    const { imageTokenId, imageTokens } = this.options;
    const ids: number[] = [];
    let imageStart = -1;
    for (const id of raw) {
      if (id !== imageTokenId) {
        ids.push(id);
        continue;
      }
      if (imageStart < 0) imageStart = ids.length;
      for (let i = 0; i < imageTokens; i++) ids.push(id);
    }
    return { text, ids, imageStart };
  }

  /**
   * Each earlier answer as the ids the model generated rather than its text tokenized again. The two differ
   * where the model picked a split the tokenizer would not (a word in two pieces, no leading space after
   * `ASSISTANT:`); with the generated ids the kept keys/values cover the whole answer, so a follow-up reads only
   * its new tokens, and the model reads back what it wrote, as llama.cpp and Ollama keep their context.
   * An answer is swapped only where it sits right after the generation prompt it was answered from and both of
   * its ends fall on token boundaries of the whole text; an edited answer has no ids and stays text.
   */
  private withGeneratedAnswers(
    system: string,
    turns: readonly ChatTurn[],
    text: string,
    raw: readonly number[],
    addSpecial: boolean,
    answers: GeneratedAnswers,
  ): number[] {
    const out: number[] = [];
    let done = 0;
    turns.forEach((turn, i) => {
      const generated = turn.role === 'assistant' && turn.text !== '' ? answers.get(turn.text) : undefined;
      if (!generated) return;
      const asked = this.render(system, turns.slice(0, i));
      if (!text.startsWith(asked)) return;
      const at = text.indexOf(turn.text, asked.length);
      if (at < 0 || text.slice(asked.length, at).trim() !== '') return;
      const before = this.tokenize(asked, addSpecial);
      const through = this.tokenize(text.slice(0, at + turn.text.length), addSpecial);
      if (before.length < done || !startsWith(raw, before) || !startsWith(raw, through)) return;
      out.push(...raw.slice(done, before.length), ...generated);
      done = through.length;
    });
    out.push(...raw.slice(done));
    return out;
  }

  private tokenize(text: string, addSpecial: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecial }).ids;
  }

  /** Tokens of a plain piece of text (no special tokens added), for fitting turns into the context. */
  countTokens(text: string): number {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /**
   * A user who types `<image>` would otherwise add a second image slot with no features behind it; the
   * placeholder is only the template's to write.
   */
  private withoutPlaceholder(text: string): string {
    return text.split(this.options.imageToken).join('');
  }
}
