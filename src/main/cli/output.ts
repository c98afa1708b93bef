import type { PhotoSummary } from '../../shared/api';
import type { CliContext } from './command';

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function line(ctx: CliContext, text = ''): void {
  ctx.stdout.write(`${text}\n`);
}

export function photoLine(p: PhotoSummary): string {
  const status = p.status === 'ok' ? '' : ` [${p.status}${p.statusReason ? `: ${p.statusReason}` : ''}]`;
  const caption = p.caption ? `  “${p.caption}”` : '';
  return `${String(p.id).padStart(6)}  ${p.path}${status}${caption}`;
}
