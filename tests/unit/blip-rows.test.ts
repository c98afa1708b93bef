import { describe, expect, it } from 'vitest';
import { compactRows, gatherRows } from '../../src/main/core/blip/blip-sessions';

describe('decoder row selection', () => {
  const rows = (n: number, size: number) => Float32Array.from({ length: n * size }, (_, i) => i);

  it('compacts an ordered subset in place, equal to a gathered copy', () => {
    for (const keep of [[0, 1, 2, 3, 4], [1, 3], [0, 2, 4], [4], [2, 3, 4], []]) {
      const expected = gatherRows(rows(5, 3), 3, keep);
      const data = rows(5, 3);
      const out = compactRows(data, 3, keep);
      expect(Array.from(out)).toEqual(Array.from(expected));
      expect(out.buffer).toBe(data.buffer);
    }
  });

  it('works on int64 masks', () => {
    const mask = BigInt64Array.from([1n, 1n, 2n, 2n, 3n, 3n]);
    expect(Array.from(compactRows(mask, 2, [0, 2]))).toEqual([1n, 1n, 3n, 3n]);
  });
});
