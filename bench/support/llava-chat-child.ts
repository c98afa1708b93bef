/**
 * Child process of `bench -- chat`: one compiled pack through LlavaEngine exactly as the inference process runs
 * chats, measuring per run the three moments a user waits for:
 *  - a new photo: image encode + prompt prefill + first token, then decode speed;
 *  - a follow-up in the same chat: only the new tokens are read (the kept KV cache);
 *  - the chat reopened later: the photo's features are cached, the prompt is read again.
 *   node --import tsx bench/support/llava-chat-child.ts <modelDir> <dtypes JSON> <tokens> <threads> <runs> <imagePath> [auto|on-demand|resident]
 */
import type { LlavaDTypes } from '../../src/main/core/models/known-packs';
import type { LlavaAnswer } from '../../src/main/core/llava/llava-engine';
import type { VisionResidency } from '../../src/main/core/llava/llava-sessions';
import { finishChild } from './child-process-run';

export interface AnswerTimes {
  promptTokens: number;
  reusedPromptTokens: number;
  imageMs: number;
  imageCached: boolean;
  prefillMs: number;
  firstTokenMs: number;
  /** generated tokens, end-of-answer included */
  tokens: number;
  /** tokens after the first per second; null with fewer than two tokens */
  decodeTokensPerSec: number | null;
  totalMs: number;
}

export interface ChatRun {
  newPhoto: AnswerTimes;
  followUp: AnswerTimes;
  reopened: AnswerTimes;
}

export interface ChatChildResult {
  loadMs: number;
  /** what the engine chose for the vision tower */
  vision: VisionResidency;
  imageTokens: number;
  runs: ChatRun[];
  maxRssBytes: number;
  sample: string;
}

function times(a: LlavaAnswer): AnswerTimes {
  const first = a.firstTokenMs ?? a.totalMs;
  const n = a.tokenIds.length;
  return {
    promptTokens: a.promptTokens,
    reusedPromptTokens: a.reusedPromptTokens,
    imageMs: a.imageMs,
    imageCached: a.imageCached,
    prefillMs: a.prefillMs,
    firstTokenMs: first,
    tokens: n,
    decodeTokensPerSec: n > 1 && a.totalMs > first ? ((n - 1) * 1000) / (a.totalMs - first) : null,
    totalMs: a.totalMs,
  };
}

async function main(): Promise<void> {
  const [modelDir, dtypesJson, tokens, threads, runs, imagePath, vision] = process.argv.slice(2);
  const { LlavaEngine } = await import('../../src/main/core/llava/llava-engine');
  const t0 = performance.now();
  const engine = await LlavaEngine.load({ modelDir: modelDir!, dtypes: JSON.parse(dtypesJson!) as LlavaDTypes, threads: Number(threads), maxContextTokens: 4096, vision: vision === 'resident' || vision === 'on-demand' ? vision : 'auto' });
  const loadMs = performance.now() - t0;
  // What the chat service sends: a system prompt grounded in BLIP's facts, greedy decoding.
  const system = 'You are Tandem. Facts from BLIP: - Caption: "a colourful pattern"';
  const sampling = { temperature: 0, topP: 1, maxNewTokens: Number(tokens) };
  const question = { role: 'user' as const, text: 'Tell a story based on this image' };
  const ask = (turns: { role: 'user' | 'assistant'; text: string }[]) =>
    engine.generate({ imagePath: imagePath!, system, turns, sampling }, () => {}, { interrupted: false });
  const out: ChatRun[] = [];
  let sample = '';
  for (let r = 0; r < Number(runs); r++) {
    // Each run starts from a photo the engine has never seen.
    engine.forgetConversation();
    engine.forgetImages();
    const a = await ask([question]);
    const followUp = await ask([question, { role: 'assistant', text: a.text }, { role: 'user', text: 'What happens next?' }]);
    engine.forgetConversation();
    const reopened = await ask([question]);
    out.push({ newPhoto: times(a), followUp: times(followUp), reopened: times(reopened) });
    sample = a.text;
  }
  const imageTokens = engine.imageTokens;
  await engine.dispose();
  finishChild<ChatChildResult>({ loadMs, vision: engine.vision, imageTokens, runs: out, maxRssBytes: process.resourceUsage().maxRSS * 1024, sample: sample.slice(0, 120) });
}

await main();
