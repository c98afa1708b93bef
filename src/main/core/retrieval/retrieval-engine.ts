/**
 * The contract between BLIP's retrieval engine (image–text contrastive embeddings and the image–text matching
 * head, compiled from a `BlipForImageTextRetrieval` folder) and the library side that stores embeddings and
 * ranks photos by meaning. The engine is implemented in `blip-retrieval-engine.ts`; the library side only
 * ever sees this interface, in the inference process or behind the inference client.
 */
import type { BlipImageInput } from '../blip/blip-engine';

export interface RetrievalEngine {
  /** pack name, e.g. 'blip-itm-base-coco'; stored beside every embedding */
  readonly model: string;
  /** length of every embedding (the config's image_text_hidden_size, 256 for BLIP base) */
  readonly dimensions: number;
  /** ITC image embeddings, L2-normalised, one per image, in order */
  embedImages(images: readonly BlipImageInput[]): Promise<Float32Array[]>;
  /** ITC text embeddings, L2-normalised, one per text, in order */
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
  /** ITM: softmax(itm_head)[1], the probability that each text matches the image */
  matchProbabilities(image: BlipImageInput, texts: readonly string[]): Promise<number[]>;
  dispose(): Promise<void>;
}
