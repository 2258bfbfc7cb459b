// Prometheus histograms read as what they measure. A histogram is recorded as one cumulative counter
// per bucket (`X_bucket{le="0.1"}`), plus `X_count` and `X_sum`; each bucket's rate on its own is a
// count of requests faster than its bound, not a latency. Analysed one by one they made a "duration"
// signal per bucket per route per pod (852 in one lab bundle), and a new pod's readiness probes
// starting read as a user-facing anomaly. This module derives the quantile a reader would query,
// `X{quantile="0.95"}`, as `histogram_quantile(0.95, rate(X_bucket[4 samples]))` does: linear
// interpolation inside the bucket the quantile falls in, the highest finite bound when it falls in
// +Inf, no value where nothing was counted. Plain data in and out, no Node imports.
import type { Series } from './bundle/schema.js';
import { seriesKey } from './identity.js';

/** The quantiles derived for each histogram. */
export const HISTOGRAM_QUANTILES = [0.5, 0.95] as const;

// Samples a rate is taken over: Prometheus' guidance is a range of at least four scrape intervals,
// so that one missed scrape does not empty it.
const RATE_SAMPLES = 4;

/** True for a bucket series of a Prometheus histogram (`*_bucket` with an `le` label). */
export function isHistogramBucket(s: Pick<Series, 'name' | 'labels'>): boolean {
  return s.name.endsWith('_bucket') && s.labels['le'] !== undefined;
}

/**
 * The quantile series of every histogram among `series` (gauges named after the histogram, a
 * `quantile` label added, the bucket series' other labels kept), one per quantile in
 * {@link HISTOGRAM_QUANTILES}. Buckets are grouped by their labels but `le`; a group whose bounds do
 * not parse, or without a +Inf bucket, is left out.
 */
export function histogramQuantiles(series: readonly Series[]): Series[] {
  const groups = new Map<string, Series[]>();
  for (const s of series) {
    if (!isHistogramBucket(s)) continue;
    const { le: _le, ...rest } = s.labels;
    const key = seriesKey(s.name, rest) + (s.labels['source'] ?? '');
    const g = groups.get(key);
    if (g) g.push(s);
    else groups.set(key, [s]);
  }
  const out: Series[] = [];
  for (const group of groups.values()) {
    const buckets = group
      .map((s) => ({ le: Number(s.labels['le'] === '+Inf' ? Infinity : s.labels['le']), points: s.points }))
      .filter((b) => !Number.isNaN(b.le))
      .sort((a, b) => a.le - b.le);
    if (buckets.length !== group.length || buckets.at(-1)?.le !== Infinity || buckets.length < 2) continue;
    const increases = bucketIncreases(buckets.map((b) => b.points));
    const first = group[0] as Series;
    const { le: _le, ...labels } = first.labels;
    const name = first.name.slice(0, -'_bucket'.length);
    for (const q of HISTOGRAM_QUANTILES) {
      const points: Array<[number, number]> = [];
      for (const [t, counts] of increases) {
        const v = quantileOf(
          q,
          buckets.map((b) => b.le),
          counts,
        );
        if (v !== undefined) points.push([t, v]);
      }
      out.push({
        name,
        labels: { ...labels, quantile: String(q) },
        kind: 'gauge',
        ...(first.unit ? { unit: first.unit } : {}),
        points,
      });
    }
  }
  return out;
}

/**
 * Per sample time (the times of the +Inf bucket), each bucket's increase over the last
 * {@link RATE_SAMPLES} samples; a value that went down is a reset (the counter restarted from it).
 */
function bucketIncreases(
  points: ReadonlyArray<ReadonlyArray<readonly [number, number]>>,
): Array<[number, number[]]> {
  const byTime = points.map((p) => new Map(p.map(([t, v]) => [t, v])));
  const times = [...((points.at(-1) ?? []) as ReadonlyArray<readonly [number, number]>)]
    .map(([t]) => t)
    .sort((a, b) => a - b);
  // Each bucket's running sum of increases, so a range's increase is a difference.
  const running = byTime.map((m) => {
    const sums: number[] = [];
    let sum = 0;
    let prev: number | undefined;
    for (const t of times) {
      const v = m.get(t);
      if (v !== undefined && Number.isFinite(v)) {
        if (prev !== undefined) sum += v >= prev ? v - prev : v;
        prev = v;
      }
      sums.push(sum);
    }
    return sums;
  });
  const out: Array<[number, number[]]> = [];
  for (let i = 1; i < times.length; i++) {
    const from = Math.max(0, i - RATE_SAMPLES);
    out.push([times[i] as number, running.map((r) => (r[i] as number) - (r[from] as number))]);
  }
  return out;
}

/** The `q` quantile of cumulative bucket counts `counts` with upper bounds `bounds` (ascending, +Inf last). */
function quantileOf(q: number, bounds: number[], counts: number[]): number | undefined {
  const total = counts.at(-1) ?? 0;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const upper = bounds[i] as number;
    const count = counts[i] as number;
    if (count < rank) continue;
    if (upper === Infinity) return bounds.length > 1 ? (bounds[bounds.length - 2] as number) : undefined;
    const lower = i === 0 ? 0 : (bounds[i - 1] as number);
    const below = i === 0 ? 0 : (counts[i - 1] as number);
    const inside = count - below;
    return inside > 0 ? lower + ((upper - lower) * (rank - below)) / inside : upper;
  }
  return undefined;
}
