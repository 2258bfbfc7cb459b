import type { Warning } from '@hindsight/core';

/**
 * The most buckets an analysis grid holds: 20,000, which is 69 days at the widest default bucket
 * (5 min). Every template, pod and series keeps one number per bucket, so memory follows the
 * bucket count: a bundle whose window began in 1970 had 5.9 million buckets and took investigate
 * past 6 GiB. Past the cap the buckets are widened, so memory is bounded by the data, not the window.
 */
export const MAX_BUCKETS = 20_000;

/** `bucketMs`, or the least width on a 5-second grid that keeps `windowMs` within {@link MAX_BUCKETS}. */
export function boundedBucketMs(windowMs: number, bucketMs: number): number {
  if (!(windowMs / bucketMs > MAX_BUCKETS)) return bucketMs;
  return Math.ceil(windowMs / MAX_BUCKETS / 5000) * 5000;
}

function span(ms: number): string {
  const units: Array<[number, string]> = [
    [365.25 * 86_400_000, 'years'],
    [86_400_000, 'days'],
    [3_600_000, 'hours'],
    [60_000, 'min'],
  ];
  for (const [size, name] of units) if (ms >= 2 * size) return `${Math.round(ms / size)} ${name}`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * The warning a report carries when its buckets were widened past the width asked for: what the
 * window spans, and that a record stamped far from the rest (a clock at 1970) may be why.
 */
export function widenedWarning(window: { from: number; to: number }, asked: number, used: number): Warning {
  const from = new Date(window.from).toISOString();
  const to = new Date(window.to).toISOString();
  return {
    stage: 'analyze',
    name: 'window',
    code: 'HINDSIGHT_BUNDLE_WINDOW',
    message:
      `the data spans ${span(window.to - window.from)} (${from} to ${to}): buckets widened from ${span(asked)} to ` +
      `${span(used)} so that the analysis keeps at most ${MAX_BUCKETS} of them; changes and anomalies are ` +
      `dated only to the bucket. A record stamped far from the rest (a clock at 1970) may carry a wrong time`,
  };
}
