import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertInside, isInside, isSameOrInside } from '../../src/main/core/path-inside';

describe('isInside (the one containment check of the core)', () => {
  it('posix: children are inside; the folder itself, its parent and siblings are not', () => {
    const p = path.posix;
    expect(isInside('/data/models', '/data/models/blip-base', p)).toBe(true);
    expect(isInside('/data/models', '/data/models/.staging/x.lock', p)).toBe(true);
    expect(isInside('/data/models', '/data/models', p)).toBe(false);
    expect(isInside('/data/models', '/data', p)).toBe(false);
    expect(isInside('/data/models', '/data/models-old/x', p)).toBe(false);
    expect(isInside('/data/models', '/data/models/../../victim/Gemfile.lock', p)).toBe(false);
    // A name that only starts with dots is a child, not a way up.
    expect(isInside('/photos', '/photos/..holiday', p)).toBe(true);
    expect(isSameOrInside('/photos', '/photos', p)).toBe(true);
    expect(isSameOrInside('/photos', '/elsewhere', p)).toBe(false);
  });

  it('win32: another drive or a UNC share is outside, though relative() gives no ".."', () => {
    const w = path.win32;
    // The bug: relative('C:\\lib', 'D:\\x') is 'D:\\x', which starts with neither '..' nor '\\'.
    expect(w.relative('C:\\Users\\me\\Pictures', 'D:\\secret\\a.jpg')).toBe('D:\\secret\\a.jpg');
    expect(isInside('C:\\Users\\me\\Pictures', 'D:\\secret\\a.jpg', w)).toBe(false);
    expect(isInside('C:\\Users\\me\\Pictures', '\\\\server\\share\\a.jpg', w)).toBe(false);
    expect(isSameOrInside('C:\\Users\\me\\Pictures', 'D:\\Users\\me\\Pictures', w)).toBe(false);
    expect(isInside('C:\\Users\\me\\Pictures', 'C:\\Users\\me\\Pictures\\2024\\a.jpg', w)).toBe(true);
    expect(isInside('C:\\Users\\me\\Pictures', 'c:\\users\\me\\pictures\\a.jpg', w)).toBe(true);
    expect(isInside('C:\\Users\\me\\Pictures', 'C:\\Users\\me\\Pictures\\..\\Documents', w)).toBe(false);
    expect(isInside('C:\\Users\\me\\Pictures', 'C:\\Users\\me', w)).toBe(false);
  });

  it('assertInside resolves, then returns the path or throws a readable unsafe_path error', () => {
    expect(assertInside('/data/models', 'blip-base', 'the pack', path.posix)).toBe('/data/models/blip-base');
    expect(() => assertInside('/data/models/.staging', '../../../victim/Gemfile.lock', 'the lock', path.posix)).toThrow(
      /Refusing to use the lock at \/victim\/Gemfile.lock: it is not inside \/data\/models\/.staging/,
    );
    expect(() => assertInside('/data/models', '/etc', 'the pack', path.posix)).toThrow(expect.objectContaining({ code: 'unsafe_path' }));
    expect(() => assertInside('/data/models', '.', 'the pack', path.posix)).toThrow(expect.objectContaining({ code: 'unsafe_path' }));
    expect(() => assertInside('C:\\data\\models', 'D:\\x', 'the pack', path.win32)).toThrow(expect.objectContaining({ code: 'unsafe_path' }));
  });
});
