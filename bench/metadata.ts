/**
 * `npm run bench -- metadata [--photos 1000] [--keep]`
 *
 * Metadata write-back (issue 12) on a generated library of camera-sized JPEGs (4000×3000, quality 90, EXIF):
 * every photo gets a model caption and three keywords, then the core writes them out three times:
 *  1. XMP sidecars (the default): ExifTool creates `<photo>.xmp` beside each photo;
 *  2. embedded (the per-folder opt-in): re-hash, ExifTool rewrites a copy, fsync, rename over the photo;
 *  3. again with nothing changed: the ledger skips every photo.
 * Photos are registered straight into the database (the scan is bench/index.ts's business), with their real
 * content hash, so the embedded run's "changed since the scan" check passes. The library folder holds hard links
 * into the cached pool; an embedded write renames a new file over the link, so the pool stays as generated.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, realpath, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore, type Core } from '../src/main/core/core';
import type { MetadataWriteProgress } from '../src/shared/api';
import { parseArgs } from './support/args';
import { fmtBytes, fmtDuration, StatusLine } from './support/format';
import { ensurePhotoPool, libraryFolder } from './support/photo-library';

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

async function timedWrite(core: Core, label: string, embed: boolean): Promise<{ result: MetadataWriteProgress; sec: number; loadBefore: string; loadAfter: string }> {
  const status = new StatusLine();
  const loadBefore = load();
  const t0 = performance.now();
  const result = await core.metadata.write({ kind: 'all' }, {
    embed,
    onProgress: (p) => status.update(`${label}: ${p.done}/${p.total}  ${p.photosPerSec.toFixed(1)}/s  written ${p.written}  skipped ${p.skipped}  failed ${p.failed}`),
  });
  const sec = (performance.now() - t0) / 1000;
  status.done(`${label}: ${result.done} photos in ${fmtDuration(sec)}`);
  return { result, sec, loadBefore, loadAfter: load() };
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const count = args.number('photos', 1000);
  console.log(`metadata bench: ${count} photos, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load()}`);
  await ensurePhotoPool(count);
  const lib = await libraryFolder(count);
  const root = await realpath(lib.dir);
  const dataDir = await mkdtemp(join(tmpdir(), 'tandem-bench-metadata-'));
  const core = openCore({ dataDir });
  try {
    // Register the photos as a scan would (real hashes), without decoding them.
    const t0 = performance.now();
    const rootId = Number(core.db.prepare("INSERT INTO roots (path, added_at) VALUES (?, 'bench')").run(root).lastInsertRowid);
    const insert = core.db.prepare(
      `INSERT INTO photos (root_id, rel_path, file_name, folder, hash, size, mtime_ms, format, status, first_seen_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'jpeg', 'ok', 'bench', 'bench')`,
    );
    for (const s of lib.specs) {
      const file = join(root, s.relPath);
      const st = await stat(file);
      const slash = s.relPath.lastIndexOf('/');
      const id = Number(
        insert.run(rootId, s.relPath, s.relPath.slice(slash + 1), slash < 0 ? '' : s.relPath.slice(0, slash), await sha256(file), st.size, st.mtimeMs).lastInsertRowid,
      );
      core.captions.add(id, 'model:blip-base', `a photo taken with a ${s.make} ${s.model}, number ${s.index}`);
      for (const k of ['bench', s.make, `Cameras|${s.make}|${s.model}`]) core.keywords.add(id, k, 'user');
    }
    console.log(`registered ${count} photos (${fmtBytes(lib.bytes)}, hashes included) in ${fmtDuration((performance.now() - t0) / 1000)}`);

    const sidecar = await timedWrite(core, 'sidecar', false);
    const embedded = await timedWrite(core, 'embedded', true);
    const again = await timedWrite(core, 'unchanged', true);

    const rows = [
      ['sidecar (photo.jpg.xmp)', sidecar],
      ['embedded (rewrite + rename)', embedded],
      ['re-run, nothing changed', again],
    ] as const;
    console.log('');
    console.log('| run | photos | written | skipped | failed | wall | photos/s | load avg before | load avg after |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const [label, r] of rows) {
      console.log(
        `| ${label} | ${r.result.done} | ${r.result.written} | ${r.result.skipped} | ${r.result.failed} | ${fmtDuration(r.sec)} | ${(r.result.done / r.sec).toFixed(1)} | ${r.loadBefore} | ${r.loadAfter} |`,
      );
    }
    const sidecars = (await readdir(root, { recursive: true })).filter((n) => String(n).endsWith('.xmp')).length;
    console.log(`\n${sidecars} sidecars on disk; ExifTool ${core.metadata.exiftoolPids.length} process(es); final load average ${load()}`);
  } finally {
    await core.close();
    await rm(dataDir, { recursive: true, force: true });
    if (!args.flag('keep')) await rm(lib.dir, { recursive: true, force: true });
  }
}
