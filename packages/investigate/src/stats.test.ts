import { describe, expect, it } from 'vitest';
import { detectShifts } from './stats.js';

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
