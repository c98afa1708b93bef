/**
 * The inference process: BLIP runs here, never in the main process (DESIGN.md §1), so a crash or an
 * out-of-memory kills this process only. It speaks the protocol in protocol.ts over the IPC channel
 * (child_process.fork in the CLI and tests; Electron's utilityProcess in the app, via parentPort).
 */
import { loadBlipEngine, type BlipEngine } from '../blip/blip-engine';
import { modelPixels } from '../blip/preprocess';
import { disableDecodeCache, type DecodedRgb } from '../blip/image-decode';
import { errorMessage, TandemError } from '../errors';
import { isLlavaMessage, LlavaWorker } from '../llava/llava-worker';
import { isLlavaCompileMessage, LlavaCompileHost } from '../models/llava-compile-host';
import { findCheckpoint } from '../weights/load-checkpoint';
import { RetrievalHandler } from './retrieval-handler';
import { modelLoadTimeoutMs, withLoadDeadline } from './load-deadline';
import type { CaptionItemResult, CaptionRequest, FromWorker, ToWorker } from './protocol';

interface Channel {
  send(m: FromWorker): void;
  onMessage(l: (m: ToWorker) => void): void;
}

function channel(): Channel {
  // Electron's utilityProcess exposes process.parentPort; child_process.fork gives process.send.
  const parentPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void } }).parentPort;
  if (parentPort) {
    return {
      send: (m) => parentPort.postMessage(m),
      onMessage: (l) => parentPort.on('message', (e) => l(e.data as ToWorker)),
    };
  }
  if (!process.send) throw new Error('inference-process must be started with an IPC channel');
  // If the parent dies (even by SIGKILL) the IPC channel closes: go too, never linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  return {
    send: (m) => process.send!(m),
    onMessage: (l) => process.on('message', (m) => l(m as ToWorker)),
  };
}

/** The weight file a load reads, for error messages; the folder when none is there (the load reports that). */
async function checkpointFileFor(modelDir: string): Promise<string> {
  try {
    return (await findCheckpoint(modelDir)).files[0] ?? modelDir;
  } catch {
    return modelDir;
  }
}

type Prepared = { item: CaptionRequest['items'][number]; pixels: DecodedRgb } | { item: CaptionRequest['items'][number]; error: string };

class Worker {
  private model: BlipEngine | null = null;
  private modelKey = '';
  /** Fast (int8) captioning also decodes JPEGs with shrink-on-load (image-decode.ts); exact fp32 never does. */
  private fastDecode = false;
  private readonly aborts = new Map<number, AbortController>();
  /** Inference runs one request at a time; decoding of queued requests starts at once and overlaps it. */
  private chain: Promise<void> = Promise.resolve();
  /** The BLIP retrieval engine (issue 11), loaded beside the captioner and run on the same queue. */
  private readonly retrieval = new RetrievalHandler((m) => this.io.send(m), checkpointFileFor);

  constructor(private readonly io: Channel) {}

  handle(m: ToWorker): void {
    switch (m.type) {
      case 'load':
        this.enqueue(m.id, async () => {
          const precision = m.precision ?? 'fp32';
          const key = `${m.modelDir}\n${m.cacheDir}\n${m.threads}\n${precision}`;
          const t0 = performance.now();
          let compiled = false;
          if (this.model && this.modelKey === key) {
            this.io.send({ type: 'loaded', id: m.id, model: m.model, loadMs: 0, compiled });
            return;
          }
          await this.model?.dispose();
          this.model = null;
          this.modelKey = '';
          // A hostile checkpoint must not wedge this process: the load gets a deadline, and a model that
          // arrives after it is thrown away rather than installed behind the caller's back.
          this.model = await withLoadDeadline(
            () =>
              loadBlipEngine({
                modelDir: m.modelDir,
                cacheDir: m.cacheDir,
                threads: m.threads,
                quantization: precision === 'int8' ? 'int8' : 'none',
                onProgress: (stage) => {
                  if (stage.startsWith('compiling')) compiled = true;
                },
              }),
            {
              ms: modelLoadTimeoutMs(),
              file: await checkpointFileFor(m.modelDir),
              onLate: (late) => void late.dispose(),
            },
          );
          this.modelKey = key;
          this.fastDecode = precision === 'int8';
          this.io.send({ type: 'loaded', id: m.id, model: m.model, loadMs: performance.now() - t0, compiled });
        });
        return;
      case 'caption': {
        const t0 = performance.now();
        const prepared = this.prepare(m);
        this.enqueue(m.id, async () => {
          const items = await prepared;
          const decodeMs = performance.now() - t0;
          const t1 = performance.now();
          const results = await this.captionPrepared(m, items);
          this.io.send({ type: 'captioned', id: m.id, results, decodeMs, inferMs: performance.now() - t1 });
        });
        return;
      }
      case 'answer':
        this.enqueue(m.id, async () => {
          const t0 = performance.now();
          const out = await this.requireModel().answer(m.path, m.question, this.generateOptions(m.settings, m.id));
          this.io.send({ type: 'answered', id: m.id, answer: out.text, ms: performance.now() - t0 });
        });
        return;
      case 'load-retrieval':
      case 'embed-images':
      case 'embed-texts':
      case 'match': {
        const work = this.retrieval.handle(m);
        this.enqueue(m.id, work);
        return;
      }
      case 'cancel':
        this.aborts.get(m.id)?.abort(new TandemError('cancelled', 'Cancelled.'));
        return;
      case 'shutdown':
        void this.chain.finally(async () => {
          await this.model?.dispose();
          await this.retrieval.dispose();
          process.exit(0);
        });
        return;
    }
  }

