/**
 * The embedded engine on folders the LLaVA compiler writes from llava-hf checkpoints: LLaVA-1.5 (CLIP with the
 * "default" feature strategy + Llama, `<s>` from the tokenizer, `USER: … ASSISTANT:`) and interleave
 * (SigLIP + Qwen2). Deterministic mode: no system text, greedy, exactly N tokens or eos.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileLlavaToFolder } from '../../src/main/core/llava-compiler/compile-llava';
import { chooseLlavaDtypes } from '../../src/main/core/llava/llava-dtypes';
import { LlavaEngine } from '../../src/main/core/llava/llava-engine';
import { generateLlava } from '../../src/main/core/llava/llava-generate';
import { readJsonFile, readLlavaPackConfig } from '../../src/main/core/llava/llava-pack-config';
import { fixedImageSize, preprocessLlavaImage, readLlavaImageConfig } from '../../src/main/core/llava/llava-preprocess';
import { LlavaPrompt } from '../../src/main/core/llava/llava-prompt';
import { LlavaSessions } from '../../src/main/core/llava/llava-sessions';
import { LlavaReference } from '../../test-models/llava-reference';
import { TINY_LLAVA_15_SHAPE, TINY_LLAVA_INTERLEAVE_SHAPE, writeTinyLlavaHf, type TinyLlavaHfInfo, type TinyLlavaHfShape } from '../../test-models/tiny-llava-hf';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let photo: string;

beforeAll(async () => {
  tmp = tempDir('tandem-llava-compiled-');
  photo = join(tmp.dir, 'photo.png');
  const raw = Buffer.alloc(50 * 34 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 29 + (i >> 7) * 3) % 256;
  await sharp(raw, { raw: { width: 50, height: 34, channels: 3 } }).png().toFile(photo);
});
afterAll(() => tmp?.cleanup());

async function compiled(name: string, shape: TinyLlavaHfShape): Promise<{ dir: string; src: string; info: TinyLlavaHfInfo }> {
  const src = join(tmp.dir, `${name}-hf`);
  const dir = join(tmp.dir, name);
  const info = await writeTinyLlavaHf(src, shape);
  await compileLlavaToFolder(src, dir, { decoderPrecision: 'fp32' });
  return { dir, src, info };
}

/** Greedy ids recomputed from scratch at every step (no cache), through the same graphs. */
async function greedyWithoutCache(dir: string, engine: LlavaEngine, inputIds: number[], pixels: { data: Float32Array; dims: number[] }, imageTokenId: number, steps: number): Promise<number[]> {
  const config = await readJsonFile(join(dir, 'config.json'));
  const text = (config?.['text_config'] ?? {}) as { num_key_value_heads?: number; num_attention_heads?: number; hidden_size?: number; head_dim?: number };
  const heads = text.num_attention_heads ?? 32;
  const sessions = await LlavaSessions.open(dir, engine.dtypes, { threads: 1, kvHeads: text.num_key_value_heads ?? heads, headDim: text.head_dim ?? (text.hidden_size ?? 4096) / heads });
  try {
    const image = await sessions.encodeImage(pixels);
    const ids = [...inputIds];
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      const embeds = await sessions.embed(ids);
      embeds.set(image.data, ids.indexOf(imageTokenId) * image.hidden);
      const { lastLogits } = await sessions.decode(embeds, ids.length, sessions.emptyCache(), true);
      let best = 0;
      lastLogits!.forEach((v, i) => v > lastLogits![best]! && (best = i));
      out.push(best);
      ids.push(best);
    }
    return out;
  } finally {
    await sessions.dispose();
  }
}

