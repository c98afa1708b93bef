import type { JobProgress } from '../../../shared/api';
import type { CliContext } from '../command';
import { errLine } from '../output';
import { bar, formatDuration, ProgressLine } from '../progress-line';

/** Renders captioning progress as one live line: bar, count, photos/s, ETA, failures, current photo. */
export function captionProgressPrinter(ctx: CliContext): { onProgress: (p: JobProgress) => void; done: () => void } {
  const progress = new ProgressLine(ctx.stderr);
  return {
    onProgress: (p) => {
      if (ctx.json) return;
      if (p.state === 'loading') return progress.update(`Loading ${p.model}…`, true);
      const finished = p.done + p.failed;
      const name = p.currentPath ? `  ${p.currentPath.split(/[\\/]/).pop()}` : '';
      progress.update(
        `${bar(finished, p.total)} ${finished}/${p.total}  ${p.photosPerSec.toFixed(2)} photos/s  ETA ${formatDuration(p.etaSec)}  failed ${p.failed}` +
          `${p.state === 'paused' || p.state === 'pausing' ? '  (stopping)' : ''}${name}`,
      );
      if (p.message) {
        ctx.stderr.write('\n');
        errLine(ctx, p.message);
      }
    },
    done: () => progress.done(),
  };
}
