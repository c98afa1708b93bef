import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walkPhotos } from '../../src/main/core/library/file-walker';
import { tempDir } from '../support/temp-dirs';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function layout(): { root: string; outside: string } {
  const t = tempDir();
  cleanup = t.cleanup;
  const root = join(t.dir, 'lib');
  const outside = join(t.dir, 'outside');
  for (const d of ['a/b', '.hidden', '@eaDir', 'System Volume Information', 'node_modules/x']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(outside);
  for (const f of ['top.jpg', 'a/one.JPG', 'a/b/two.heic', 'a/notes.txt', '.hidden/secret.jpg', '@eaDir/thumb.jpg', 'System Volume Information/x.png', 'node_modules/x/logo.png', 'a/.dotfile.jpg']) {
    writeFileSync(join(root, f), 'x');
  }
  writeFileSync(join(outside, 'elsewhere.jpg'), 'x');
  return { root, outside };
}

describe('walkPhotos', () => {
  it('finds photos recursively and skips hidden and system folders and non-photo files', async () => {
    const { root } = layout();
    const files = await walkPhotos(root);
    expect(files.map((f) => f.relPath)).toEqual(['a/b/two.heic', 'a/one.JPG', 'top.jpg']);
    expect(files[0]!.size).toBe(1);
  });

  it('never follows a symlink out of the root or into a loop', async () => {
    const { root, outside } = layout();
    symlinkSync(outside, join(root, 'a', 'link-out'));
    symlinkSync(root, join(root, 'a', 'b', 'loop-to-root'));
    symlinkSync(join(root, 'a'), join(root, 'loop-to-a'));
    symlinkSync(join(root, 'nowhere'), join(root, 'dangling.jpg'));
    const files = await walkPhotos(root);
    const rels = files.map((f) => f.relPath);
    expect(rels.some((r) => r.includes('elsewhere'))).toBe(false);
    // Each real folder is walked once, so every photo appears once.
    expect(rels.filter((r) => r.endsWith('two.heic'))).toHaveLength(1);
    expect(rels.filter((r) => r.endsWith('one.JPG'))).toHaveLength(1);
    expect(rels).not.toContain('dangling.jpg');
  });

  it('reports photos and folders whose names are not valid UTF-8 instead of skipping them silently', async () => {
    const { root } = layout();
    const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
    writeFileSync(bytes(root, '/a/bad', [0xff], '.jpg'), 'x');
    writeFileSync(bytes(root, '/a/latin1-caf', [0xe9], '.txt'), 'x'); // not a photo: not reported
    mkdirSync(bytes(root, '/f', [0xfe, 0x41]));
    writeFileSync(bytes(root, '/f', [0xfe, 0x41], '/inside.png'), 'x');
    // A valid name may hold U+FFFD itself: that one is an ordinary photo.
    writeFileSync(join(root, 'a', 'real\uFFFD.jpg'), 'x');
    const invalid: string[] = [];
    const files = await walkPhotos(root, undefined, (rel) => invalid.push(rel));
    expect(invalid.sort()).toEqual(['a/bad\\xff.jpg', 'f\\xfeA/']);
    expect(files.map((f) => f.relPath)).toEqual(['a/b/two.heic', 'a/one.JPG', 'a/real\uFFFD.jpg', 'top.jpg']);
  });
});
