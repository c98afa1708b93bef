import { describe, expect, it } from 'vitest';
import { parseBlipConfig } from '../../src/main/core/blip/blip-config';
import { parseBlipRetrievalConfig } from '../../src/main/core/blip/retrieval-config';
import { kindFromConfig } from '../../src/main/core/models/pack-layout';
import { equalLengthBatches } from '../../src/main/core/retrieval/text-batches';
import { retrievalConfigJson } from '../../test-models/blip-retrieval-pack';
import { tinyRetrievalConfig } from '../../test-models/tiny-blip-retrieval';

describe('BlipForImageTextRetrieval config', () => {
  it('reads the ITC width and every size from config.json', () => {
    const spec = parseBlipRetrievalConfig(retrievalConfigJson(tinyRetrievalConfig()), 'config.json');
    expect(spec).toMatchObject({ architecture: 'retrieval', imageTextHiddenSize: 24 });
    expect(spec.vision.hiddenSize).toBe(48);
    expect(spec.text).toMatchObject({ hiddenSize: 32, encoderHiddenSize: 48, numHiddenLayers: 2 });
    expect(kindFromConfig(retrievalConfigJson(tinyRetrievalConfig()))).toBe('blip-retrieval');
  });

  it('defaults image_text_hidden_size to BlipConfig’s 256 and refuses nonsense', () => {
    expect(parseBlipRetrievalConfig({ model_type: 'blip', architectures: ['BlipForImageTextRetrieval'] }, 'c.json').imageTextHiddenSize).toBe(256);
    for (const bad of [0, -1, 1.5, '256', 2 ** 25]) {
      expect(() => parseBlipRetrievalConfig({ model_type: 'blip', architectures: ['BlipForImageTextRetrieval'], image_text_hidden_size: bad }, 'c.json')).toThrow(
        /image_text_hidden_size/,
      );
    }
  });

  it('tells a retrieval checkpoint without architectures by its itm_head, and refuses captioners', () => {
    expect(parseBlipConfig({ model_type: 'blip' }, 'c.json', new Set(['itm_head.weight', 'text_encoder.embeddings.word_embeddings.weight'])).architecture).toBe('retrieval');
    expect(parseBlipConfig({ model_type: 'blip' }, 'c.json', new Set(['text_encoder.embeddings.word_embeddings.weight'])).architecture).toBe('vqa');
    expect(() => parseBlipRetrievalConfig({ model_type: 'blip', architectures: ['BlipForConditionalGeneration'] }, 'c.json')).toThrow(/captioning model/);
  });
});

describe('equal-length text batches', () => {
  it('groups rows by length, keeps their positions and caps the rows per batch', () => {
    const batches = equalLengthBatches([[1, 2], [1, 2, 3], [4, 5], [6, 7], [8]], 2);
    expect(batches.map((b) => b.indices)).toEqual([[0, 2], [3], [1], [4]]);
    expect(batches[0]!.ids).toEqual([[1, 2], [4, 5]]);
    expect(equalLengthBatches([], 4)).toEqual([]);
  });
});
