/** One progress event of a pack download: what the UI's bar and the CLI's progress line show. */
export interface DownloadProgress {
  pack: string;
  /** 'compiling' follows the download for packs Tandem compiles (LLaVA); `compile` then says how far. */
  phase: 'resolving' | 'downloading' | 'compiling' | 'done';
  /** The file being fetched ('' while resolving). */
  file: string;
  fileIndex: number;
  fileCount: number;
  fileBytes: number;
  fileTotal: number | null;
  /** Includes bytes that were already on disk from an earlier, interrupted run. */
  packBytes: number;
  packTotal: number | null;
  /** Over the last few seconds of this run's transfer only, so resumed bytes do not inflate it. */
  bytesPerSecond: number;
  /** Of the download, or of the compile while compiling. */
  etaSeconds: number | null;
  compile?: CompileProgress;
}

export interface CompileProgress {
  /** 'hashing', 'vision', 'embeddings', 'decoder', 'writing', 'copying' */
  stage: string;
  /** e.g. 'decoder layer 3/32' */
  label: string;
  done: number;
  total: number;
}

/** Transfer rate over a sliding window: steadier than instantaneous, quicker than an all-time average. */
export class RateMeter {
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  /** Below `minSpanMs` of samples the rate is reported as 0 (unknown): a first burst makes wild ETAs. */
  constructor(
    private readonly windowMs = 5_000,
    private readonly minSpanMs = 500,
  ) {}

  /** `bytes` is a running total of bytes transferred in this run. */
  add(bytes: number, t: number): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < Math.max(this.minSpanMs, 1)) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}

export function etaSeconds(remainingBytes: number | null, bytesPerSecond: number): number | null {
  if (remainingBytes === null || bytesPerSecond <= 0) return null;
  return Math.max(0, Math.round(remainingBytes / bytesPerSecond));
}
