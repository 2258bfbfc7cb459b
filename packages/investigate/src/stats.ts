/**
 * Robust statistics for change points: medians and MAD, so that one outlier or a burst of
 * noise does not make a change (Hampel, "The influence curve", 1974; 1.4826 scales the MAD to
 * the standard deviation of a normal distribution).
 */

/** The median of `xs` (NaN for an empty list). Does not modify `xs`. */
export function median(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  const a = Float64Array.from(xs).sort();
  const mid = n >> 1;
  return n % 2 === 1 ? (a[mid] as number) : ((a[mid - 1] as number) + (a[mid] as number)) / 2;
}

/** The median absolute deviation around `center`, scaled to a normal standard deviation. */
export function mad(xs: ArrayLike<number>, center: number): number {
  const d = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) d[i] = Math.abs((xs[i] as number) - center);
  return 1.4826 * median(d);
}

/** One shift in a series: where it begins and how large and sure it is. */
export interface Shift {
  /** Index (into the input array) of the first value after the split. */
  index: number;
  /** Index where the move begins, earlier than `index` for a ramp. */
  onset: number;
  before: number;
  after: number;
  /** The shift in units of the noise (robust z). */
  z: number;
  /** The shift relative to the larger level, 0..1 (1 when a level starts from or falls to zero). */
  relative: number;
  /** 0..1, from z and the relative size. */
  strength: number;
  direction: 'up' | 'down';
}

/** Thresholds of {@link detectShifts}. */
export interface ShiftOptions {
  /** Least robust z for a shift (default 5). */
  minZ?: number;
  /** Least relative size (default 0.2: a fifth of the level). */
  minRelative?: number;
  /** Most shifts returned (default 3: a change, its revert, one more). */
  maxShifts?: number;
}

/**
 * Splits items sorted by time into runs wherever two neighbours lie more than `maxGap` ms apart:
 * the episodes of something that happened in bursts.
 */
export function runsOf<T>(items: readonly T[], timeOf: (item: T) => number, maxGap: number): T[][] {
  const out: T[][] = [];
  for (const item of items) {
    const run = out.at(-1);
    const last = run?.at(-1);
    if (run && last !== undefined && timeOf(item) - timeOf(last) <= maxGap) run.push(item);
    else out.push([item]);
  }
  return out;
}

/** The samples of a series on a grid (NaN = no sample) with their grid indexes. */
function samplesOf(values: ArrayLike<number>): { idx: number[]; xs: number[] } {
  const idx: number[] = [];
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) {
      idx.push(i);
      xs.push(v);
    }
  }
  return { idx, xs };
}

/**
 * Finds level shifts in a series sampled on a regular grid (NaN = no sample) by binary
 * segmentation with a two-window median test: for each split the medians of both sides are
 * compared against the pooled MAD of the sides. A split is kept only when the side before it is
 * itself flat (its halves agree), so a steady trend is not reported as a change, while a ramp that
 * starts from a flat baseline is, with its onset where it leaves the baseline.
 */
export function detectShifts(values: ArrayLike<number>, options: ShiftOptions = {}): Shift[] {
  const minZ = options.minZ ?? 5;
  const minRel = options.minRelative ?? 0.2;
  const maxShifts = options.maxShifts ?? 3;
  const { idx, xs } = samplesOf(values);
  const out: Shift[] = [];
  const segments: Array<[number, number]> = [[0, xs.length]];
  while (segments.length > 0 && out.length < maxShifts) {
    const [lo, hi] = segments.shift() as [number, number];
    const s = bestSplit(xs, lo, hi, minZ, minRel);
    if (!s) continue;
    out.push({ ...s, index: idx[s.index] as number, onset: idx[s.onset] as number });
    segments.push([lo, s.index], [s.index, hi]);
  }
  return out.sort((a, b) => a.onset - b.onset);
}

