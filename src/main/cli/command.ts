import type { Writable } from 'node:stream';

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean; description: string };
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What every command gets: resolved data folder, output streams, and a signal that fires on Ctrl-C. */
export interface CliContext {
  dataDir: string;
  json: boolean;
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  signal: AbortSignal;
}

export interface CliCommand {
  name: string;
  summary: string;
  /** e.g. `index <folder…> [--caption]` */
  usage: string;
  options: Record<string, OptionSpec>;
  run(ctx: CliContext, positionals: string[], values: OptionValues): Promise<number>;
}
