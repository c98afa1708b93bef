/**
 * One LLaVA answer outside any chat: the photo, one question, the pack's own template with no system text
 * unless one is given, nothing stored. This is the deterministic mode (`tandem ask … --no-grounding
 * --greedy --max-new-tokens N --json`) that checks Tandem's engine token for token against a reference run of
 * the same pack; it still runs in the LLaVA inference process, like every embedded answer.
 */
import { forkWorker, type SpawnWorker } from '../inference/worker-handle';
import { LlavaClient } from './llava-client';
import type { LlavaStats } from './llava-protocol';
import type { LlavaSampling } from './llava-sampling';

export interface SingleAnswerRequest {
  /** Pack name, for the reply. */
  model: string;
  modelDir: string;
  imagePath: string;
  question: string;
  /** Grounding or instructions; '' (the deterministic mode) renders the template with no system turn. */
  system: string;
  sampling: LlavaSampling;
  threads: number;
  maxContextTokens: number;
}

export interface SingleAnswer extends LlavaStats {
  model: string;
  text: string;
  /** Generated ids, the end-of-answer id included when it came. */
  tokenIds: number[];
  stopped: boolean;
  loadMs: number;
}

export async function answerOnce(
  req: SingleAnswerRequest,
  options: { spawn?: SpawnWorker; onToken?: (text: string) => void; signal?: AbortSignal } = {},
): Promise<SingleAnswer> {
  const client = new LlavaClient(options.spawn ?? (() => forkWorker()));
  try {
    const loaded = await client.load({ model: req.model, modelDir: req.modelDir, threads: req.threads, maxContextTokens: req.maxContextTokens });
    const done = await client.chat(
      { imagePath: req.imagePath, system: req.system, turns: [{ role: 'user', text: req.question }], sampling: req.sampling },
      options.onToken ?? (() => {}),
      options.signal ?? new AbortController().signal,
    );
    const { type: _type, id: _id, ...answer } = done;
    return { ...answer, model: req.model, loadMs: loaded.loadMs };
  } finally {
    await client.close();
  }
}
