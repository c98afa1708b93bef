/**
 * LLaVA's half of the inference process. Requests run one at a time; the engine (and its tokenizer and
 * template libraries) is imported on the first load, so a process that only captions with BLIP never pays for it.
 */
import { errorMessage, TandemError } from '../errors';
import type { FromWorker, ToWorker } from '../inference/protocol';
import { chooseLlavaDtypes } from './llava-dtypes';
import type { LlavaEngine } from './llava-engine';
import type { LlavaToWorker } from './llava-protocol';

export function isLlavaMessage(m: ToWorker): m is LlavaToWorker {
  return m.type.startsWith('llava-');
}

/** A chat's stop flag; it exists while the chat is queued too, so a stop before it starts skips it. */
export interface StopFlag {
  interrupted: boolean;
}

export class LlavaWorker {
  private engine: LlavaEngine | null = null;
  private engineKey = '';
  private chain: Promise<void> = Promise.resolve();
  private readonly stoppers = new Map<number, StopFlag>();

  constructor(private readonly send: (m: FromWorker) => void) {}

  handle(m: LlavaToWorker): void {
    switch (m.type) {
      case 'llava-load':
        this.enqueue(m.id, async () => {
          const t0 = performance.now();
          const dtypes = await chooseLlavaDtypes(m.modelDir, m.dtypes);
          const vision = m.vision ?? 'auto';
          const key = JSON.stringify([m.modelDir, dtypes, m.threads, m.maxContextTokens, vision]);
          if (!this.engine || this.engineKey !== key) {
            await this.engine?.dispose();
            this.engine = null;
            const { LlavaEngine } = await import('./llava-engine');
            this.engine = await LlavaEngine.load({ modelDir: m.modelDir, dtypes, threads: m.threads, maxContextTokens: m.maxContextTokens, vision });
            this.engineKey = key;
          }
          const e = this.engine;
          this.send({ type: 'llava-loaded', id: m.id, model: m.model, loadMs: performance.now() - t0, dtypes: e.dtypes, contextTokens: e.contextTokens, imageTokens: e.imageTokens, vision: e.vision });
        });
        return;
      case 'llava-chat': {
        const stop: StopFlag = { interrupted: false };
        this.stoppers.set(m.id, stop);
        this.enqueue(m.id, async () => {
          const engine = this.engine;
          if (!engine) throw new TandemError('no_model', 'No LLaVA model is loaded in the inference process.');
          if (stop.interrupted) {
            this.send({
              type: 'llava-done',
              id: m.id,
              text: '',
              tokenIds: [],
              stopped: true,
              promptTokens: 0,
              tokens: 0,
              droppedTurns: 0,
              imageMs: 0,
              imageCached: false,
              prefillMs: 0,
              firstTokenMs: null,
              totalMs: 0,
              decoderSteps: 0,
              cachedSteps: 0,
              reusedPromptTokens: 0,
            });
            return;
          }
          const answer = await engine.generate(m, (text) => this.send({ type: 'llava-token', id: m.id, text }), stop);
          this.send({ type: 'llava-done', id: m.id, ...answer });
        });
        return;
      }
      case 'llava-cancel': {
        const stop = this.stoppers.get(m.id);
        if (stop) stop.interrupted = true;
        return;
      }
    }
  }

  private enqueue(id: number, work: () => Promise<void>): void {
    this.chain = this.chain
      .then(work)
      .catch((err: unknown) => {
        const code = err instanceof TandemError ? err.code : 'inference';
        this.send({ type: 'error', id, code, message: errorMessage(err) });
      })
      .finally(() => this.stoppers.delete(id));
  }
}
