/**
 * The embedded backend on the tiny random LLaVA (a tiny llava-hf checkpoint compiled by Tandem's LLaVA compiler,
 * test-models/tiny-llava.ts), offline, through the real path: Tandem's engine loading the transformers.js ONNX
 * layout from a local folder, in the inference process.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/shared/api';
import { groundingPrompt } from '../../src/main/core/chat/grounding';
import { openCore, type Core } from '../../src/main/core/core';
import { chooseLlavaDtypes } from '../../src/main/core/llava/llava-dtypes';
import { LlavaClient } from '../../src/main/core/llava/llava-client';
import { LlavaEngine } from '../../src/main/core/llava/llava-engine';
import { chooseVisionResidency } from '../../src/main/core/llava/llava-sessions';
import { forkWorker } from '../../src/main/core/inference/worker-handle';
import type { NdArray } from '../../src/main/core/onnx/nd-array';
import { createInferenceSession, type InferenceRunner } from '../../src/main/core/onnx/runtime';
import { ensureTestModel } from '../../test-models/test-model-cache';
import { ensureTinyLlava, TINY_LLAVA_SHAPE, writeTinyLlava } from '../../test-models/tiny-llava';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
let modelDir: string;
let photo: string;
let otherPhoto: string;
let engine: LlavaEngine;
const greedy = (maxNewTokens: number) => ({ temperature: 0, topP: 1, maxNewTokens });

beforeAll(async () => {
  tmp = tempDir('tandem-llava-');
  modelDir = await ensureTinyLlava();
  const photos = join(tmp.dir, 'photos');
  mkdirSync(photos);
  photo = join(photos, 'sunset.png');
  const raw = Buffer.alloc(64 * 48 * 3);
  for (let i = 0; i < raw.length; i += 3) [raw[i], raw[i + 1], raw[i + 2]] = [255, (i / 3) % 200, 40];
  await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } }).png().toFile(photo);
  otherPhoto = join(tmp.dir, 'other.png');
  await sharp({ create: { width: 40, height: 40, channels: 3, background: '#2040c0' } }).png().toFile(otherPhoto);
  engine = await LlavaEngine.load({ modelDir, dtypes: await chooseLlavaDtypes(modelDir), threads: 1, maxContextTokens: 4096 });
});
afterAll(async () => {
  await engine?.dispose();
  tmp?.cleanup();
});

describe('tiny LLaVA on the embedded engine', () => {
  it('loads the local folder offline and renders the chat template with the image on the first user turn', () => {
    expect(engine.imageTokens).toBe((TINY_LLAVA_SHAPE.vision.imageSize / TINY_LLAVA_SHAPE.vision.patchSize) ** 2);
    expect(engine.dtypes).toEqual({ vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' });
    const prompt = engine.prompt('SYS', [
      { role: 'user', text: 'first' },
      { role: 'assistant', text: 'reply' },
      { role: 'user', text: 'second' },
    ]);
    expect(prompt).toBe(
      '<|im_start|>system\nSYS<|im_end|>\n<|im_start|>user\n<image>\nfirst<|im_end|>\n<|im_start|>assistant\nreply<|im_end|>\n<|im_start|>user\nsecond<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it("grounding: the prompt LLaVA reads carries BLIP's caption and answers", () => {
    const system = groundingPrompt({ caption: 'a dog on a red couch', captionSource: 'model:blip-base', answers: [{ question: 'how many dogs?', answer: 'two', model: 'model:blip-vqa-base' }] });
    const prompt = engine.prompt(system, [{ role: 'user', text: 'Tell a story' }]);
    expect(prompt).toContain('Caption (by BLIP, a captioning model): "a dog on a red couch"');
    expect(prompt).toContain('Q: how many dogs? A: two');
  });

  it('streams tokens and uses the KV cache: every step after the prompt feeds one token over the cache', async () => {
    const tokens: string[] = [];
    const answer = await engine.generate({ imagePath: photo, system: 'You are Tandem.', turns: [{ role: 'user', text: 'Tell a story' }], sampling: greedy(10) }, (t) => tokens.push(t), { interrupted: false });
    expect(answer.tokens).toBe(10);
    expect(tokens.length).toBeGreaterThan(3);
    expect(tokens.join('').trim()).toBe(answer.text);
    expect(answer.decoderSteps).toBe(10);
    expect(answer.cachedSteps).toBe(9);
    expect(answer.imageMs).toBeGreaterThan(0);
  });

  it('the cached answer equals decoding without a cache, step by step over the whole sequence', async () => {
    const turns = [{ role: 'user' as const, text: 'What is happening here?' }];
    const answer = await engine.generate({ imagePath: photo, system: 'S', turns, sampling: greedy(8) }, () => {}, { interrupted: false });
    const { inputIds, pixelValues } = await engine.encodePrompt(photo, 'S', turns);
    const open = (c: string): Promise<InferenceRunner> => createInferenceSession(join(modelDir, 'onnx', `${c}.onnx`), { executionProvider: 'cpu', intraOpThreads: 1 });
    const [vision, embed, decoder] = await Promise.all([open('vision_encoder'), open('embed_tokens'), open('decoder_model_merged')]);
    try {
      const H = TINY_LLAVA_SHAPE.text.hidden;
      const image = (await vision.run({ pixel_values: { type: 'float32', data: pixelValues.data, dims: pixelValues.dims } }))['image_features']!.data as Float32Array;
      const config = (await import(join(modelDir, 'config.json'), { with: { type: 'json' } })) as { default: { image_token_index: number; text_config: { num_key_value_heads: number; num_hidden_layers: number } } };
      const imageToken = config.default.image_token_index;
      const ids = [...inputIds];
      const generated: number[] = [];
      for (let step = 0; step < 8; step++) {
        const emb = (await embed.run({ input_ids: { type: 'int64', data: BigInt64Array.from(ids, BigInt), dims: [1, ids.length] } }))['inputs_embeds']!.data as Float32Array;
        let img = 0;
        ids.forEach((id, i) => id === imageToken && emb.set(image.subarray(img * H, ++img * H), i * H));
        const feeds: Record<string, NdArray> = {
          inputs_embeds: { type: 'float32', data: emb, dims: [1, ids.length, H] },
          attention_mask: { type: 'int64', data: new BigInt64Array(ids.length).fill(1n), dims: [1, ids.length] },
          position_ids: { type: 'int64', data: BigInt64Array.from(ids, (_, i) => BigInt(i)), dims: [1, ids.length] },
        };
        const kv = config.default.text_config.num_key_value_heads;
        const hd = H / TINY_LLAVA_SHAPE.text.heads;
        for (let l = 0; l < config.default.text_config.num_hidden_layers; l++) {
          for (const kind of ['key', 'value']) feeds[`past_key_values.${l}.${kind}`] = { type: 'float32', data: new Float32Array(0), dims: [1, kv, 0, hd] };
        }
        const logits = (await decoder.run(feeds, ['logits']))['logits']!;
        const V = logits.dims[2]!;
        const last = (logits.data as Float32Array).subarray((ids.length - 1) * V, ids.length * V);
        let best = 0;
        for (let v = 1; v < V; v++) if ((last[v] as number) > (last[best] as number)) best = v;
        generated.push(best);
        ids.push(best);
      }
      expect(answer.tokenIds).toEqual(generated);
    } finally {
      await Promise.all([vision.dispose(), embed.dispose(), decoder.dispose()]);
    }
  });

  it('stops within one token of the request', async () => {
    const stop = { interrupted: false };
    let seen = 0;
    const answer = await engine.generate({ imagePath: photo, system: 'S', turns: [{ role: 'user', text: 'Tell a long story' }], sampling: greedy(200) }, () => {
      seen++;
      if (seen === 3) stop.interrupted = true;
    }, stop);
    expect(answer.stopped).toBe(true);
    expect(answer.tokens).toBeLessThanOrEqual(answer.tokenIds.length);
    // The step in flight when the stop came may add one more token, never two.
    expect(answer.decoderSteps - seen).toBeLessThanOrEqual(1);
    expect(answer.decoderSteps).toBeLessThan(10);
  });

  it('a follow-up on the same photo reads only its new tokens, and answers exactly as a full re-read does', async () => {
    engine.forgetConversation();
    const run = (imagePath: string, turns: { role: 'user' | 'assistant'; text: string }[]) =>
      engine.generate({ imagePath, system: 'You are Tandem.', turns, sampling: greedy(6) }, () => {}, { interrupted: false });
    const first = await run(photo, [{ role: 'user', text: 'Tell a story about this photo' }]);
    const followUp = [
      { role: 'user' as const, text: 'Tell a story about this photo' },
      { role: 'assistant' as const, text: first.text },
      { role: 'user' as const, text: 'What happens next?' },
    ];
    const reused = await run(photo, followUp);
    // Another photo in between drops the kept cache, so this is the full re-read of the same conversation;
    // the photo's features still come from the engine's image cache.
    await run(otherPhoto, [{ role: 'user', text: 'And this one?' }]);
    const full = await run(photo, followUp);
    expect(full.reusedPromptTokens).toBe(0);
    expect(full).toMatchObject({ imageMs: 0, imageCached: true });
    expect(reused).toMatchObject({ imageMs: 0, imageCached: false });
    // The whole kept cache: the prompt and the answer as generated (its last id was picked, never fed).
    expect(reused.reusedPromptTokens).toBe(first.promptTokens + first.tokenIds.length - 1);
    expect(reused.reusedPromptTokens).toBeLessThan(reused.promptTokens);
    expect(reused.tokenIds).toEqual(full.tokenIds);

    // An edited history parts from the cache inside the old answer: the cache is cut there, and still agrees.
    const edited = followUp.map((t, i) => (i === 1 ? { ...t, text: `${first.text} Indeed.` } : t));
    await run(otherPhoto, [{ role: 'user', text: 'reset' }]);
    const editedFull = await run(photo, edited);
    await run(photo, [{ role: 'user', text: 'Tell a story about this photo' }]);
    const editedReused = await run(photo, edited);
    expect(editedReused.reusedPromptTokens).toBeGreaterThan(engine.imageTokens);
    expect(editedReused.tokenIds).toEqual(editedFull.tokenIds);
  });

  it('keeps the projected features of the last four photos: a reopened chat skips the vision encoder', async () => {
    engine.forgetImages();
    const ask = (imagePath: string) => {
      engine.forgetConversation();
      return engine.generate({ imagePath, system: 'S', turns: [{ role: 'user', text: 'Tell a story' }], sampling: greedy(2) }, () => {}, { interrupted: false });
    };
    const first = await ask(photo);
    expect(first).toMatchObject({ imageCached: false });
    expect(first.imageMs).toBeGreaterThan(0);
    const again = await ask(photo);
    expect(again).toMatchObject({ imageCached: true, imageMs: 0, tokenIds: first.tokenIds });
    const others: string[] = [];
    for (let i = 0; i < 4; i++) {
      const p = join(tmp.dir, `lru-${i}.png`);
      await sharp({ create: { width: 20 + i, height: 20, channels: 3, background: { r: 40 * i, g: 90, b: 200 } } }).png().toFile(p);
      others.push(p);
      expect(await ask(p)).toMatchObject({ imageCached: false });
    }
    // Four newer photos pushed the first one out.
    expect(await ask(photo)).toMatchObject({ imageCached: false, tokenIds: first.tokenIds });
    expect(await ask(others[3]!)).toMatchObject({ imageCached: true });
  });

  it('trims the oldest turns to the context window and keeps the image and the new question', async () => {
    const long = 'the red square looks like a bright old house in the street with a car and a tree '.repeat(3);
    const turns = Array.from({ length: 12 }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), text: `${i} ${long}` }));
    turns.push({ role: 'user', text: 'And the sky?' });
    const answer = await engine.generate({ imagePath: photo, system: 'S', turns, sampling: greedy(4) }, () => {}, { interrupted: false });
    expect(answer.droppedTurns).toBeGreaterThan(0);
    expect(answer.droppedTurns % 2).toBe(0);
    expect(answer.promptTokens + 4).toBeLessThanOrEqual(engine.contextTokens);
    const { inputIds } = await engine.encodePrompt(photo, 'S', turns.slice(answer.droppedTurns));
    expect(inputIds).toHaveLength(answer.promptTokens);
  });
});

describe('ONNX variants', () => {
  it('picks the CPU variants (fp32 vision, int8 embed_tokens, q4 decoder) when present, and runs them', async () => {
    const dir = join(tmp.dir, 'quant-llava');
    await writeTinyLlava(dir, { variants: { embed_tokens: ['fp32', 'int8'], decoder_model_merged: ['fp32', 'q4'] } });
    const dtypes = await chooseLlavaDtypes(dir);
    expect(dtypes).toEqual({ vision_encoder: 'fp32', embed_tokens: 'int8', decoder_model_merged: 'q4' });
    expect(await chooseLlavaDtypes(dir, { decoder_model_merged: 'fp32' })).toMatchObject({ decoder_model_merged: 'fp32' });
    await expect(chooseLlavaDtypes(dir, { decoder_model_merged: 'q4f16' })).rejects.toThrow(/no q4f16 variant of decoder_model_merged/);
    const quant = await LlavaEngine.load({ modelDir: dir, dtypes, threads: 1, maxContextTokens: 4096 });
    try {
      const a = await quant.generate({ imagePath: photo, system: 'S', turns: [{ role: 'user', text: 'Tell a story' }], sampling: greedy(4) }, () => {}, { interrupted: false });
      expect(a.tokens).toBe(4);
      expect(a.cachedSteps).toBe(3);
    } finally {
      await quant.dispose();
    }
  });

  it('names the missing file of a broken folder', async () => {
    await expect(chooseLlavaDtypes(join(tmp.dir, 'photos'))).rejects.toThrow(/missing onnx\/vision_encoder\.onnx/);
  });
});

describe('the LLaVA inference process', () => {
  it('a crash fails the answer in flight; the next question restarts the process and reloads the model', async () => {
    const client = new LlavaClient(() => forkWorker());
    try {
      const loaded = await client.load({ model: 'tiny', modelDir, threads: 1, maxContextTokens: 4096 });
      expect(loaded.imageTokens).toBe(engine.imageTokens);
      const req = { imagePath: photo, system: 'S', turns: [{ role: 'user' as const, text: 'Tell a long story' }], sampling: greedy(400) };
      const firstPid = client.pid;
      const crashed = client.chat(req, () => client.kill('SIGKILL'), new AbortController().signal);
      await expect(crashed).rejects.toMatchObject({ code: 'worker_crashed' });
      const again = await client.chat({ ...req, sampling: greedy(3) }, () => {}, new AbortController().signal);
      expect(again.tokens).toBe(3);
      expect(client.pid).not.toBe(firstPid);
    } finally {
      await client.close();
    }
  });
});

describe('embedded backend through the core and the LLaVA inference process', () => {
  let core: Core;
  let photoId: number;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = join(tmp.dir, 'data');
    core = openCore({ dataDir });
    await core.models.import(modelDir, { name: 'tiny-llava' });
    core.settings.set({ chatBackend: 'embedded', chatModel: 'tiny-llava', temperature: 0, maxNewTokens: 6, threads: 1 });
    await core.library.addRoot(join(tmp.dir, 'photos'));
    await core.library.scan();
    photoId = core.search.list({}, 'name', 0, 10).items[0]!.id;
  });
  afterAll(async () => {
    await core?.close();
  });

  it('streams an answer from the separate process, stores it with the model, and continues the chat', async () => {
    const streamed: string[] = [];
    const off = core.events.on('chat.token', (e) => streamed.push(e.token));
    const first = await core.chat.ask({ photoId, text: 'Tell a story about this photo' });
    off();
    expect(first.reply.route).toBe('llava');
    expect(first.message).toMatchObject({ model: 'model:tiny-llava', route: 'llava', tokens: 6, stopped: false, error: null });
    expect(first.message.text.length).toBeGreaterThan(0);
    expect(streamed.join('').trim()).toBe(first.message.text);
    const second = await core.chat.ask({ photoId, text: 'What might happen next?' });
    expect(second.reply.chatId).toBe(first.reply.chatId);
    expect(second.message.error).toBeNull();
  });

  it('stop ends the answer within a token; the history survives a restart', async () => {
    core.settings.set({ maxNewTokens: 300 });
    const tokens: string[] = [];
    let id = -1;
    const off = core.events.on('chat.token', (e) => {
      tokens.push(e.token);
      if (tokens.length === 2) core.chat.stop(id);
    });
    const reply = core.chat.send({ photoId, text: 'Describe the photo in detail' });
    id = reply.assistantMessageId;
    const message: ChatMessage = await core.chat.wait(id);
    off();
    expect(message.stopped).toBe(true);
    expect(tokens).toHaveLength(2);
    expect(message.text).toBe(tokens.join(''));
    expect(message.tokens).toBe(2);
    await core.close();
    core = openCore({ dataDir });
    const [chat] = core.chat.list(photoId);
    expect(chat!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(chat!.messages[5]!.stopped).toBe(true);
  });

  it('the vision model setting reaches the LLaVA process: kept loaded, or loaded per new photo', async () => {
    expect(core.settings.get().chatVisionResidency).toBe('auto');
    // Automatic decides by the pack's graph sizes (visionResidencyFor); the process must say what it chose.
    const dir = core.models.resolve('tiny-llava');
    const auto = await chooseVisionResidency(dir, await chooseLlavaDtypes(dir), 'auto');
    expect((await core.chat.testBackend()).message).toContain(auto === 'resident' ? 'vision model kept loaded' : 'vision model loaded for each new photo');
    core.settings.set({ chatVisionResidency: 'on-demand' });
    try {
      const perPhoto = await core.chat.testBackend();
      expect(perPhoto).toMatchObject({ ok: true });
      expect(perPhoto.message).toContain('vision model loaded for each new photo');
      const answer = await core.chat.ask({ photoId, text: 'Describe the colours' });
      expect(answer.message.error).toBeNull();
      core.settings.set({ chatVisionResidency: 'resident' });
      expect((await core.chat.testBackend()).message).toContain('vision model kept loaded');
    } finally {
      core.settings.set({ chatVisionResidency: 'auto' });
    }
  });
});

describe('idle models give their memory back', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
    const start = Date.now();
    while (!cond()) {
      if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('the LLaVA and VQA processes stop after the idle time, and the next question starts them again', async () => {
    const core = openCore({ dataDir: join(tmp.dir, 'idle-data'), modelIdleMs: 400 });
    try {
      await core.models.import(modelDir, { name: 'tiny-llava' });
      await core.models.import(await ensureTestModel('colour-vqa'), { name: 'blip-vqa-base' });
      core.settings.set({ chatBackend: 'embedded', chatModel: 'tiny-llava', vqaModel: 'blip-vqa-base', temperature: 0, maxNewTokens: 3, threads: 1 });
      await core.library.addRoot(join(tmp.dir, 'photos'));
      await core.library.scan();
      const id = core.search.list({}, 'name', 0, 10).items[0]!.id;

      const story = await core.chat.ask({ photoId: id, text: 'Tell a story about this photo' });
      expect(story.message.error).toBeNull();
      const llavaPid = core.inferencePids().llava;
      const colour = await core.chat.ask({ photoId: id, text: 'what colour is this photo?' });
      expect(colour.message).toMatchObject({ route: 'blip', error: null });
      const first = { llava: llavaPid, vqa: core.inferencePids().vqa };
      expect(first.llava).toBeDefined();
      expect(first.vqa).toBeDefined();

      await until(() => core.inferencePids().llava === undefined && core.inferencePids().vqa === undefined);
      await until(() => !alive(first.llava!) && !alive(first.vqa!));

      const again = await core.chat.ask({ photoId: id, text: 'What might happen next?' });
      expect(again.message).toMatchObject({ route: 'llava', error: null, model: 'model:tiny-llava' });
      expect(core.inferencePids().llava).not.toBe(first.llava);
    } finally {
      await core.close();
    }
  });
});
