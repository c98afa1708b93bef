import { parseArgs } from 'node:util';
import { defaultDataDir } from '../core/paths';
import { TandemError } from '../core/errors';
import type { CliCommand, CliContext, OptionSpec, OptionValues } from './command';
import { askCommand } from './commands/ask-command';
import { captionCommand } from './commands/caption-command';
import { chatCommand } from './commands/chat-command';
import { exportCommand } from './commands/export-command';
import { indexCommand } from './commands/index-command';
import { modelsCommand } from './commands/models';
import { matchCommand } from './commands/match-command';
import { searchCommand } from './commands/search-command';
import { showCommand } from './commands/show-command';
import { statusCommand } from './commands/status-command';
import { writeMetadataCommand } from './commands/write-metadata-command';
import { embedCommand } from './commands/embed-command';
import { similarCommand } from './commands/similar-command';
import { terminalText } from './terminal-text';

export const commands: CliCommand[] = [
  indexCommand, searchCommand, showCommand, statusCommand, captionCommand, askCommand, chatCommand, modelsCommand, exportCommand,
  writeMetadataCommand, embedCommand, similarCommand, matchCommand,
];

const globalOptions: Record<string, OptionSpec> = {
  'data-dir': { type: 'string', description: 'library data folder (default: $TANDEM_HOME, else the app’s folder)' },
  json: { type: 'boolean', description: 'machine-readable output' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

function optionHelp(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(28) + o.description)
    .join('\n');
}

export function usage(list: CliCommand[] = commands): string {
  return [
    'Tandem: caption, search and talk about your photo archive, offline.',
    '',
    'Usage: tandem <command> [options]',
    '',
    'Commands:',
    ...list.map((c) => `  ${c.usage.padEnd(40)} ${c.summary}`),
    '',
    'Options for every command:',
    optionHelp(globalOptions),
  ].join('\n');
}

export interface RunOptions {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  stdout?: CliContext['stdout'];
  stderr?: CliContext['stderr'];
  stdin?: NodeJS.ReadableStream;
  signal?: AbortSignal;
  commands?: CliCommand[];
}

/** Runs one CLI invocation and returns its exit code. Errors print their message, never a stack. */
export async function runCli(opts: RunOptions): Promise<number> {
  const list = opts.commands ?? commands;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const [name, ...rest] = opts.argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(`${usage(list)}\n`);
    return name ? 0 : 2;
  }
  const command = list.find((c) => c.name === name);
  if (!command) {
    stderr.write(`Unknown command “${terminalText(name, { oneLine: true })}”.\n\n${usage(list)}\n`);
    return 2;
  }
  const options = { ...globalOptions, ...command.options };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    stderr.write(`${terminalText((err as Error).message)}\n\nUsage: tandem ${command.usage}\n${optionHelp(options)}\n`);
    return 2;
  }
  if (parsed.values['help']) {
    stdout.write(`Usage: tandem ${command.usage}\n\n${command.summary}\n\nOptions:\n${optionHelp(options)}\n`);
    return 0;
  }
  const dataDir = typeof parsed.values['data-dir'] === 'string' ? parsed.values['data-dir'] : defaultDataDir(opts.env ?? process.env);
  const ctx: CliContext = {
    dataDir,
    json: parsed.values['json'] === true,
    stdout,
    stderr,
    stdin: opts.stdin ?? process.stdin,
    signal: opts.signal ?? new AbortController().signal,
  };
  try {
    return await command.run(ctx, parsed.positionals, parsed.values as OptionValues);
  } catch (err) {
    // Messages quote paths, names and engine replies, so they are printed like any other outside text.
    if (err instanceof TandemError) {
      stderr.write(`tandem ${command.name}: ${terminalText(err.message)}\n`);
      return 1;
    }
    stderr.write(`tandem ${command.name}: unexpected error: ${terminalText(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return 1;
  }
}
