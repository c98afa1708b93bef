/**
 * Seeded randomness, so a cached photo library or a synthetic database is the same on every run
 * and numbers stay comparable between machines and commits.
 */
export type Rng = () => number;

/** mulberry32: tiny, fast, good enough for test data (not for anything secret). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rng: Rng, min: number, maxInclusive: number): number {
  return min + Math.floor(rng() * (maxInclusive - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

/**
 * Picks with a Zipf-like bias towards the start of the list. Caption vocabularies are heavily skewed
 * ("a man", "a dog" far more than "a giraffe"), and posting-list sizes are what search cost depends on.
 */
export function zipfPicker<T>(items: readonly T[], exponent = 1): (rng: Rng) => T {
  const cumulative: number[] = [];
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    sum += 1 / Math.pow(i + 1, exponent);
    cumulative.push(sum);
  }
  return (rng) => {
    const x = rng() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}
