import { oneOf, packFile, type CompilePrecision, type GraphPrecision, type ModelPack, type PackCompileSpec, type PackFile } from './model-pack';

/*
 * Sizes are what the hub listed at the time of writing, rounded; they only feed the list view
 * and the disk check before the hub answers. No sha256 is pinned here: on `main` the hub's LFS
 * oid (x-linked-etag) is the reference, and a wrong pin would block every install.
 */

const KB = 1_000;
const MB = 1_000_000;
const GB = 1_000_000_000;

/** Files every BLIP pack has on the hub; weights differ per repo. */
function blipFiles(weightsBytes: number): PackFile[] {
  return [
    packFile('config.json', 5 * KB),
    packFile('preprocessor_config.json', 1 * KB),
    packFile('tokenizer.json', 711 * KB),
    packFile('tokenizer_config.json', 1 * KB),
    packFile('special_tokens_map.json', 1 * KB, { required: false }),
    packFile('vocab.txt', 232 * KB),
    // safetensors first: it loads without unpickling and maps straight into tensors.
    // blip-image-captioning-base has only pytorch_model.bin on main, hence the fallback.
    oneOf([
      { path: 'model.safetensors', approxBytes: weightsBytes },
      { path: 'pytorch_model.bin', approxBytes: weightsBytes },
    ]),
  ];
}

/** transformers.js file-name suffixes per ONNX dtype (its DEFAULT_DTYPE_SUFFIX_MAPPING). */
export const ONNX_DTYPE_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  int8: '_int8',
  uint8: '_uint8',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
} as const;

export type OnnxDType = keyof typeof ONNX_DTYPE_SUFFIX;

export const LLAVA_COMPONENTS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;
export type LlavaComponent = (typeof LLAVA_COMPONENTS)[number];
export type LlavaDTypes = Record<LlavaComponent, OnnxDType>;

/**
 * CPU defaults: float32 activations everywhere, so onnxruntime's CPU provider never needs fp16
 * kernels (mixing an fp16 embed_tokens with a float32 decoder also breaks the graph inputs).
 * The 4-bit decoder is where the size goes down; the vision tower stays fp32 for caption quality.
 */
export const LLAVA_CPU_DTYPES: LlavaDTypes = { vision_encoder: 'fp32', embed_tokens: 'int8', decoder_model_merged: 'q4' };

/** Approximate sizes in the llava-interleave-qwen-0.5b-hf onnx/ folder (vision ones estimated). */
const LLAVA_ONNX_BYTES: Record<LlavaComponent, Partial<Record<OnnxDType, number>>> = {
  vision_encoder: { fp32: 1_600 * MB, fp16: 800 * MB, int8: 410 * MB, uint8: 410 * MB, q8: 410 * MB, q4: 300 * MB, q4f16: 250 * MB, bnb4: 300 * MB },
  embed_tokens: { fp32: 623 * MB, fp16: 311 * MB, int8: 156 * MB, uint8: 156 * MB, q8: 156 * MB, q4: 623 * MB, q4f16: 311 * MB, bnb4: 623 * MB },
  decoder_model_merged: { fp32: 1_870 * MB, fp16: 937 * MB, int8: 482 * MB, uint8: 482 * MB, q8: 482 * MB, q4: 308 * MB, q4f16: 270 * MB, bnb4: 279 * MB },
};

export function llavaOnnxPath(component: LlavaComponent, dtype: OnnxDType): string {
  return `onnx/${component}${ONNX_DTYPE_SUFFIX[dtype]}.onnx`;
}

/** The onnx/ files for one dtype choice; external-data files are fetched if the repo has them. */
export function llavaOnnxFiles(dtypes: LlavaDTypes): PackFile[] {
  return LLAVA_COMPONENTS.flatMap((component) => {
    const path = llavaOnnxPath(component, dtypes[component]);
    return [
      packFile(path, LLAVA_ONNX_BYTES[component][dtypes[component]] ?? 0),
      packFile(`${path}_data`, 0, { required: false }),
    ];
  });
}

/** The hub's transformers.js onnx/ export of llava-interleave-qwen-0.5b: still importable, no longer the default download. */
export function llavaInterleaveFiles(dtypes: LlavaDTypes = LLAVA_CPU_DTYPES): PackFile[] {
  return [...llavaRuntimeFiles(7_030 * KB), ...llavaOnnxFiles(dtypes)];
}

/** Config, tokenizer, processor and template files every llava-hf repo has next to its weights. */
function llavaRuntimeFiles(tokenizerBytes: number): PackFile[] {
  return [
    packFile('config.json', 2 * KB),
    packFile('generation_config.json', 1 * KB),
    packFile('preprocessor_config.json', 1 * KB),
    packFile('processor_config.json', 1 * KB, { required: false }),
    packFile('tokenizer.json', tokenizerBytes),
    packFile('tokenizer_config.json', 2 * KB),
    // LLaVA-1.5 ships the sentencepiece model too; Tandem reads tokenizer.json, so it is only kept when present.
    packFile('tokenizer.model', 500 * KB, { required: false }),
    packFile('special_tokens_map.json', 1 * KB, { required: false }),
    packFile('added_tokens.json', 1 * KB, { required: false }),
    packFile('chat_template.json', 1 * KB, { required: false }),
    packFile('chat_template.jinja', 1 * KB, { required: false }),
  ];
}

