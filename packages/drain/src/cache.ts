/**
 * A bounded string-keyed cache of two generations, the older dropped when the newer is full (memory
 * stays flat however many distinct keys pass) and that keeps only a sample of the keys of a class that misses while that class
 * does not pay. Every key is still looked up: a lookup costs little, a kept miss a lot.
 *
 * Keys come in classes (for the miner's line cache: lines without a digit, lines with one), each
 * with its own hit rate: lines without a digit repeat, lines with one mostly do not. A miss that is
 * kept costs far more than the work a hit saves (the copy, the entry, and the garbage collector
 * moving everything the cache holds to the old generation before it is cleared): on
 * bench/drain-equiv.mjs's varied corpus, where 39% of the lines with a digit hit, keeping them all
 * made the miner 25% slower than having no line cache.
 */
export class BoundedCache<V, K extends string | number = string> {
  private map = new Map<K, V>();
  // The previous generation: when `map` is full it becomes `old` (and the old `old` goes), and a
  // key found in `old` moves back to `map`. So keys in use survive a turn, and a working set a
  // little over the bound still hits (clearing everything when full missed every line of a
  // working set just over it: bench/drain-long.mjs, repeated, 16,000 lines of 142 characters
  // against a bound of 2 M characters). Memory: at most twice the bounds.
  private old = new Map<K, V>();
  private weight = 0;
  private readonly classes: AdmissionClass[];
  // How many classes are sparse.
  private sparse = 0;

  /**
   * @param maxEntries - entries held before the cache is cleared
   * @param maxWeight - total weight (for strings: characters) held before it is cleared
   * @param classCount - how many classes of keys {@link BoundedCache.admits} tells apart
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
    classCount = 1,
  ) {
    this.classes = Array.from({ length: classCount }, () => ({
      lookups: 0,
      hits: 0,
      dense: true,
      bad: 0,
      window: FIRST_WINDOW,
    }));
  }

  /** Whether every class keeps every key (then a lookup needs no class first). */
  allDense(): boolean {
    return this.sparse === 0;
  }

  /**
   * Whether to keep a key of class `cls` that missed: every key while the class pays, only the
   * sample while it does not. The sample is the keys {@link inSample} picks (one in
   * {@link SPARSE}): always the same keys, always kept, so its hit rate is the class's whether the
   * class is dense or sparse (a key that was not kept while sparse misses once when the class
   * turns dense, which says nothing about the class).
   */
  admits(cls: number): boolean {
    return (this.classes[cls] as AdmissionClass).dense;
  }

  /**
   * The value of a key; a key of the previous generation moves to the current one (a string key
   * weighs its length, a number 1).
   */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined || this.old.size === 0) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.put(key, o, typeof key === 'string' ? key.length : 1);
    }
    return o;
  }

  /**
   * Counts a lookup of a key of the sample (see {@link BoundedCache.admits}) of class `cls`.
   * Every window of such lookups decides whether the class is dense or sparse.
   */
  counted(cls: number, hit: boolean): void {
    const c = this.classes[cls] as AdmissionClass;
    if (hit) c.hits++;
    if (++c.lookups < c.window) return;
    // Two windows below the threshold in a row: one may be a cold start or a burst of new keys.
    c.bad = c.hits * MIN_HITS_OUT_OF >= c.window * MIN_HITS ? 0 : c.bad + 1;
    const dense = c.bad < 2;
    if (dense !== c.dense) this.sparse += dense ? -1 : 1;
    c.window = WINDOW;
    c.dense = dense;
    c.lookups = 0;
    c.hits = 0;
  }

  /** Keeps a key that missed; the key should be an {@link ownCopy}. */
  put(key: K, value: V, weight: number): void {
    if (this.map.size >= this.maxEntries || this.weight + weight > this.maxWeight) {
      this.old = this.map;
      this.map = new Map();
      this.weight = 0;
    }
    this.map.set(key, value);
    this.weight += weight;
  }
}

interface AdmissionClass {
  lookups: number;
  hits: number;
  /** Lookups of the sample per judgement. */
  window: number;
  /** Whether every key is kept, or only the sample. */
  dense: boolean;
  /** Judgements below the threshold in a row. */
  bad: number;
}

// Hit rate judged over windows of this many lookups of a class's sample (about 4,000 keys); below
// MIN_HITS in MIN_HITS_OUT_OF, only the sample, one key in SPARSE, is looked up and kept until a
// window shows it being hit again.
const WINDOW = 1 << 8;
// A cold cache misses everything: the first judgement waits for four windows (about 16,000 keys),
// so that lines repeating with a longer period than one window are kept while they are first seen
// (bench/drain-speed.mjs, repeated: without it, a second pass over the bodies missed as well).
const FIRST_WINDOW = 1 << 10;
// A kept miss costs about twice a line's own work and a hit saves about four fifths of it
// (bench/drain-equiv.mjs, varied corpus), so a class pays from about 70% hits.
const MIN_HITS = 7;
const MIN_HITS_OUT_OF = 10;
const SPARSE = 16;

/** Whether a key is in the sample that measures its class's hit rate (one key in {@link SPARSE}). */
export function inSample(key: string): boolean {
  return sampleOf(key) % SPARSE === 0;
}

/**
 * A cheap, deterministic sample value of a string: its length and four of its characters. Not a
 * hash of the whole string (which costs more than a lookup saves), but enough to pick the same
 * sixteenth of the lines every time they come, whatever their order.
 */
function sampleOf(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  return (
    n * 7 +
    s.charCodeAt(n >> 2) * 3 +
    s.charCodeAt(n >> 1) * 5 +
    s.charCodeAt((3 * n) >> 2) * 11 +
    s.charCodeAt(n - 1) * 13
  );
}

/**
 * A copy of a string that holds only its own characters. A line cut from a 1 MiB read chunk (or a
 * token cut from a line) is, in V8, a view that keeps the whole chunk alive: caching such views
 * kept hundreds of chunks and grew the peak RSS with the input (bench/drain-speed.mjs, varied:
 * 182, 237, 258 MB at 0.5, 1, 2 million lines). Concatenating and slicing forces a flat copy.
 */
export function ownCopy(s: string): string {
  return (' ' + s).slice(1);
}