describe('compiled LLaVA-1.5 (CLIP + Llama)', () => {
  it('expands <image> to patches minus CLS, adds one <s>, and its cached greedy answer equals a recompute', async () => {
    const { dir, info } = await compiled('llava-15', TINY_LLAVA_15_SHAPE);
    const engine = await LlavaEngine.load({ modelDir: dir, dtypes: await chooseLlavaDtypes(dir), threads: 1, maxContextTokens: 4096 });
    try {
      expect(engine.imageTokens).toBe(info.imageTokens);
      expect(engine.imageTokens).toBe((Math.floor(TINY_LLAVA_15_SHAPE.vision.imageSize / TINY_LLAVA_15_SHAPE.vision.patchSize) ** 2));
      const turns = [{ role: 'user' as const, text: 'What is this?' }];
      expect(engine.prompt('', turns)).toBe('USER: <image>\nWhat is this? ASSISTANT:');
      const { inputIds, pixelValues } = await engine.encodePrompt(photo, '', turns);
      expect(pixelValues.dims).toEqual([1, 3, TINY_LLAVA_15_SHAPE.vision.imageSize, TINY_LLAVA_15_SHAPE.vision.imageSize]);
      expect(inputIds[0]).toBe(info.bos);
      expect(inputIds.filter((id) => id === info.bos)).toHaveLength(1);
      expect(inputIds.filter((id) => id === info.imageToken)).toHaveLength(info.imageTokens);

      const streamed: string[] = [];
      const answer = await engine.generate({ imagePath: photo, system: '', turns, sampling: { temperature: 0.7, topP: 0.9, greedy: true, maxNewTokens: 6 } }, (t) => streamed.push(t), { interrupted: false });
      expect(answer.promptTokens).toBe(inputIds.length);
      const reference = await greedyWithoutCache(dir, engine, inputIds, pixelValues, info.imageToken, answer.tokenIds.length);
      expect(answer.tokenIds).toEqual(reference);
      expect(answer.tokenIds.length === 6 || answer.tokenIds.at(-1) === info.eos).toBe(true);
      expect(streamed.join('').trim()).toBe(engine.decode(answer.tokenIds).trim());
    } finally {
      await engine.dispose();
    }
  });
});

describe('compiled interleave (SigLIP + Qwen2)', () => {
  it('uses every patch ("full"), no bos, and answers greedily as a recompute does', async () => {
    const { dir, info } = await compiled('interleave', TINY_LLAVA_INTERLEAVE_SHAPE);
    const engine = await LlavaEngine.load({ modelDir: dir, dtypes: await chooseLlavaDtypes(dir), threads: 1, maxContextTokens: 4096 });
    try {
      expect(engine.imageTokens).toBe(info.imageTokens);
      const turns = [{ role: 'user' as const, text: 'What is this?' }];
      expect(engine.prompt('', turns)).toBe('<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n');
      const { inputIds, pixelValues } = await engine.encodePrompt(photo, '', turns);
      const answer = await engine.generate({ imagePath: photo, system: '', turns, sampling: { temperature: 0, topP: 1, maxNewTokens: 6 } }, () => {}, { interrupted: false });
      expect(answer.tokenIds).toEqual(await greedyWithoutCache(dir, engine, inputIds, pixelValues, info.imageToken, answer.tokenIds.length));
    } finally {
      await engine.dispose();
    }
  });
});

