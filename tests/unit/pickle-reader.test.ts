/** The pickle interpreter on its own: integer decoding, lengths that would move it backwards, big item counts. */
import { describe, expect, it } from 'vitest';
import { MAX_LONG_BYTES, PickleError, PickleList, unpickle, type PickleHost } from '../../src/main/core/weights/pickle-reader';
import { PickleWriter } from '../../src/main/core/weights/pickle-writer';

const host: PickleHost = {
  checkGlobal() {},
  call() {
    return null;
  },
  persistentLoad() {
    return null;
  },
};

const run = (...bytes: Array<number | number[]>): unknown => unpickle(Uint8Array.from(bytes.flat()), host);

describe('unpickle', () => {
  it('decodes LONG1 as CPython writes it: little-endian two’s complement, bigint past 2^53', () => {
    expect(run(0x80, 2, 0x8a, 0, 0x2e)).toBe(0);
    expect(run(0x80, 2, 0x8a, 1, 0xff, 0x2e)).toBe(-1);
    expect(run(0x80, 2, 0x8a, 2, 0x80, 0x00, 0x2e)).toBe(128);
    expect(run(0x80, 2, 0x8a, 2, 0x00, 0x80, 0x2e)).toBe(-32768);
    expect(run(0x80, 2, 0x8a, 8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 0x2e)).toBe(2n ** 63n - 1n);
    expect(run(0x80, 2, 0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0x80, 0xff], 0x2e)).toBe(-(2n ** 63n));
    // What PickleWriter emits for sizes past 32 bits reads back exactly.
    for (const n of [2 ** 40 + 3, -(2 ** 45) - 7, Number.MAX_SAFE_INTEGER]) {
      const w = new PickleWriter();
      w.int(n);
      expect(unpickle(w.finish(), host)).toBe(n);
    }
  });

  it(`refuses integers longer than ${MAX_LONG_BYTES} bytes before decoding them`, () => {
    const long4 = new Uint8Array(8 + (1 << 20)).fill(1);
    long4.set([0x80, 2, 0x8b, 0x00, 0x00, 0x10, 0x00]);
    long4[long4.length - 1] = 0x2e;
    const t0 = performance.now();
    expect(() => unpickle(long4, host)).toThrow(/1048576-byte integer/);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('refuses a negative BINSTRING length instead of looping on the same bytes forever', () => {
    expect(() => run(0x80, 2, 0x54, [0xfb, 0xff, 0xff, 0xff], 0x2e)).toThrow(PickleError);
    expect(() => run(0x80, 2, 0x54, [0xfb, 0xff, 0xff, 0xff], 0x2e)).toThrow(/negative or invalid length \(-5\)/);
  });

  it('appends a million items without overflowing the stack', () => {
    const pkl = new Uint8Array(1_000_006).fill(0x4e);
    pkl.set([0x80, 2, 0x5d, 0x28]);
    pkl.set([0x65, 0x2e], pkl.length - 2);
    const out = unpickle(pkl, host);
    expect(out).toBeInstanceOf(PickleList);
    expect((out as PickleList).items).toHaveLength(1_000_000);
  });
});
