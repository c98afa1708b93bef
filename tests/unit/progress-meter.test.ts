import { describe, expect, it } from 'vitest';
import { ProgressMeter } from '../../src/main/core/progress-meter';

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('ProgressMeter', () => {
  it('reads items finishing in bursts as their true rate, not as the gap inside a burst', () => {
    const c = clock();
    const m = new ProgressMeter(c.now);
    m.start();
    const rates: number[] = [];
    // Three workers finish together every 600 ms: 5 items/s.
    for (let i = 0; i < 40; i++) {
      c.advance(600);
      m.tick();
      c.advance(1);
      m.tick();
      m.tick();
      rates.push(m.rate());
    }
    for (const r of rates.slice(5)) expect(r).toBeGreaterThan(4);
    for (const r of rates.slice(5)) expect(r).toBeLessThan(6);
    expect(m.eta(50)).toBeGreaterThan(8);
    expect(m.eta(50)).toBeLessThan(12.5);
  });

  it('follows a change of speed within the window, and a stall lowers the rate', () => {
    const c = clock();
    const m = new ProgressMeter(c.now, 10_000);
    m.start();
    // 10/s for 10 s, then 1/s for 30 s.
    for (let i = 0; i < 100; i++) {
      c.advance(100);
      m.tick();
    }
    for (let i = 0; i < 30; i++) {
      c.advance(1000);
      m.tick();
    }
    // Overall 130 items / 40 s = 3.25/s; the last 10 s ran at 1/s: blended ≈ 2.1.
    expect(m.rate()).toBeGreaterThan(1.8);
    expect(m.rate()).toBeLessThan(2.5);
    const before = m.rate();
    c.advance(20_000);
    expect(m.rate()).toBeLessThan(before / 1.5);
  });

  it('is 0 before the first item and has no ETA until it knows a rate', () => {
    const c = clock();
    const m = new ProgressMeter(c.now);
    m.start();
    expect(m.rate()).toBe(0);
    expect(m.eta(10)).toBeNull();
    expect(m.eta(0)).toBe(0);
  });
});
