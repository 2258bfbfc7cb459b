import type { TrafficSecond } from './traffic.js';

// The per-second counters of runTraffic (traffic.ts) and their latency percentiles.

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

/** p50, p95, p99 and max of a second's (or a run's) latencies, in ms with one decimal. */
export function latency(values: number[]): TrafficSecond['latencyMs'] {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: Math.round((s.at(-1) ?? 0) * 10) / 10,
  };
}

/** One second's counters, as runTraffic fills them. */
export interface Bucket {
  requests: number;
  errors: number;
  status: Record<string, number>;
  logins: number;
  flowsCompleted: number;
  lostAs: TrafficSecond['lostAs'];
  checkoutsStarted: number;
  checkoutsConfirmed: number;
  checkoutsStuck: number;
  checkoutStartsCut: number;
  latencies: number[];
}

/** A second with nothing counted yet. */
export function emptyBucket(): Bucket {
  return {
    requests: 0,
    errors: 0,
    status: {},
    logins: 0,
    flowsCompleted: 0,
    lostAs: { loggedOut: 0, cartEmptied: 0, orderForgotten: 0 },
    checkoutsStarted: 0,
    checkoutsConfirmed: 0,
    checkoutsStuck: 0,
    checkoutStartsCut: 0,
    latencies: [],
  };
}