describe('the context window, counted exactly', () => {
  it('never leaves less room for the answer than asked: the rendered prompt decides, not the per-turn estimate', async () => {
    // This tokenizer splits ChatML's role names into several tokens, so the engine's fixed per-turn estimate falls
    // short (by 15 tokens for this conversation), as it can for any template a tokenizer renders longer.
    const { dir } = await compiled('interleave-context', TINY_LLAVA_INTERLEAVE_SHAPE);
    const engine = await LlavaEngine.load({ modelDir: dir, dtypes: await chooseLlavaDtypes(dir), threads: 1, maxContextTokens: 4096 });
    try {
      const turns = [
        { role: 'user' as const, text: 'What colour is the square?' },
        { role: 'assistant' as const, text: 'It is red.' },
        { role: 'user' as const, text: 'What is it like?' },
        { role: 'assistant' as const, text: 'A tile.' },
        { role: 'user' as const, text: 'And the sky?' },
      ];
      const length = async (from: number) => (await engine.encodePrompt(photo, 'S', turns.slice(from))).inputIds.length;
      const whole = await length(0);
      const lengths = new Map([[0, whole], [2, await length(2)], [4, await length(4)]]);
      const greedy = (maxNewTokens: number) => ({ temperature: 0, topP: 1, maxNewTokens });
      let dropsAtTheEdge = 0;
      // Around the point where the whole conversation stops fitting beside the answer's room.
      for (let maxNewTokens = engine.contextTokens - whole - 8; maxNewTokens <= engine.contextTokens - whole + 3; maxNewTokens++) {
        const a = await engine.generate({ imagePath: photo, system: 'S', turns, sampling: greedy(maxNewTokens) }, () => {}, { interrupted: true });
        expect(a.promptTokens).toBe(lengths.get(a.droppedTurns));
        expect(a.promptTokens + maxNewTokens, `maxNewTokens ${maxNewTokens}, dropped ${a.droppedTurns}`).toBeLessThanOrEqual(engine.contextTokens);
        if (whole + maxNewTokens === engine.contextTokens + 1 && a.droppedTurns === 2) dropsAtTheEdge++;
        if (whole + maxNewTokens <= engine.contextTokens) expect(a.droppedTurns).toBeLessThanOrEqual(2);
      }
      // One token over is enough to drop the oldest exchange, and no more than it.
      expect(dropsAtTheEdge).toBe(1);
    } finally {
      await engine.dispose();
    }
  });
});

describe('the engine against the float64 reference of the checkpoint', () => {
  it("LLaVA-1.5: every cached step's logits match transformers' math on the llava-hf weights", async () => {
    const { dir, src, info } = await compiled('llava-15-ref', TINY_LLAVA_15_SHAPE);
    const imageConfig = readLlavaImageConfig(await readJsonFile(join(dir, 'preprocessor_config.json')));
    const pack = await readLlavaPackConfig(dir, fixedImageSize(imageConfig)!);
    const prompt = await LlavaPrompt.load(dir, pack);
    const sessions = await LlavaSessions.open(dir, await chooseLlavaDtypes(dir), { threads: 1, kvHeads: pack.kvHeads, headDim: pack.headDim });
    try {
      const pixels = await preprocessLlavaImage(photo, imageConfig);
      const encoded = prompt.encode('', [{ role: 'user', text: 'What is this?' }]);
      const out = await generateLlava(sessions, {
        promptIds: encoded.ids,
        past: null,
        image: { features: await sessions.encodeImage(pixels), start: encoded.imageStart },
        sampling: { temperature: 0, topP: 1, maxNewTokens: 4 },
        maxNewTokens: 4,
        eosIds: [],
        stop: { interrupted: false },
        detokenize: (ids) => prompt.decode(ids),
        onText: () => {},
        prefillChunk: 8,
        recordLogits: true,
      });
      const ref = await LlavaReference.load(src, info.shape, info.vocab);
      const features = ref.imageFeatures(pixels.data);
      for (let k = 0; k < out.tokenIds.length; k++) {
        const ids = [...encoded.ids, ...out.tokenIds.slice(0, k)];
        const embeds = ref.embed(ids);
        features.forEach((f, i) => (embeds[encoded.imageStart + i] = f));
        const want = ref.logits(embeds).at(-1)!;
        const got = out.stepLogits![k]!;
        let scale = 0;
        let diff = 0;
        want.forEach((w, i) => {
          scale = Math.max(scale, Math.abs(w));
          diff = Math.max(diff, Math.abs(w - got[i]!));
        });
        expect(diff / scale).toBeLessThan(1e-4);
      }
    } finally {
      await sessions.dispose();
    }
  });
});
