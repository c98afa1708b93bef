import type { TrimBudget } from './context-window';

/**
 * What Tandem assumes of an engine's model when it cannot ask: LLaVA-1.5's CLIP-336 image is 576 tokens, and
 * 4096 is what Tandem asks Ollama for (num_ctx) and what llama.cpp/vLLM LLaVA builds commonly run with.
 */
export const ENGINE_CONTEXT_TOKENS = 4096;
export const ENGINE_IMAGE_TOKENS = 576;

export function engineBudget(maxNewTokens: number): TrimBudget {
  return { contextTokens: ENGINE_CONTEXT_TOKENS, maxNewTokens, imageTokens: ENGINE_IMAGE_TOKENS, perTurnOverhead: 8 };
}
