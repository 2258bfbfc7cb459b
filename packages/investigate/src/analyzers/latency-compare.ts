import { mad, median } from '../stats.js';
import type { Observations } from './latency-model.js';

/** The thresholds of the latency analyzer (chosen by leave-one-fault-out, bench/rca.ts). */
export interface LatencyParams {
  /** A signal moved when its median after the split is this many robust deviations above the reference's. */
  z: number;
  /** ... and at least this many times the reference's median. */
  ratio: number;
  /** A finding is full strength when its signal became this many times slower (log scale below). */
  full: number;
  /**
   * Given the incident's time, only this long after it is tested (Infinity: to the window's end):
   * an incident's own effect is in its first minutes, and later minutes may hold the next one.
   */
  horizonMs: number;
}

/** Where the reference and the period under test lie. */
export interface Periods {
  /** The bundle's baseline period, when it declares one. */
  baseline?: { from: number; to: number };
  window: { from: number; to: number };
  /** Values from here on are tested; before it (in the window) is the window's own past. */
  split: number;
  /**
   * Values from here are tested (default: the split). Given the incident's time, from that time: the
   * minute before it is onset slack, not the incident, and where calls come in bursts (Train Ticket's
   * load at the start of each minute) its calls can outnumber the slowed ones after it and hold the
   * median down. Onsets are still looked for from the split.
   */
  testFrom?: number;
  /** Values up to here are tested. */
  until: number;
  /** The incident's time, when given: the tested values before it tell a move that predates it. */
  incidentAt?: number;
  bucketMs: number;
}

/** How one signal moved between its reference and the tested period. */
export interface Move {
  before: number;
  after: number;
  /** Robust deviations of the reference between the two medians. */
  z: number;
  ratio: number;
  moved: boolean;
  /** ... or as far below it: the work is skipped (an early return, an error answered at once). */
  fell: boolean;
  /**
   * From the bucket before the first whose median crossed the threshold, the first value that looks
   * like the level after (else the crossing bucket's start); else the split.
   */
  onset: number;
  /** Judged against the bundle's baseline (not the window's past). */
  baseline: boolean;
  /**
   * Already beyond the threshold in the tested values before the incident's time (at least
   * {@link MIN_VALUES} of them): a standing difference from the reference, not the incident's onset.
   */
  standing: boolean;
  /** Tested values (count). */
  n: number;
  /** Median per bucket over the window, for charts. */
  points: Array<[number, number]>;
}

// Fewer values than this say nothing about a median.
const MIN_VALUES = 5;
// The reference's spread is floored at this share of its median: a call that always took 3.0 ms
// has a MAD near zero, and 3.2 ms would otherwise be a departure.
const MIN_SPREAD = 0.05;

function pick(o: Observations, keep: (t: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < o.times.length; i++) if (keep(o.times[i] as number)) out.push(o.values[i] as number);
  return out;
}

/**
 * The values from the split up to `until`, and at least the first {@link MIN_VALUES} after the
 * split whatever `until` says: a series sampled once a minute has only three in three minutes.
 */
function testedValues(o: Observations, p: Periods): Array<[number, number]> {
  const after: Array<[number, number]> = [];
  const from = p.testFrom ?? p.split;
  for (let i = 0; i < o.times.length; i++) {
    const t = o.times[i] as number;
    if (t >= from && t <= p.window.to) after.push([t, o.values[i] as number]);
  }
  after.sort((a, b) => a[0] - b[0]);
  return after.filter(([t], i) => t <= p.until || i < MIN_VALUES);
}

/** Medians per bucket of the window, as `[bucket start, median]`. */
function bucketMedians(o: Observations, p: Periods): Array<[number, number]> {
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < o.times.length; i++) {
    const t = o.times[i] as number;
    if (t < p.window.from || t > p.window.to) continue;
    const b = p.window.from + Math.floor((t - p.window.from) / p.bucketMs) * p.bucketMs;
    const list = buckets.get(b);
    if (list) list.push(o.values[i] as number);
    else buckets.set(b, [o.values[i] as number]);
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([t, vs]) => [t, Math.round(median(vs) * 1e4) / 1e4] as [number, number]);
}