  private enqueue(id: number, work: () => Promise<void>): void {
    this.aborts.set(id, new AbortController());
    this.chain = this.chain
      .then(work)
      .catch((err: unknown) => {
        const code = err instanceof TandemError ? err.code : 'inference';
        this.io.send({ type: 'error', id, code, message: errorMessage(err) });
      })
      .finally(() => this.aborts.delete(id));
  }

  private requireModel(): BlipEngine {
    if (!this.model) throw new TandemError('no_model', 'No model is loaded in the inference process.');
    return this.model;
  }

  private async prepare(m: CaptionRequest): Promise<Prepared[]> {
    // Waits for a model only to learn its input size; decoding itself does not block on inference.
    while (!this.model) await new Promise((r) => setTimeout(r, 20));
    const cfg = this.model.imageConfig;
    const out: Prepared[] = [];
    for (const item of m.items) {
      try {
        out.push({ item, pixels: await modelPixels(item.path, cfg, { fastDecode: this.fastDecode }) });
      } catch (err) {
        out.push({ item, error: errorMessage(err) });
      }
    }
    return out;
  }

  private generateOptions(s: CaptionRequest['settings'], id: number) {
    return {
      numBeams: s.numBeams,
      maxLength: s.maxLength,
      minLength: s.minLength,
      repetitionPenalty: s.repetitionPenalty,
      signal: this.aborts.get(id)?.signal,
    };
  }

  private async captionPrepared(m: CaptionRequest, prepared: Prepared[]): Promise<CaptionItemResult[]> {
    const good = prepared.filter((p): p is Extract<Prepared, { pixels: DecodedRgb }> => 'pixels' in p);
    const t0 = performance.now();
    const outputs = good.length
      ? await this.requireModel().caption(
          good.map((g) => g.pixels),
          { ...this.generateOptions(m.settings, m.id), ...(m.settings.prompt ? { prompt: m.settings.prompt } : {}), batchSize: good.length },
        )
      : [];
    const ms = (performance.now() - t0) / Math.max(1, good.length);
    const byJob = new Map(good.map((g, i) => [g.item.jobId, outputs[i]!.text]));
    return prepared.map((p) =>
      'error' in p
        ? { jobId: p.item.jobId, photoId: p.item.photoId, ok: false as const, error: p.error }
        : { jobId: p.item.jobId, photoId: p.item.photoId, ok: true as const, text: byJob.get(p.item.jobId) ?? '', ms },
    );
  }
}

disableDecodeCache();
const io = channel();
const worker = new Worker(io);
// LLaVA messages go to their own queue; the chat service runs them in a separate instance of this process.
const llava = new LlavaWorker((m) => io.send(m));
// A LLaVA compile runs in an instance of its own, started for that compile (llava-compile-runner.ts).
const compiler = new LlavaCompileHost((m) => io.send(m));
io.onMessage((m) => (isLlavaCompileMessage(m) ? compiler.handle(m) : isLlavaMessage(m) ? llava.handle(m) : worker.handle(m)));
// Test hook: lets crash-recovery tests kill the process at a chosen photo, as a real decoder crash would.
if (process.env['TANDEM_TEST_CRASH_ON']) {
  const needle = process.env['TANDEM_TEST_CRASH_ON'];
  io.onMessage((m) => {
    if ((m.type === 'caption' || m.type === 'embed-images') && m.items.some((i) => i.path.includes(needle))) process.kill(process.pid, 'SIGKILL');
  });
}
io.send({ type: 'ready', pid: process.pid });
