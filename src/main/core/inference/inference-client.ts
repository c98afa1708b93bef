import { TandemError } from '../errors';
import type {
  AnswerRequest,
  CaptionRequest,
  EmbedImagesRequest,
  EmbedTextsRequest,
  FromWorker,
  LoadModelRequest,
  LoadRetrievalRequest,
  MatchRequest,
  ToWorker,
} from './protocol';
import { shutdownWorker, type SpawnWorker, type WorkerHandle } from './worker-handle';

/** The inference process ended while requests were in it. */
export class WorkerCrashedError extends TandemError {
  constructor(readonly reason: string) {
    super('worker_crashed', `The inference process stopped (${reason}).`);
  }
}

type Reply<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;
/** `load`: which model the request loads (a load that kills the process is not replayed). */
type Pending = { resolve: (m: FromWorker) => void; reject: (e: Error) => void; load: 'caption' | 'retrieval' | null };
type Omitted<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Talks to the inference process: request/reply by id, restart with back-off after a crash, and
 * the loaded model re-sent to a fresh process. A crash rejects what was in flight with WorkerCrashedError;
 * what to do with those jobs is the caller's decision.
 */
export class InferenceClient {
  private worker: WorkerHandle | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastLoad: Omit<LoadModelRequest, 'id'> | null = null;
  /** The retrieval pack (issue 11) loaded beside the captioner, re-sent to a fresh process like `lastLoad`. */
  private lastRetrievalLoad: Omit<LoadRetrievalRequest, 'id'> | null = null;
  private retrievalLoadedInCurrentWorker = false;
  private consecutiveCrashes = 0;
  private closing = false;
  /** Called with a reason each time the process dies unexpectedly. */
  onCrash: (reason: string) => void = () => {};

  constructor(
    private readonly spawn: SpawnWorker,
    private readonly backoffMs: (crashes: number) => number = (n) => Math.min(30_000, 250 * 2 ** (n - 1)),
  ) {}

  get pid(): number | undefined {
    return this.worker?.pid;
  }

  async load(req: Omit<LoadModelRequest, 'id' | 'type'>): Promise<Reply<'loaded'>> {
    this.lastLoad = { type: 'load', ...req };
    return this.request({ type: 'load', ...req }, 'loaded');
  }

  async caption(req: Omit<CaptionRequest, 'id' | 'type'>): Promise<Reply<'captioned'>> {
    await this.ensureModel();
    return this.request({ type: 'caption', ...req }, 'captioned');
  }

  async answer(req: Omit<AnswerRequest, 'id' | 'type'>): Promise<Reply<'answered'>> {
    await this.ensureModel();
    return this.request({ type: 'answer', ...req }, 'answered');
  }

  /** Opens a BlipForImageTextRetrieval pack in the inference process, beside the captioner. */
  async loadRetrieval(req: Omit<LoadRetrievalRequest, 'id' | 'type'>): Promise<Reply<'retrieval-loaded'>> {
    this.lastRetrievalLoad = { type: 'load-retrieval', ...req };
    return this.request({ type: 'load-retrieval', ...req }, 'retrieval-loaded');
  }

  /** ITC embeddings of photos; a photo that cannot be read comes back `ok: false` with its reason. */
  async embedImages(req: Omit<EmbedImagesRequest, 'id' | 'type'>): Promise<Reply<'images-embedded'>> {
    await this.ensureRetrieval();
    return this.request({ type: 'embed-images', ...req }, 'images-embedded');
  }

  async embedTexts(req: Omit<EmbedTextsRequest, 'id' | 'type'>): Promise<Reply<'texts-embedded'>> {
    await this.ensureRetrieval();
    return this.request({ type: 'embed-texts', ...req }, 'texts-embedded');
  }

  /** ITM match probabilities of `texts` against the image at `path`. */
  async match(req: Omit<MatchRequest, 'id' | 'type'>): Promise<Reply<'matched'>> {
    await this.ensureRetrieval();
    return this.request({ type: 'match', ...req }, 'matched');
  }

  /** Stops the process for good. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.worker) await shutdownWorker(this.worker);
  }

  /** For tests and "stop now": kills the process as a crash would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.worker?.kill(signal);
  }

  private loadedInCurrentWorker = false;

  private async ensureModel(): Promise<void> {
    await this.ensureWorker();
    if (!this.loadedInCurrentWorker && this.lastLoad) {
      await this.request({ ...this.lastLoad }, 'loaded');
    }
  }

  private async ensureRetrieval(): Promise<void> {
    await this.ensureWorker();
    if (!this.retrievalLoadedInCurrentWorker && this.lastRetrievalLoad) {
      await this.request({ ...this.lastRetrievalLoad }, 'retrieval-loaded');
    }
  }

  private async ensureWorker(): Promise<void> {
    if (this.closing) throw new TandemError('worker_closed', 'The inference process has been shut down.');
    if (!this.ready) this.ready = this.start();
    return this.ready;
  }

  private async start(): Promise<void> {
    if (this.consecutiveCrashes > 0) await new Promise((r) => setTimeout(r, this.backoffMs(this.consecutiveCrashes)));
    const worker = this.spawn();
    this.worker = worker;
    this.loadedInCurrentWorker = false;
    this.retrievalLoadedInCurrentWorker = false;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      worker.onMessage((m) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
          return;
        }
        if (m.type === 'loaded') {
          this.loadedInCurrentWorker = true;
          this.consecutiveCrashes = 0;
        }
        if (m.type === 'retrieval-loaded') {
          this.retrievalLoadedInCurrentWorker = true;
          this.consecutiveCrashes = 0;
        }
        const id = 'id' in m ? m.id : null;
        const p = id !== null ? this.pending.get(id) : undefined;
        if (!p) return;
        this.pending.delete(id!);
        if (m.type === 'error') p.reject(new TandemError(m.code, m.message));
        else p.resolve(m);
      });
      worker.onExit((code, signal) => {
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
        }
        const reason = signal ? `killed by ${signal}` : `exit code ${code}`;
        if (!started) reject(new WorkerCrashedError(`it could not start: ${reason}`));
        const inFlight = [...this.pending.values()];
        this.pending.clear();
        // A process that dies while loading a model (a hostile file stopped by the load watchdog, or one too big
        // for memory) would die again on every retry: the model is forgotten, and the caller's next use must load
        // it again deliberately.
        if (inFlight.some((p) => p.load === 'caption')) {
          this.lastLoad = null;
          this.loadedInCurrentWorker = false;
        }
        if (inFlight.some((p) => p.load === 'retrieval')) {
          this.lastRetrievalLoad = null;
          this.retrievalLoadedInCurrentWorker = false;
        }
        if (!this.closing) {
          this.consecutiveCrashes++;
          this.onCrash(reason);
        }
        for (const p of inFlight) p.reject(new WorkerCrashedError(reason));
      });
    });
  }

  private async request<T extends FromWorker['type']>(message: Omitted<ToWorker>, expect: T): Promise<Reply<T>> {
    await this.ensureWorker();
    const id = this.nextId++;
    const worker = this.worker;
    if (!worker) throw new WorkerCrashedError('it stopped before the request was sent');
    const reply = await new Promise<FromWorker>((resolve, reject) => {
      const load = message.type === 'load' ? 'caption' : message.type === 'load-retrieval' ? 'retrieval' : null;
      this.pending.set(id, { resolve, reject, load });
      worker.send({ ...message, id } as ToWorker);
    });
    if (reply.type !== expect) throw new TandemError('protocol', `Expected ${expect} from the inference process, got ${reply.type}.`);
    return reply as Reply<T>;
  }
}