function bestSplit(
  xs: number[],
  lo: number,
  hi: number,
  minZ: number,
  minRel: number,
): Omit<Shift, never> | undefined {
  const n = hi - lo;
  const minSeg = Math.max(4, Math.floor(n * 0.05));
  if (n < 2 * minSeg) return undefined;
  const step = Math.max(1, Math.floor(n / 200));
  // The split that minimises the absolute deviations from each side's median (an L1 cost, as
  // in PELT with the Laplace loss): it lands on the step itself, where a plain difference of
  // medians drifts towards the middle of the series.
  let best: { k: number; score: number } | undefined;
  for (let k = lo + minSeg; k <= hi - minSeg; k += step) {
    const score = l1(xs, lo, k) + l1(xs, k, hi);
    if (!best || score < best.score) best = { k, score };
  }
  if (!best) return undefined;
  const k = best.k;
  const left = xs.slice(lo, k);
  const right = xs.slice(k, hi);
  const before = median(left);
  const after = median(right);
  const diff = after - before;
  if (diff === 0) return undefined;
  const scaleL = mad(left, before);
  const scaleR = mad(right, after);
  const level = Math.max(Math.abs(before), Math.abs(after));
  // A floor on the noise: a constant series moving by one unit is a change, but 1e-12 noise is not.
  const floor = Math.max(1e-9, level * 0.01);
  // The baseline's noise decides whether the series left it; half the spread after the split
  // also counts, so a side that merely became noisy is not a level shift, while a ramp (whose
  // own spread is large) still is.
  const scale = Math.max(scaleL, 0.5 * scaleR, floor);
  const z = Math.abs(diff) / scale;
  const relative = Math.min(1, Math.abs(diff) / Math.max(level, 1e-12));
  if (z < minZ || relative < minRel) return undefined;
  // Most of the side after must lie beyond the middle of the shift: a lone spike is not a level.
  const mid = before + diff / 2;
  let beyond = 0;
  for (const v of right) if (diff > 0 ? v > mid : v < mid) beyond++;
  const persist = beyond / right.length;
  if (persist < 0.5) return undefined;
  // Onset: walk back from the split while the values already left the baseline in this direction.
  const tol = Math.max(3 * scaleL, Math.abs(diff) * 0.1, floor);
  let onset = k;
  while (onset - 1 > lo && (diff > 0 ? xs[onset - 1]! - before > tol : before - xs[onset - 1]! > tol))
    onset--;
  // The side before the onset must be flat: its two halves must agree far better than the shift.
  const base = xs.slice(lo, onset);
  const half = base.length >> 1;
  if (half >= 3) {
    const drift = Math.abs(median(base.slice(half)) - median(base.slice(0, half)));
    if (drift > 0.35 * Math.abs(diff)) return undefined;
  }
  // Fewer than ten samples on a side is thin support (a minute-sampled series over a few minutes).
  const support = Math.min(1, Math.sqrt(Math.min(onset - lo, hi - k) / 10));
  const strength =
    (1 - Math.exp(-z / 10)) * Math.min(1, relative / 0.5) * Math.min(1, persist / 0.8) * support;
  return {
    index: k,
    onset,
    before,
    after,
    z,
    relative,
    strength,
    direction: diff > 0 ? 'up' : 'down',
  };
}

function l1(xs: number[], lo: number, hi: number): number {
  const seg = xs.slice(lo, hi);
  const m = median(seg);
  let sum = 0;
  for (const v of seg) sum += Math.abs(v - m);
  return sum;
}

/** A transient excursion: a run of samples far above the series' own earlier range. */
export interface Excursion {
  /** Index (into the input array) of the first sample of the run. */
  onset: number;
  /** Index just after the run's last sample. */
  end: number;
  /** The baseline median and upper quantile (the highest earlier value not counted as an outlier). */
  baseline: number;
  upper: number;
  /** The lowest of the run's samples. */
  level: number;
  /** How far the run lies beyond the baseline's own range, in units of that range. */
  excess: number;
  /** 0..1, from the excess and the relative size. */
  strength: number;
}

/** Thresholds of {@link detectExcursions}. */
export interface ExcursionOptions {
  /** Least earlier samples to judge against (default 6). */
  minBaseline?: number;
  /** Samples that must all exceed the baseline (default 2): one sample is a spike. */
  run?: number;
  /** Least excess, in units of the baseline's range p50..max (default 5: rate noise of a quiet lab reached 3, Nezha's CPU faults exceeded 100). */
  minExcess?: number;
}

