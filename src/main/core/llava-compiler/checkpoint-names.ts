/**
 * Tensor names of a LlavaForConditionalGeneration checkpoint. The compiler asks for the names the llava-hf
 * hub checkpoints use (`language_model.model.layers.N…`, `language_model.lm_head.weight`,
 * `vision_tower.vision_model.…`, `multi_modal_projector.…`); transformers ≥ 4.52 saves the same tensors as
 * `model.language_model.layers.N…`, `lm_head.weight`, `model.vision_tower.…`, `model.multi_modal_projector.…`.
 * Both spellings are accepted, tensor by tensor.
 */

/** The spellings of one hub-style name, hub spelling first. */
export function checkpointNameCandidates(hubName: string): string[] {
  const out = [hubName];
  if (hubName === 'language_model.lm_head.weight') out.push('lm_head.weight');
  else if (hubName.startsWith('language_model.model.')) out.push(`model.language_model.${hubName.slice('language_model.model.'.length)}`);
  else if (hubName.startsWith('vision_tower.') || hubName.startsWith('multi_modal_projector.')) out.push(`model.${hubName}`);
  return out;
}

/** Hub-style names of every tensor the graphs read. */
export const llavaNames = {
  visionPrefix: 'vision_tower.vision_model',
  vision(rest: string): string {
    return `vision_tower.vision_model.${rest}`;
  },
  visionLayer(i: number, rest: string): string {
    return `vision_tower.vision_model.encoder.layers.${i}.${rest}`;
  },
  projector(rest: string): string {
    return `multi_modal_projector.${rest}`;
  },
  text(rest: string): string {
    return `language_model.model.${rest}`;
  },
  textLayer(i: number, rest: string): string {
    return `language_model.model.layers.${i}.${rest}`;
  },
  embedTokens: 'language_model.model.embed_tokens.weight',
  /** a Linear: its weight is `${lmHead}.weight` */
  lmHead: 'language_model.lm_head',
};
