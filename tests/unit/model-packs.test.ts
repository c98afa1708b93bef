import { describe, expect, it } from 'vitest';
import { HubDownloader, hubSettingsFromEnv, sha256FromEtag } from '../../src/main/core/models/hub-downloader';
import { networkErrorCode } from '../../src/main/core/models/hub-errors';
import { KNOWN_PACKS, LLAVA_CPU_DTYPES, llavaInterleaveFiles } from '../../src/main/core/models/known-packs';
import { approxPackBytes } from '../../src/main/core/models/model-pack';
import { kindFromConfig, onnxVariants } from '../../src/main/core/models/pack-layout';
import { etaSeconds, RateMeter } from '../../src/main/core/models/transfer-progress';

describe('known packs', () => {
  it('registers the known packs with their repos and kinds', () => {
    expect(KNOWN_PACKS.map((p) => [p.name, p.kind, p.repo, p.revision])).toEqual([
      ['blip-base', 'blip-caption', 'Salesforce/blip-image-captioning-base', 'main'],
      ['blip-large', 'blip-caption', 'Salesforce/blip-image-captioning-large', 'main'],
      ['blip-vqa-base', 'blip-vqa', 'Salesforce/blip-vqa-base', 'main'],
      ['blip-itm-base-coco', 'blip-retrieval', 'Salesforce/blip-itm-base-coco', 'main'],
      ['llava-interleave-qwen-0.5b', 'llava', 'llava-hf/llava-interleave-qwen-0.5b-hf', 'main'],
      ['llava-1.5-7b', 'llava', 'llava-hf/llava-1.5-7b-hf', 'main'],
      ['llava-1.5-13b', 'llava', 'llava-hf/llava-1.5-13b-hf', 'main'],
    ]);
    for (const pack of KNOWN_PACKS) expect(approxPackBytes(pack)).toBeGreaterThan(1e8);
  });

  it('lets BLIP weights come from model.safetensors or, failing that, pytorch_model.bin', () => {
    const blipBase = KNOWN_PACKS.find((p) => p.name === 'blip-base')!;
    const weights = blipBase.files.find((f) => f.candidates.length > 1)!;
    expect(weights.required).toBe(true);
    expect(weights.candidates.map((c) => c.path)).toEqual(['model.safetensors', 'pytorch_model.bin']);
    const required = blipBase.files.filter((f) => f.required && f.candidates.length === 1).map((f) => f.candidates[0]!.path);
    expect(required).toEqual(['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  });

  it('builds the LLaVA onnx/ file list from a per-component dtype choice', () => {
    const paths = (dtypes = LLAVA_CPU_DTYPES) => llavaInterleaveFiles(dtypes).filter((f) => f.required).map((f) => f.candidates[0]!.path);
    expect(paths()).toEqual(expect.arrayContaining(['onnx/vision_encoder.onnx', 'onnx/embed_tokens_int8.onnx', 'onnx/decoder_model_merged_q4.onnx', 'tokenizer.json']));
    expect(paths({ vision_encoder: 'fp16', embed_tokens: 'q8', decoder_model_merged: 'q4f16' })).toEqual(
      expect.arrayContaining(['onnx/vision_encoder_fp16.onnx', 'onnx/embed_tokens_quantized.onnx', 'onnx/decoder_model_merged_q4f16.onnx']),
    );
    expect(onnxVariants(['onnx/vision_encoder.onnx', 'onnx/vision_encoder_fp16.onnx', 'onnx/decoder_model_merged_q4.onnx'])).toEqual({
      vision_encoder: ['fp32', 'fp16'],
      embed_tokens: [],
      decoder_model_merged: ['q4'],
    });
  });

  it('tells BLIP captioning, BLIP VQA and LLaVA apart by config.json', () => {
    expect(kindFromConfig({ model_type: 'blip', architectures: ['BlipForConditionalGeneration'] })).toBe('blip-caption');
    expect(kindFromConfig({ architectures: ['BlipForQuestionAnswering'] })).toBe('blip-vqa');
    expect(kindFromConfig({ model_type: 'blip', architectures: ['BlipForImageTextRetrieval'] })).toBe('blip-retrieval');
    expect(kindFromConfig({ model_type: 'llava' })).toBe('llava');
    expect(kindFromConfig({ model_type: 'bert' })).toBeNull();
  });
});

describe('hub helpers', () => {
  it('reads endpoint and token like huggingface_hub, options first', () => {
    expect(hubSettingsFromEnv({})).toEqual({ endpoint: 'https://huggingface.co' });
    expect(hubSettingsFromEnv({ HF_ENDPOINT: 'https://mirror.example', HF_TOKEN: 't1' })).toEqual({ endpoint: 'https://mirror.example', token: 't1' });
    expect(hubSettingsFromEnv({ HF_ENDPOINT: 'https://mirror.example', HUGGING_FACE_HUB_TOKEN: 't2' }, { endpoint: 'http://127.0.0.1:9' })).toEqual({
      endpoint: 'http://127.0.0.1:9',
      token: 't2',
    });
  });

  it('builds resolve URLs with encoded parts', () => {
    const hub = new HubDownloader({ endpoint: 'https://huggingface.co/' });
    expect(hub.fileUrl('llava-hf/llava-interleave-qwen-0.5b-hf', 'main', 'onnx/embed_tokens_int8.onnx')).toBe(
      'https://huggingface.co/llava-hf/llava-interleave-qwen-0.5b-hf/resolve/main/onnx/embed_tokens_int8.onnx',
    );
    expect(hub.fileUrl('org/repo', 'refs/pr/1', 'a b.json')).toBe('https://huggingface.co/org/repo/resolve/refs%2Fpr%2F1/a%20b.json');
  });

  it('takes only 64-hex ETags as sha256 (small files carry a git sha1)', () => {
    const sha = 'a'.repeat(64);
    expect(sha256FromEtag(`"${sha}"`)).toBe(sha);
    expect(sha256FromEtag(`W/"${sha.toUpperCase()}"`)).toBe(sha);
    expect(sha256FromEtag(`"${'b'.repeat(40)}"`)).toBeNull();
    expect(sha256FromEtag(null)).toBeNull();
  });

  it('finds the system error code nested in fetch errors', () => {
    const err = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]) });
    expect(networkErrorCode(err)).toBe('ECONNREFUSED');
    expect(networkErrorCode(new Error('plain'))).toBeUndefined();
  });

  it('measures rate over a sliding window and derives the ETA', () => {
    const meter = new RateMeter(5_000, 500);
    meter.add(0, 0);
    meter.add(1_000_000, 100);
    expect(meter.bytesPerSecond()).toBe(0); // too early to tell
    meter.add(2_000_000, 1_000);
    expect(meter.bytesPerSecond()).toBe(2_000_000);
    meter.add(2_000_000, 9_000); // a stall drags the rate down as old samples leave the window
    expect(meter.bytesPerSecond()).toBeLessThan(1_000_000);
    expect(etaSeconds(10_000_000, 2_000_000)).toBe(5);
    expect(etaSeconds(null, 2_000_000)).toBeNull();
    expect(etaSeconds(1, 0)).toBeNull();
  });
});
