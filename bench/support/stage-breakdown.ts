import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { openPixels, probeImage } from '../../src/main/core/library/image-probe';
import { readPhotoMetadata } from '../../src/main/core/library/photo-metadata';
import { THUMB_EDGE, writeThumbnails } from '../../src/main/core/library/thumbnails';

export const STAGES = ['read', 'sha256', 'probe', 'exif', 'decode+resize', 'thumbnails'] as const;
export type Stage = (typeof STAGES)[number];

export interface StageBreakdown {
  photos: number;
  /** Mean ms per photo for each stage, run one photo at a time. */
  meanMs: Record<Stage, number>;
}

/**
 * Runs the indexer's per-file steps one photo at a time, calling the same core functions, so each
 * stage's cost is visible. `thumbnails` is the whole of writeThumbnails (it decodes again), so
 * encode+write ≈ thumbnails − decode+resize. Files are in the page cache by now, so `read` is memory speed.
 */
export async function stageBreakdown(files: string[], thumbsDir: string): Promise<StageBreakdown> {
  const sums: Record<Stage, number> = { read: 0, sha256: 0, probe: 0, exif: 0, 'decode+resize': 0, thumbnails: 0 };
  let photos = 0;
  for (const file of files) {
    let t = performance.now();
    const lap = (stage: Stage): void => {
      const now = performance.now();
      sums[stage] += now - t;
      t = now;
    };
    const buffer = await readFile(file);
    lap('read');
    const hash = createHash('sha256').update(buffer).digest('hex');
    lap('sha256');
    const probe = await probeImage(buffer, extname(file));
    lap('probe');
    if (probe.status !== 'ok') throw new Error(`${file}: ${probe.reason}`);
    await readPhotoMetadata(buffer);
    lap('exif');
    // Same pipeline as writeThumbnails' first step, to split decoding from encoding.
    await openPixels(probe.source)
      .resize(THUMB_EDGE.large, THUMB_EDGE.large, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer();
    lap('decode+resize');
    await writeThumbnails(thumbsDir, hash, probe.source);
    lap('thumbnails');
    photos++;
  }
  const meanMs = Object.fromEntries(STAGES.map((s) => [s, sums[s] / Math.max(1, photos)])) as Record<Stage, number>;
  return { photos, meanMs };
}
