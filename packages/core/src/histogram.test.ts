import { describe, expect, it } from 'vitest';
import { histogramQuantiles, type Series } from './index.js';

const t0 = Date.parse('2026-03-02T10:00:00Z');

/** Cumulative bucket counters for `perStep` requests each 5 s, spread over bounds as `share` says. */
function histogram(steps: number, perStep: (i: number) => Partial<Record<string, number>>): Series[] {
  const bounds = ['0.1', '0.5', '1', '+Inf'];
  const totals = new Map(bounds.map((b) => [b, 0]));
  const points = new Map<string, Array<[number, number]>>(bounds.map((b) => [b, []]));
  for (let i = 0; i < steps; i++) {
    const counts = perStep(i);
    let cumulative = 0;
    for (const b of bounds) {
      cumulative += counts[b] ?? 0;
      totals.set(b, (totals.get(b) ?? 0) + cumulative);
      points.get(b)?.push([t0 + i * 5000, totals.get(b) ?? 0]);
    }
  }
  return bounds.map((le) => ({
    name: 'http_request_duration_seconds_bucket',
    labels: { pod: 'shop-1', route: '/pay', le },
    kind: 'counter',
    unit: 'seconds',
    points: points.get(le) ?? [],
  }));
}

describe('histogramQuantiles', () => {
  it('interpolates inside the bucket the quantile falls in, over the last four samples', () => {
    // Every 5 s: 10 requests under 0.1 s, 10 between 0.1 and 0.5 s.
    const out = histogramQuantiles(histogram(6, () => ({ '0.1': 10, '0.5': 10 })));
    const p50 = out.find((s) => s.labels['quantile'] === '0.5');
    const p95 = out.find((s) => s.labels['quantile'] === '0.95');
    expect(p50?.name).toBe('http_request_duration_seconds');
    expect(p50?.labels).toEqual({ pod: 'shop-1', route: '/pay', quantile: '0.5' });
    expect(p50?.points.map(([, v]) => v)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1]);
    // 95% of 20 = 19: 9 of the 10 in (0.1, 0.5] -> 0.1 + 0.4 * 9/10.
    for (const [, v] of p95?.points ?? []) expect(v).toBeCloseTo(0.46, 10);
  });

  it('follows a slowdown, answers the highest finite bound past it, and nothing without requests', () => {
    const out = histogramQuantiles(histogram(12, (i) => (i < 4 ? { '0.1': 4 } : i < 8 ? {} : { '+Inf': 4 })));
    const p50 = out.find((s) => s.labels['quantile'] === '0.5')?.points ?? [];
    const at = (i: number) => p50.find(([t]) => t === t0 + i * 5000)?.[1];
    expect(at(3)).toBeCloseTo(0.05, 10);
    expect(at(8)).toBe(1);
    // Four samples after the last fast request, nothing was counted: no value.
    expect(at(7)).toBeUndefined();
  });

  it('leaves out a histogram without a +Inf bucket, and other series', () => {
    const buckets = histogram(3, () => ({ '0.1': 1 })).filter((s) => s.labels['le'] !== '+Inf');
    const gauge: Series = { name: 'up', labels: {}, kind: 'gauge', points: [[t0, 1]] };
    expect(histogramQuantiles([...buckets, gauge])).toEqual([]);
  });
});
