import type { PhotoSummary } from '../../shared/api';
import type { CliContext } from './command';
import { terminalText } from './terminal-text';

/** `--json` output: exact text, escaped by JSON itself. */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One JSON value per line (NDJSON), for output a script reads as it arrives. */
export function printJsonLine(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A line for a person on stdout; anything that could drive the terminal is neutralised (terminal-text.ts). */
export function line(ctx: CliContext, text = ''): void {
  ctx.stdout.write(`${terminalText(text)}\n`);
}

/** A line for a person on stderr (notes, warnings, errors). */
export function errLine(ctx: Pick<CliContext, 'stderr'>, text = ''): void {
  ctx.stderr.write(`${terminalText(text)}\n`);
}

/** Text without a line end on stdout, e.g. an answer streaming in token by token. */
export function write(ctx: CliContext, text: string): void {
  ctx.stdout.write(terminalText(text));
}

/** One photo per line, whatever its caption or name holds. */
export function photoLine(p: PhotoSummary): string {
  const status = p.status === 'ok' ? '' : ` [${p.status}${p.statusReason ? `: ${p.statusReason}` : ''}]`;
  const caption = p.caption ? `  “${p.caption}”` : '';
  return terminalText(`${String(p.id).padStart(6)}  ${p.path}${status}${caption}`, { oneLine: true });
}
