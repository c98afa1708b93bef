import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PreviewCache } from '../../src/main/core/library/preview-cache';
import { thumbPath } from '../../src/main/core/library/thumbnails';
import { tempDir } from '../support/temp-dirs';

let tmp: { dir: string; cleanup: () => void } | null = null;
afterEach(() => tmp?.cleanup());

function put(dir: string, hash: string, bytes: number, ageSec: number): string {
  const file = thumbPath(dir, hash, 'large');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, Buffer.alloc(bytes));
  const t = new Date(Date.now() - ageSec * 1000);
  utimesSync(file, t, t);
  return file;
}

describe('PreviewCache', () => {
  it('keeps the previews under the limit, removing the least recently viewed first', async () => {
    tmp = tempDir();
    const dir = tmp.dir;
    const small = thumbPath(dir, 'aa01', 'small');
    mkdirSync(join(small, '..'), { recursive: true });
    writeFileSync(small, Buffer.alloc(500)); // thumbnails are never swept
    const a = put(dir, 'aa01', 100, 300);
    const b = put(dir, 'bb02', 100, 200);
    const c = put(dir, 'cc03', 100, 100);
    let limit = 1000;
    const cache = new PreviewCache(dir, () => limit);
    await cache.touch('aa01', a); // a was viewed again: now the most recent
    expect(cache.bytes).toBe(300);

    limit = 250;
    const d = put(dir, 'dd04', 100, 0);
    await cache.add('dd04', d, 100);
    // 400 bytes over a 250 limit: b then c go (a was touched, d was just made).
    expect([a, b, c, d].map(existsSync)).toEqual([true, false, false, true]);
    expect(cache.bytes).toBe(200);
    expect(existsSync(small)).toBe(true);

    // Recency survives a restart through the files' mtimes.
    limit = 100;
    const again = new PreviewCache(dir, () => limit);
    await again.touch('dd04', d);
    expect(await again.sweep()).toBe(1);
    expect([a, d].map(existsSync)).toEqual([false, true]);
  });

  it('never removes the preview it was just given, even over the limit', async () => {
    tmp = tempDir();
    const cache = new PreviewCache(tmp.dir, () => 10);
    const e = put(tmp.dir, 'ee05', 100, 0);
    await cache.add('ee05', e, 100);
    expect(existsSync(e)).toBe(true);
  });
});
