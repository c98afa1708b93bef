/**
 * The extra size a BlipForImageTextRetrieval config carries on top of BLIP's vision and text configs: the width
 * of the shared image–text space (`image_text_hidden_size`, BlipConfig's default 256) that vision_proj and
 * text_proj map into.
 */
import { ModelFileError } from '../errors';
import type { BlipSpec } from './blip-config';
import { parseBlipConfig } from './blip-config';

export interface BlipRetrievalSpec extends BlipSpec {
  architecture: 'retrieval';
  /** width of the ITC embeddings (vision_proj / text_proj outputs) */
  imageTextHiddenSize: number;
}

/** Same bound as blip-config.ts: far above any real model, below where float32 stops counting exactly. */
const MAX_CONFIG_INT = 2 ** 24;

export function parseBlipRetrievalConfig(json: unknown, file: string, weightNames?: ReadonlySet<string>): BlipRetrievalSpec {
  const spec = parseBlipConfig(json, file, weightNames);
  if (spec.architecture !== 'retrieval') {
    throw new ModelFileError(
      file,
      `${file} describes a BLIP ${spec.architecture === 'vqa' ? 'question-answering' : 'captioning'} model; search by meaning needs BlipForImageTextRetrieval (e.g. Salesforce/blip-itm-base-coco).`,
    );
  }
  const raw = (json as Record<string, unknown>)['image_text_hidden_size'];
  const size = raw === undefined || raw === null ? 256 : raw;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_CONFIG_INT) {
    throw new ModelFileError(file, `${file}: image_text_hidden_size must be an integer from 1 to ${MAX_CONFIG_INT}, got ${JSON.stringify(raw)}.`);
  }
  return { ...spec, architecture: 'retrieval', imageTextHiddenSize: size };
}
