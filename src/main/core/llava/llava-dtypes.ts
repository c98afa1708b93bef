import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../errors';
import { LLAVA_COMPONENTS, LLAVA_CPU_DTYPES, type LlavaComponent, type LlavaDTypes, type OnnxDType } from '../models/known-packs';
import { onnxVariants } from '../models/pack-layout';

/**
 * Preference per component when the CPU default is missing from a folder (an imported pack may hold only
 * fp32, or only q4f16). Float32-activation variants come first: onnxruntime's CPU provider runs fp16
 * graphs through casts, slower than fp32.
 */
const FALLBACK: Record<LlavaComponent, OnnxDType[]> = {
  vision_encoder: ['fp32', 'int8', 'uint8', 'q8', 'q4', 'bnb4', 'fp16', 'q4f16'],
  embed_tokens: ['int8', 'uint8', 'q8', 'fp32', 'q4', 'bnb4', 'fp16', 'q4f16'],
  decoder_model_merged: ['q4', 'int8', 'uint8', 'q8', 'bnb4', 'fp32', 'q4f16', 'fp16'],
};

/** The dtype of each ONNX file to load from `modelDir`: the requested one, else the CPU default, else the best present. */
export async function chooseLlavaDtypes(modelDir: string, requested: Partial<LlavaDTypes> = {}): Promise<LlavaDTypes> {
  let names: string[] = [];
  try {
    names = await readdir(join(modelDir, 'onnx'));
  } catch {
    // reported per component below
  }
  const variants = onnxVariants(names.map((n) => `onnx/${n}`));
  const out = {} as LlavaDTypes;
  for (const component of LLAVA_COMPONENTS) {
    const have = variants[component];
    const want = requested[component];
    if (want) {
      if (!have.includes(want)) {
        throw new ModelFileError(`onnx/${component}`, `${modelDir} has no ${want} variant of ${component} (it has: ${have.join(', ') || 'none'}).`);
      }
      out[component] = want;
      continue;
    }
    const pick = [LLAVA_CPU_DTYPES[component], ...FALLBACK[component]].find((d) => have.includes(d));
    if (!pick) {
      throw new ModelFileError(
        `onnx/${component}.onnx`,
        `${modelDir} is missing onnx/${component}.onnx (or a variant such as onnx/${component}_q4.onnx). Reinstall or re-import the model.`,
      );
    }
    out[component] = pick;
  }
  return out;
}
