import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { LibraryIndexer } from '../../src/main/core/library/library-indexer';
import { readPhotoMetadata } from '../../src/main/core/library/photo-metadata';
import { PhotoStore } from '../../src/main/core/library/photo-store';
import { THUMB_EDGE } from '../../src/main/core/library/thumbnails';
import { openDatabase } from '../../src/main/core/store/database';

export interface LoopRun {
  label: string;
  photos: number;
  wallMs: number;
  load: number;
}

/**
 * The floor issue 14 measures the indexer against: per photo, read the file, hash it, read its metadata
 * (the core's own EXIF reader) and write the grid's small WebP (same size, quality and effort as the
 * indexer), `concurrency` photos in flight. No database, no walk, no diff, no probe.
 */
export async function bareLoop(files: string[], outDir: string, concurrency: number): Promise<LoopRun> {
  return timedLoop('bare loop', files, outDir, concurrency, async (buffer, hash) => {
    const webp = await sharp(buffer, { failOn: 'error' })
      .rotate()
      .resize(THUMB_EDGE.small, THUMB_EDGE.small, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .webp({ quality: 78, effort: 2 })
      .toBuffer();
    await writeFile(join(outDir, `${hash}-s.webp`), webp);
  });
}

/**
 * What indexing did before issue 14, as a bare loop: the same read, hash and EXIF, then the 1280 px preview
 * and the 320 px thumbnail made from its pixels (both WebP, effort 2). Printed for the before/after ratio.
 */
export async function bareLoopBothRenditions(files: string[], outDir: string, concurrency: number): Promise<LoopRun> {
  return timedLoop('bare loop, both renditions (before)', files, outDir, concurrency, async (buffer, hash) => {
    const large = await sharp(buffer, { failOn: 'error' })
      .rotate()
      .resize(THUMB_EDGE.large, THUMB_EDGE.large, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: large.info.width, height: large.info.height, channels: large.info.channels as 3 } };
    const [l, s] = await Promise.all([
      sharp(large.data, raw).webp({ quality: 82, effort: 2 }).toBuffer(),
      sharp(large.data, raw).resize(THUMB_EDGE.small, THUMB_EDGE.small, { fit: 'inside' }).webp({ quality: 78, effort: 2 }).toBuffer(),
    ]);
    await writeFile(join(outDir, `${hash}-l.webp`), l);
    await writeFile(join(outDir, `${hash}-s.webp`), s);
  });
}

/** Per photo: read, sha256 and the core's EXIF reader, then `thumbnails`; `concurrency` photos in flight. */
async function timedLoop(
  label: string,
  files: string[],
  outDir: string,
  concurrency: number,
  thumbnails: (buffer: Buffer, hash: string) => Promise<void>,
): Promise<LoopRun> {
  await mkdir(outDir, { recursive: true });
  const load = loadavg()[0]!;
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const buffer = await readFile(files[next++]!);
      const hash = createHash('sha256').update(buffer).digest('hex');
      await readPhotoMetadata(buffer);
      await thumbnails(buffer, hash);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { label, photos: files.length, wallMs: performance.now() - t0, load };
}

/** The indexer on the same folder, fresh database and thumbnail folder, same concurrency. */
export async function indexerRun(dir: string, workDir: string, concurrency: number): Promise<LoopRun> {
  const db = openDatabase(join(workDir, 'tandem.db'));
  try {
    const root = new PhotoStore(db).insertRoot(dir);
    const indexer = new LibraryIndexer({ db, thumbsDir: join(workDir, 'thumbs'), concurrency });
    const load = loadavg()[0]!;
    const t0 = performance.now();
    const counts = await indexer.scan([root]);
    return { label: 'Tandem indexer', photos: counts.seen, wallMs: performance.now() - t0, load };
  } finally {
    db.close();
  }
}