/**
 * The official safetensors of a llava-hf repo, for Tandem's compiler: the shard index and every shard it
 * names (LLaVA-1.5), or one model.safetensors (the 0.5B). The size goes on the first candidate, which is
 * what the list view shows.
 */
export function llavaSourceFiles(weightsBytes: number, tokenizerBytes: number): PackFile[] {
  return [
    ...llavaRuntimeFiles(tokenizerBytes),
    oneOf(
      [
        { path: 'model.safetensors.index.json', approxBytes: weightsBytes },
        { path: 'model.safetensors', approxBytes: weightsBytes },
      ],
      { expandsIndex: true },
    ),
  ];
}

/**
 * Every LLaVA pack is compiled with a 4-bit decoder by default: it is what fits a laptop (a 7B in ~4 GB) and
 * what the benchmarks measure. Sizes are estimates of the compiled folder per decoder precision.
 */
function llavaCompile(compiledBytes: Record<CompilePrecision, number>, defaultGraphPrecision: GraphPrecision = 'fp32'): PackCompileSpec {
  return { defaultPrecision: 'q4', compiledBytes, defaultGraphPrecision };
}

export const KNOWN_PACKS: readonly ModelPack[] = [
  {
    name: 'blip-base',
    kind: 'blip-caption',
    repo: 'Salesforce/blip-image-captioning-base',
    revision: 'main',
    description: 'BLIP captioning, base (default captioner)',
    files: blipFiles(990 * MB),
  },
  {
    name: 'blip-large',
    kind: 'blip-caption',
    repo: 'Salesforce/blip-image-captioning-large',
    revision: 'main',
    description: 'BLIP captioning, large (better captions, ~2x slower)',
    files: blipFiles(1_880 * MB),
  },
  {
    name: 'blip-vqa-base',
    kind: 'blip-vqa',
    repo: 'Salesforce/blip-vqa-base',
    revision: 'main',
    description: 'BLIP visual question answering, base (short factual answers)',
    files: blipFiles(1_540 * MB),
  },
  {
    // Search by meaning (issue 11): ITC embeddings for recall, the ITM head to re-rank. Same file layout as the
    // captioners: config, BLIP preprocessor, BERT tokenizer files, one weight file (safetensors preferred).
    name: 'blip-itm-base-coco',
    kind: 'blip-retrieval',
    repo: 'Salesforce/blip-itm-base-coco',
    revision: 'main',
    description: 'BLIP image–text retrieval, base, COCO (search by meaning, find similar photos)',
    files: blipFiles(895 * MB),
  },
  {
    name: 'llava-interleave-qwen-0.5b',
    kind: 'llava',
    repo: 'llava-hf/llava-interleave-qwen-0.5b-hf',
    revision: 'main',
    description: 'LLaVA Interleave on Qwen 0.5B (default chat model: small, runs on any CPU)',
    files: llavaSourceFiles(1_790 * MB, 7_030 * KB),
    // int8 vision by default (`npm run bench -- chat --model 0.5b`): its 1.6 GB fp32 SigLIP tower outweighs the
    // 4-bit language model, takes half of the first answer's wait (3.4 of 6.5 s) and holds the peak at 3.3 GB,
    // past the pack's 6 s and 2.5 GB goals; at int8, 4.4 s and 2.3 GB. LLaVA-1.5's CLIP tower is small beside its
    // 7B/13B decoder and stays fp32.
    compile: llavaCompile({ q4: 1 * GB, int8: 1_300 * MB, fp32: 3_600 * MB }, 'int8'),
  },
  {
    name: 'llava-1.5-7b',
    kind: 'llava',
    repo: 'llava-hf/llava-1.5-7b-hf',
    revision: 'main',
    description: 'LLaVA-1.5 7B (better answers; 8 GB of RAM or more)',
    files: llavaSourceFiles(14_100 * MB, 1_840 * KB),
    compile: llavaCompile({ q4: 4 * GB, int8: 7_500 * MB, fp32: 28_500 * MB }),
  },
  {
    name: 'llava-1.5-13b',
    kind: 'llava',
    repo: 'llava-hf/llava-1.5-13b-hf',
    revision: 'main',
    description: 'LLaVA-1.5 13B (best answers; 16 GB of RAM or more, slow on CPU)',
    files: llavaSourceFiles(26_100 * MB, 1_840 * KB),
    compile: llavaCompile({ q4: 7_500 * MB, int8: 14_000 * MB, fp32: 53_000 * MB }),
  },
];

export function findPack(packs: readonly ModelPack[], name: string): ModelPack | undefined {
  return packs.find((p) => p.name === name);
}
