/**
 * The `preprocessor_config.json` files llava-hf ships, at any image size: CLIPImageProcessor for LLaVA-1.5
 * (shortest-edge resize, centre crop, OpenAI CLIP mean/std) and SiglipImageProcessor for llava-interleave
 * (resize to a square, mean/std 0.5). Test packs and preprocessing tests share them so they cannot drift apart.
 */
export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** llava-hf/llava-1.5-7b-hf's preprocessor_config.json with `size` for 336. */
export function clipPreprocessorConfig(size: number) {
  return {
    crop_size: { height: size, width: size },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: OPENAI_CLIP_MEAN,
    image_processor_type: 'CLIPImageProcessor',
    image_std: OPENAI_CLIP_STD,
    processor_class: 'LlavaProcessor',
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: size },
  };
}

/** llava-hf/llava-interleave-qwen-0.5b-hf's preprocessor_config.json with `size` for 384. */
export function siglipPreprocessorConfig(size: number) {
  return {
    do_convert_rgb: null,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_processor_type: 'SiglipImageProcessor',
    image_std: [0.5, 0.5, 0.5],
    processor_class: 'LlavaProcessor',
    resample: 3,
    rescale_factor: 1 / 255,
    size: { height: size, width: size },
  };
}
