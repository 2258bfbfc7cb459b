import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { detectExcursions, detectShifts, median } from './stats.js';

// A small seeded generator so that the noise is the same on every run.
function noise(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648 - 0.5;
  };
}

describe('detectShifts', () => {
  it('finds a step where it happens, with its levels', () => {
    const r = noise(1);
    const xs = Array.from({ length: 160 }, (_, i) => (i < 72 ? 2 : 6));
    const [s, ...rest] = detectShifts(xs);
    expect(rest).toEqual([]);
    expect(s?.onset).toBe(72);
    expect(s?.before).toBe(2);
    expect(s?.after).toBe(6);
    expect(s?.direction).toBe('up');
    const noisy = xs.map((v) => v * 10 + r() * 4);
    expect(detectShifts(noisy)[0]?.onset).toBe(72);
  });

  it('reports nothing on noise alone', () => {
    const r = noise(2);
    for (let k = 0; k < 20; k++) {
      const xs = Array.from({ length: 180 }, () => 100 + r() * 20);
      expect(detectShifts(xs)).toEqual([]);
    }
  });

  it('does not call a steady trend a change', () => {
    const r = noise(3);
    const xs = Array.from({ length: 180 }, (_, i) => 1000 + i * 10 + r() * 5);
    expect(detectShifts(xs)).toEqual([]);
  });

  it('dates a ramp from a flat baseline to where it leaves the baseline', () => {
    const xs = Array.from({ length: 160 }, (_, i) => (i < 80 ? 0 : (i - 80) * 0.5));
    const [s] = detectShifts(xs);
    expect(s).toBeDefined();
    expect(s?.onset).toBeGreaterThanOrEqual(80);
    expect(s?.onset).toBeLessThanOrEqual(84);
  });

  it('ignores a lone spike and skips missing samples', () => {
    const xs: number[] = Array.from({ length: 120 }, () => 5);
    xs[60] = 500;
    xs[10] = Number.NaN;
    expect(detectShifts(xs)).toEqual([]);
  });
});

describe('detectExcursions', () => {
  it('finds a rise of a few samples far beyond the series own range, where detectShifts sees none', () => {
    // Nezha's CPU contention on one pod (CpuUsageRate %, one sample a minute, 2023-01-29 14:49).
    const cpu = [
      0.65, 0.65, 1.04, 1.65, 0.94, 0.6, 1.03, 0.94, 1.08, 0.75, 1.21, 99.93, 99.89, 85.5, 0.73, 0.43, 1.1,
    ];
    expect(detectShifts(cpu)).toEqual([]);
    const [ex, ...rest] = detectExcursions(cpu);
    expect(rest).toEqual([]);
    expect(ex?.onset).toBe(11);
    expect(ex?.strength).toBeGreaterThan(0.9);
  });

  it('stays quiet on noise, on a lone spike and on a baseline with no spread', () => {
    const r = noise(5);
    expect(detectExcursions(Array.from({ length: 120 }, () => 50 + r() * 10))).toEqual([]);
    expect(detectExcursions([1, 2, 1, 2, 1, 2, 1, 2, 90, 1, 2, 1])).toEqual([]);
    expect(detectExcursions([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])).toEqual([]);
  });

  it('reads 200,000 samples (a spread of them as arguments overflowed the stack)', () => {
    const r = noise(7);
    const xs = Array.from({ length: 200_000 }, (_, i) => (i >= 199_990 ? 500 : 50 + r() * 10));
    const [ex] = detectExcursions(xs);
    expect(ex?.onset).toBe(199_990);
    // A rising series makes every sample a new maximum: still linear-logarithmic, not quadratic.
    expect(detectExcursions(Array.from({ length: 200_000 }, (_, i) => i))).toEqual([]);
  });

  it('finds what the baseline recomputed from scratch at each step finds', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 60 }), (xs) => {
        expect(detectExcursions(xs)).toEqual(naiveExcursions(xs));
      }),
      { seed: 16, numRuns: 300 },
    );
  });
});

/** detectExcursions as first written: the baseline's median and maximum recomputed at each step. */
function naiveExcursions(xs: number[]): ReturnType<typeof detectExcursions> {
  for (let k = 6; k + 2 <= xs.length; k++) {
    const base = xs.slice(0, k);
    const p50 = median(base);
    const upper = base.reduce((a, b) => Math.max(a, b));
    const level = Math.min(xs[k]!, xs[k + 1]!);
    if (!(xs[k]! > upper) || !(upper > p50)) continue;
    const level0 = Math.max(Math.abs(p50), Math.abs(level), 1e-12);
    const range = Math.max(upper - p50, 0.05 * Math.abs(p50), 1e-9);
    const excess = (level - p50) / range;
    const relative = (level - p50) / level0;
    if (excess < 5 || relative < 0.5) continue;
    const strength = (1 - Math.exp(-excess / 10)) * Math.min(1, relative / 0.8);
    return [{ onset: k, end: k + 2, baseline: p50, upper, level, excess, strength }];
  }
  return [];
}
