/** The full-size random llava-hf writer of the benchmarks: real configs and token ids, fp16 shards that read back. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLlavaConfig } from '../../src/main/core/llava-compiler/llava-config';
import { halfShardWriter } from '../../test-models/random-half-shards';
import { randomLlavaWeightBytes, writeRandomLlavaHf } from '../../test-models/random-llava-hf';
import { readSafetensors, readSafetensorsHeader } from '../../src/main/core/weights/safetensors';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tandem-random-llava-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function tokenizerOf(dir: string): Promise<Tokenizer> {
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  return new Tokenizer(json, config);
}

/** Share of filler ids between `from` and `to` whose text encodes back to them: a random answer re-reads as long as it was. */
function roundTrips(tk: Tokenizer, from: number, to: number): number {
  let ok = 0;
  const n = 400;
  for (let i = 0; i < n; i++) {
    const id = from + Math.floor(((to - from) * i) / n);
    if (tk.encode(tk.decode([id]), { add_special_tokens: false }).ids.includes(id)) ok++;
  }
  return ok / n;
}

describe('writeRandomLlavaHf', () => {
  it("writes llava-1.5-7b's config, with <image> and <pad> at 32000 and 32001", async () => {
    const dir = join(root, '7b');
    await writeRandomLlavaHf(dir, '7b', { metadataOnly: true });
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const spec = parseLlavaConfig(config, 'config.json');
    expect(spec.text).toMatchObject({ kind: 'llama', hiddenSize: 4096, intermediateSize: 11008, numHeads: 32, numKvHeads: 32, numLayers: 32, vocabSize: 32064, tiedEmbeddings: false });
    expect(spec.vision).toMatchObject({ kind: 'clip', hiddenSize: 1024, intermediateSize: 4096, numHeads: 16, numLayers: 24, imageSize: 336, patchSize: 14 });
    expect(spec.imageTokens).toBe(576);
    const tk = await tokenizerOf(dir);
    expect(tk.encode('<image>', { add_special_tokens: false }).ids).toEqual([32000]);
    expect(tk.encode('<pad>', { add_special_tokens: false }).ids).toEqual([32001]);
    expect(config['pad_token_id']).toBe(32001);
    expect(roundTrips(tk, 500, 31_000)).toBe(1);
  });

  it("writes llava-interleave-qwen-0.5b's config, with its chat markers at the real ids", async () => {
    const dir = join(root, '05b');
    await writeRandomLlavaHf(dir, '0.5b', { metadataOnly: true });
    const spec = parseLlavaConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), 'config.json');
    expect(spec.text).toMatchObject({ kind: 'qwen2', hiddenSize: 1024, intermediateSize: 2816, numHeads: 16, numKvHeads: 16, numLayers: 24, vocabSize: 152000, tiedEmbeddings: true, ropeTheta: 1e6 });
    expect(spec.vision).toMatchObject({ kind: 'siglip', hiddenSize: 1152, intermediateSize: 4304, numHeads: 16, numLayers: 26, imageSize: 384, patchSize: 14 });
    expect(spec.imageTokens).toBe(729);
    const tk = await tokenizerOf(dir);
    expect(tk.encode('<|endoftext|><|im_start|><|im_end|><image>', { add_special_tokens: false }).ids).toEqual([151643, 151644, 151645, 151646]);
    const generation = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8')) as Record<string, unknown>;
    expect(generation['eos_token_id']).toBe(151645);
    // Partial UTF-8 prefixes of the byte-level vocabulary (about 2% of it) cannot round-trip alone.
    expect(roundTrips(tk, 500, 151_000)).toBeGreaterThan(0.95);
  });

  it('plans the hub-size checkpoints: ~14.1 GB for 7B, ~1.7 GB for 0.5B', () => {
    expect(randomLlavaWeightBytes('7b') / 1e9).toBeCloseTo(14.1, 1);
    expect(randomLlavaWeightBytes('0.5b') / 1e9).toBeCloseTo(1.73, 1);
  });
});

describe('halfShardWriter', () => {
  it('streams fp16 tensors that read back with their shapes, means and spreads', async () => {
    const path = join(root, 'shard.safetensors');
    const tensors = [
      { name: 'b.weight', shape: [1000, 37], mean: 0, std: 0.02 },
      { name: 'a.norm', shape: [7], mean: 1, std: 0.02 },
      // larger than one write chunk, and odd
      { name: 'c.big', shape: [8 * 1024 * 1024 + 3], mean: 0, std: 0.02 },
    ];
    const bytes = await halfShardWriter(3).write(path, tensors);
    const header = await readSafetensorsHeader(path);
    expect(header.entries.map((e) => e.name)).toEqual(['a.norm', 'b.weight', 'c.big']);
    const weights = await readSafetensors(path);
    for (const t of tensors) {
      const w = weights.get(t.name)!;
      expect(w.storedDType).toBe('float16');
      expect(w.shape).toEqual(t.shape);
      const data = w.data as Float32Array;
      let sum = 0;
      let sq = 0;
      let worst = 0;
      for (const v of data) {
        worst = Math.max(worst, Math.abs(v - t.mean));
        sum += v;
        sq += (v - t.mean) ** 2;
      }
      expect(worst).toBeLessThanOrEqual(t.std * Math.sqrt(3) * 1.01);
      if (data.length > 1000) {
        expect(sum / data.length).toBeCloseTo(t.mean, 3);
        expect(Math.sqrt(sq / data.length)).toBeCloseTo(t.std, 3);
      }
    }
    expect(bytes).toBeGreaterThan((1000 * 37 + 7 + 8 * 1024 * 1024 + 3) * 2);
  });
});
