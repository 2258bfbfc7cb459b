/**
 * A bounded string-keyed cache that is cleared when full (memory stays flat however many distinct
 * keys pass) and that stops admitting most new keys while it does not pay: when a window of
 * lookups finds almost nothing (every line or token distinct), caching them all only costs map
 * inserts and garbage collection. On bench/drain-equiv.mjs's varied corpus that was about a
 * quarter of the CPU time.
 */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  private weight = 0;
  private lookups = 0;
  private hits = 0;
  private admitEvery = 1;
  private countdown = 1;

  /**
   * @param maxEntries - entries held before the cache is cleared
   * @param maxWeight - total weight (for strings: characters) held before it is cleared
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (++this.lookups === WINDOW) {
      // One key in `admitEvery` was admitted, so the hit rate had all been is about
      // `admitEvery` times the one seen.
      this.admitEvery = this.hits * this.admitEvery * MIN_HIT_RATE < WINDOW ? ADMIT_SPARSE : 1;
      this.lookups = 0;
      this.hits = 0;
    }
    if (v !== undefined) this.hits++;
    return v;
  }

  /** Whether the next key missed is to be kept: all while the cache pays, one in 16 while it does not. */
  admits(): boolean {
    if (--this.countdown > 0) return false;
    this.countdown = this.admitEvery;
    return true;
  }

  /** Keeps a key that {@link BoundedCache.admits} let in; the key should be an {@link ownCopy}. */
  put(key: string, value: V, weight: number): void {
    if (this.map.size >= this.maxEntries || this.weight + weight > this.maxWeight) {
      this.map.clear();
      this.weight = 0;
    }
    this.map.set(key, value);
    this.weight += weight;
  }
}

// Hit rate judged over windows of this many lookups; below one in MIN_HIT_RATE, only one new key
// in ADMIT_SPARSE is cached until a window shows the sample being hit again.
const WINDOW = 1 << 14;
const MIN_HIT_RATE = 8;
const ADMIT_SPARSE = 16;

/**
 * A copy of a string that holds only its own characters. A line cut from a 1 MiB read chunk (or a
 * token cut from a line) is, in V8, a view that keeps the whole chunk alive: caching such views
 * kept hundreds of chunks and grew the peak RSS with the input (bench/drain-speed.mjs, varied:
 * 182, 237, 258 MB at 0.5, 1, 2 million lines). Concatenating and slicing forces a flat copy.
 */
export function ownCopy(s: string): string {
  return (' ' + s).slice(1);
}
