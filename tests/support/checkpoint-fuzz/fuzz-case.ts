/** One checkpoint-reader fuzz case: which reader to run on what, and what must come out. */
export type FuzzKind = 'safetensors' | 'torch' | 'pack' | 'tokenizer' | 'config';

export interface FuzzCase {
  id: string;
  kind: FuzzKind;
  /** a file for safetensors / torch / config, the pack folder for pack / tokenizer */
  path: string;
  /** 'refuse': must end in a ModelFileError; 'any': loading correctly is fine too */
  expect: 'refuse' | 'any';
}

/** What the runner reports per case, one JSON line each. */
export interface FuzzResult {
  id: string;
  kind: FuzzKind;
  expect: FuzzCase['expect'];
  outcome: 'loaded' | 'refused' | 'wrong-error';
  ms: number;
  /** the process's peak resident set so far, MB (the kernel's high-water mark) */
  peakRssMb: number;
  errorName?: string;
  message?: string;
  /** the ModelFileError names a file of the case in its message */
  namesFile?: boolean;
}

/** Cases are written by the runner itself, just before they run, so a few hundred never sit on disk at once. */
export interface FuzzCaseSource {
  count: number;
  write(index: number, dir: string): Promise<FuzzCase>;
}
