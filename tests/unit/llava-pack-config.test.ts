/** What the engine reads from a pack's JSON files, for the terse llava-1.5 config and the complete interleave one. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/main/core/errors';
import { readLlavaPackConfig } from '../../src/main/core/llava/llava-pack-config';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir('tandem-llava-config-');
});
afterAll(() => tmp?.cleanup());

function pack(name: string, files: Record<string, unknown>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  for (const [file, value] of Object.entries(files)) writeFileSync(join(dir, file), JSON.stringify(value));
  return dir;
}

describe('readLlavaPackConfig', () => {
  it("fills llava-1.5's terse config with LlamaConfig/CLIP defaults and counts 576 image tokens", async () => {
    const dir = pack('llava-15', {
      // llava-hf/llava-1.5-7b-hf's config.json, abridged as the hub has it.
      'config.json': {
        architectures: ['LlavaForConditionalGeneration'],
        image_token_index: 32000,
        model_type: 'llava',
        projector_hidden_act: 'gelu',
        text_config: { architectures: ['LlamaForCausalLM'], max_position_embeddings: 4096, model_type: 'llama', rms_norm_eps: 1e-5, vocab_size: 32064 },
        vision_config: { hidden_size: 1024, image_size: 336, intermediate_size: 4096, model_type: 'clip_vision_model', num_attention_heads: 16, num_hidden_layers: 24, patch_size: 14, projection_dim: 768 },
        vision_feature_layer: -2,
        vision_feature_select_strategy: 'default',
      },
      'generation_config.json': { bos_token_id: 1, eos_token_id: 2, pad_token_id: 32001 },
    });
    const c = await readLlavaPackConfig(dir, { height: 336, width: 336 });
    expect(c).toEqual({
      textModelType: 'llama',
      visionModelType: 'clip_vision_model',
      imageTokenId: 32000,
      imageToken: '<image>',
      imageTokens: 576,
      eosIds: [2],
      maxPositionEmbeddings: 4096,
      kvHeads: 32,
      headDim: 128,
    });
  });

  it('reads interleave: full strategy over SigLIP (729 tokens), grouped KV heads, eos as a list', async () => {
    const dir = pack('interleave', {
      'config.json': {
        image_token_index: 151646,
        text_config: { model_type: 'qwen2', hidden_size: 896, num_attention_heads: 14, num_key_value_heads: 2, max_position_embeddings: 32768, eos_token_id: 151645 },
        vision_config: { model_type: 'siglip_vision_model', image_size: 384, patch_size: 14 },
        vision_feature_select_strategy: 'full',
      },
      'generation_config.json': { eos_token_id: [151645, 151643] },
      'processor_config.json': { image_token: '<image>', num_additional_image_tokens: 0, patch_size: 14, vision_feature_select_strategy: 'full' },
    });
    const c = await readLlavaPackConfig(dir, { height: 384, width: 384 });
    expect(c).toMatchObject({ textModelType: 'qwen2', imageTokens: 729, eosIds: [151645, 151643], kvHeads: 2, headDim: 64, maxPositionEmbeddings: 32768 });
  });

  it('falls back to text_config.eos_token_id and names what is missing', async () => {
    const dir = pack('no-generation', { 'config.json': { image_token_index: 5, text_config: { model_type: 'qwen2', eos_token_id: 7 } } });
    expect((await readLlavaPackConfig(dir, { height: 224, width: 224 })).eosIds).toEqual([7]);
    await expect(readLlavaPackConfig(pack('no-image-token', { 'config.json': { text_config: {} } }), { height: 224, width: 224 })).rejects.toThrow(/image_token_index/);
    await expect(readLlavaPackConfig(join(tmp.dir, 'absent'), { height: 224, width: 224 })).rejects.toBeInstanceOf(ModelFileError);
  });
});