/**
 * Finds the first upward excursion of a series against its own history: a run of samples that all
 * lie far beyond the range the series kept before (a quantile-excess score,
 * (level - p50) / (max - p50) of the earlier samples). A fault that lasts minutes in a window of
 * tens (Nezha's CPU contention: 0.5% -> 89% for three of twenty minute-samples) is not a level
 * shift, so {@link detectShifts} misses it; scoring it against the series' own range keeps series
 * that merely move within their usual noise (a P99 latency that sometimes spikes) quiet, where a
 * fixed threshold would not. Only rises are looked for: a resource or a latency that falls is
 * rarely the onset of a failure.
 */
export function detectExcursions(values: ArrayLike<number>, options: ExcursionOptions = {}): Excursion[] {
  const minBase = options.minBaseline ?? 6;
  const run = options.run ?? 2;
  const minExcess = options.minExcess ?? 5;
  const { idx, xs } = samplesOf(values);
  // The baseline's median and maximum are kept as it grows, one sample a step: recomputing them
  // from a slice each step was quadratic, and `Math.max(...base)` overflowed the stack past about
  // 120,000 samples.
  const p50s = new RunningMedian();
  let upper = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < Math.min(minBase, xs.length); i++) {
    p50s.push(xs[i] as number);
    upper = Math.max(upper, xs[i] as number);
  }
  for (let k = minBase; k + run <= xs.length; k++) {
    if (k > minBase) {
      p50s.push(xs[k - 1] as number);
      upper = Math.max(upper, xs[k - 1] as number);
    }
    if (!(xs[k]! > upper)) continue;
    const p50 = p50s.median();
    // Every sample of the run must lie beyond: its lowest is its level, so a lone spike is not one.
    let level = Number.POSITIVE_INFINITY;
    for (let j = k; j < k + run; j++) level = Math.min(level, xs[j] as number);
    // A quantile-excess score needs a baseline with a spread: a series constant before (an idle
    // count at 0) would make any blip infinite; its level shifts are detectShifts' to find.
    if (!(upper > p50)) continue;
    const level0 = Math.max(Math.abs(p50), Math.abs(level), 1e-12);
    // The range floor: a flat baseline moving by a few percent of its level is not an excursion.
    const range = Math.max(upper - p50, 0.05 * Math.abs(p50), 1e-9);
    const excess = (level - p50) / range;
    const relative = (level - p50) / level0;
    if (excess < minExcess || relative < 0.5) continue;
    const strength = (1 - Math.exp(-excess / 10)) * Math.min(1, relative / 0.8);
    return [
      {
        onset: idx[k] as number,
        end: (idx[k + run - 1] as number) + 1,
        baseline: p50,
        upper,
        level,
        excess,
        strength,
      },
    ];
  }
  return [];
}

/** A binary heap of numbers ordered by `before` (a min-heap with `<`, a max-heap with `>`). */
class Heap {
  private readonly a: number[] = [];
  constructor(private readonly before: (x: number, y: number) => boolean) {}
  get size(): number {
    return this.a.length;
  }
  peek(): number {
    return this.a[0] as number;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i] as number, a[p] as number)) break;
      [a[i], a[p]] = [a[p] as number, a[i] as number];
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0] as number;
    const last = a.pop() as number;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l] as number, a[m] as number)) m = l;
        if (r < a.length && this.before(a[r] as number, a[m] as number)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as number, a[i] as number];
        i = m;
      }
    }
    return top;
  }
}

/** The median of a growing set of numbers (as {@link median} gives), in O(log n) per number. */
class RunningMedian {
  private readonly low = new Heap((x, y) => x > y);
  private readonly high = new Heap((x, y) => x < y);
  push(x: number): void {
    if (this.low.size === 0 || x <= this.low.peek()) this.low.push(x);
    else this.high.push(x);
    if (this.low.size > this.high.size + 1) this.high.push(this.low.pop());
    else if (this.high.size > this.low.size) this.low.push(this.high.pop());
  }
  median(): number {
    if (this.low.size === 0) return Number.NaN;
    return this.low.size > this.high.size ? this.low.peek() : (this.low.peek() + this.high.peek()) / 2;
  }
}
