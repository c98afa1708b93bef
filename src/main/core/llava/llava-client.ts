import { TandemError } from '../errors';
import { WorkerCrashedError } from '../inference/inference-client';
import type { FromWorker } from '../inference/protocol';
import { shutdownWorker, type SpawnWorker, type WorkerHandle } from '../inference/worker-handle';
import type { LlavaChatRequest, LlavaFromWorker, LlavaLoaded, LlavaLoadRequest } from './llava-protocol';

type Done = Extract<LlavaFromWorker, { type: 'llava-done' }>;

interface Pending {
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
  onToken?: (text: string) => void;
}

/**
 * The main-process side of the LLaVA process: started on first use, the model re-loaded after a crash,
 * answers streamed back token by token. Stopping sends a cancel and drops any token that was already on
 * its way, so the caller sees nothing after the stop.
 */
export class LlavaClient {
  private worker: WorkerHandle | null = null;
  private ready: Promise<void> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastLoad: Omit<LlavaLoadRequest, 'id' | 'type'> | null = null;
  private loaded: LlavaLoaded | null = null;
  private loadedKey = '';
  private closing = false;

  constructor(private readonly spawn: SpawnWorker) {}

  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** Loads (or keeps) a model; cheap when the same folder is already loaded. */
  async load(req: Omit<LlavaLoadRequest, 'id' | 'type'>): Promise<LlavaLoaded> {
    this.lastLoad = req;
    await this.ensureWorker();
    const key = JSON.stringify(req);
    if (this.loaded && this.loadedKey === key) return this.loaded;
    const reply = await this.request({ type: 'llava-load', ...req }, 'llava-loaded');
    this.loaded = reply;
    this.loadedKey = key;
    return reply;
  }

  async chat(req: Omit<LlavaChatRequest, 'id' | 'type'>, onToken: (text: string) => void, signal: AbortSignal): Promise<Done> {
    if (!this.lastLoad) throw new TandemError('no_model', 'No LLaVA model is loaded.');
    await this.load(this.lastLoad);
    const id = this.nextId++;
    const worker = this.worker;
    if (!worker) throw new WorkerCrashedError('it stopped before the request was sent');
    let stopped = false;
    const onAbort = (): void => {
      stopped = true;
      worker.send({ type: 'llava-cancel', id });
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await new Promise<FromWorker>((resolve, reject) => {
        this.pending.set(id, { resolve, reject, onToken: (t) => !stopped && onToken(t) });
        worker.send({ type: 'llava-chat', id, ...req });
      });
      if (reply.type !== 'llava-done') throw new TandemError('protocol', `Expected llava-done from the inference process, got ${reply.type}.`);
      return stopped ? { ...reply, stopped: true } : reply;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.worker) await shutdownWorker(this.worker);
  }

  /** For tests: kills the process as a crash would. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.worker?.kill(signal);
  }

  private async ensureWorker(): Promise<void> {
    if (this.closing) throw new TandemError('worker_closed', 'The LLaVA process has been shut down.');
    if (!this.ready) this.ready = this.start();
    return this.ready;
  }

  private async start(): Promise<void> {
    const worker = this.spawn();
    this.worker = worker;
    this.loaded = null;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      worker.onMessage((m) => {
        if (m.type === 'ready') {
          started = true;
          resolve();
          return;
        }
        if (!('id' in m) || m.id === null) return;
        const p = this.pending.get(m.id);
        if (!p) return;
        if (m.type === 'llava-token') {
          p.onToken?.(m.text);
          return;
        }
        this.pending.delete(m.id);
        if (m.type === 'error') p.reject(new TandemError(m.code, m.message));
        else p.resolve(m);
      });
      worker.onExit((code, signal) => {
        if (this.worker === worker) {
          this.worker = null;
          this.ready = null;
          this.loaded = null;
        }
        const reason = signal ? `killed by ${signal}` : `exit code ${code}`;
        if (!started) reject(new WorkerCrashedError(`it could not start: ${reason}`));
        const inFlight = [...this.pending.values()];
        this.pending.clear();
        for (const p of inFlight) p.reject(new WorkerCrashedError(reason));
      });
    });
  }

  private async request<T extends FromWorker['type']>(message: Omit<Extract<LlavaLoadRequest, { type: 'llava-load' }>, 'id'>, expect: T): Promise<Extract<FromWorker, { type: T }>> {
    const id = this.nextId++;
    const worker = this.worker;
    if (!worker) throw new WorkerCrashedError('it stopped before the request was sent');
    const reply = await new Promise<FromWorker>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.send({ ...message, id });
    });
    if (reply.type !== expect) throw new TandemError('protocol', `Expected ${expect} from the inference process, got ${reply.type}.`);
    return reply as Extract<FromWorker, { type: T }>;
  }
}