/** The time of the earliest value in `[from, to]` that `beyond` holds for, if any. */
function firstBeyond(
  o: Observations,
  from: number,
  to: number,
  beyond: (v: number) => boolean,
): number | undefined {
  let first: number | undefined;
  for (let i = 0; i < o.times.length; i++) {
    const t = o.times[i] as number;
    if (t >= from && t <= to && (first === undefined || t < first) && beyond(o.values[i] as number))
      first = t;
  }
  return first;
}

/** The signal's values in the bundle's baseline period (outside the window). */
export function baselineValues(o: Observations, p: Periods): number[] {
  const base = p.baseline;
  return base ? pick(o, (t) => t >= base.from && t <= base.to && (t < p.window.from || t > p.window.to)) : [];
}

/**
 * Compares a signal after the split against the bundle's baseline when it holds enough of the
 * signal, else against `pooled` (the baseline's values of like signals, such as every call's time
 * on the wire, when a signal is too rare in the baseline to have a reference of its own), else
 * against the window before the split; undefined when either side is too thin. Against a pooled
 * reference a move counts only at full strength (`params.full` times): like signals differ, and
 * only a move far beyond their differences says something.
 */
export function compare(
  o: Observations,
  p: Periods,
  params: LatencyParams,
  pooled: number[] = [],
): Move | undefined {
  const fromBaseline = baselineValues(o, p);
  const own = fromBaseline.length >= MIN_VALUES;
  const usePool = !own && pooled.length >= MIN_VALUES;
  const baseline = own || usePool;
  const ref = own ? fromBaseline : usePool ? pooled : pick(o, (t) => t >= p.window.from && t < p.split);
  const tested = testedValues(o, p).map(([, v]) => v);
  if (ref.length < MIN_VALUES || tested.length < MIN_VALUES) return undefined;
  const before = median(ref);
  const after = median(tested);
  const spread = Math.max(mad(ref, before), MIN_SPREAD * Math.abs(before), 1e-6);
  const z = (after - before) / spread;
  const ratio = after / Math.max(before, 1e-6);
  const moved = z >= params.z && ratio >= (usePool ? Math.max(params.ratio, params.full) : params.ratio);
  // A fall is judged by its ratio alone: a latency's spread is its upper tail, so a median that
  // fell to a third (Online Boutique's front end returning at once, 123 -> 46 ms) is under one
  // deviation away. Never against a pooled reference: other signals' level says nothing of this one's.
  const fell = !usePool && ratio <= 1 / params.ratio;
  const points = bucketMedians(o, p);
  const beyond = (v: number): boolean =>
    fell ? v <= before / params.ratio : v > before + params.z * spread && v >= before * params.ratio;
  const crossed = points.find(([t, v]) => t + p.bucketMs > p.split && beyond(v));
  // From the bucket that crossed on, the first value that looks like the level after (beyond the
  // threshold and past the geometric middle of the two medians): a bucket's start can be seconds
  // before anything slowed, and before the change that slowed it; a bucket whose median just
  // crossed can hold noise before the first call that took the new time (a lab run: 106 ms among
  // 50 ms calls at 18:33:21, the first 6,000 ms call at 18:33:43, the change at 18:33:31).
  const middle = before > 0 && after > 0 ? Math.sqrt(before * after) : (before + after) / 2;
  const likeAfter = (v: number): boolean => beyond(v) && (fell ? v <= middle : v >= middle);
  // The bucket before the one that crossed is searched too: a slowdown that began in its second
  // half does not move its median.
  const first = crossed && firstBeyond(o, Math.max(crossed[0] - p.bucketMs, p.split), p.window.to, likeAfter);
  const at = p.incidentAt;
  const pre = at === undefined ? [] : pick(o, (t) => t >= p.split && t < at);
  const standing = (moved || fell) && pre.length >= MIN_VALUES && beyond(median(pre));
  return {
    before,
    after,
    z,
    ratio,
    moved,
    fell,
    onset: crossed ? Math.max(first ?? crossed[0], p.split) : p.split,
    baseline,
    standing,
    n: tested.length,
    points,
  };
}
