import { BoundedCache, inSample, ownCopy } from './cache.js';
import type { Cluster, Stamp } from './cluster.js';

/**
 * The template a line (or a shape of line) joined without changing anything, valid while the
 * state version is `version`.
 */
export interface Known {
  cluster: Cluster | undefined;
  /** What the search that found it depends on (see PrefixTree.stampOf), unset until it is found. */
  word: Stamp;
  all: Stamp;
  /** For a shape: its second hash (see Tokenizer.shapeHash), told apart from another shape with the first. */
  check: number;
  version: number;
  /** The line's number of tokens, whose templates alone a search looks at (-1: not known yet). */
  n: number;
}

/**
 * What the miner knows about one line it has seen: the template it joined. Not its tokens: a line
 * whose template is stale is split again (rare once templates settle), and holding every cached
 * line's tokens cost more memory than the line itself.
 */
export interface LineEntry extends Known {
  /** Whether the line was cut (by `maxLineLength` or `maxTokens`); known once it was split. */
  cut: boolean;
  /** The line's class in the line cache: 1 if it holds a digit, else 0. */
  cls: number;
  /** Whether the line is in the sample that measures its class's hit rate. */
  sampled: boolean;
}

// Whole lines repeat far more than one would guess (Loghub-2k: 16,000 bodies, of which many occur
// several times; a service's steady state is the same few hundred lines): a line seen before skips
// splitting and masking, and, while no template has changed since, the tree search too. Bounded by
// entries and by characters held per generation (two generations, see BoundedCache), so memory
// stays flat: 4 M characters hold 16,000 lines of 250 characters (bench/drain-long.mjs).
const LINE_CACHE_SIZE = 1 << 15;
const LINE_CACHE_CHARS = 1 << 22;
const LINE_CACHE_MAX_LINE = 1024;
// Lines that differ only in their values share their masked tokens: a shape seen before at the
// same state skips the tree search. Bounded like the line cache; shapes are few (about as many as
// templates, times the words a template leaves unmasked), but long lines hold several values that
// stay words (bench/drain-long.mjs, fresh: about 30,000 shapes of 150 characters).
// Keyed by a hash of the shape (two independent 32-bit hashes, 62 bits in all: two shapes of a
// million share both with a chance of about one in 10^7), so no key string is built or held.
const SHAPE_CACHE_SIZE = 1 << 16;
const DIGIT = /[0-9]/;
// The stamp of an answer not found yet: never current.
const NEVER: Stamp = { v: Infinity };

/**
 * The miner's two caches of answers: whole lines seen before, and shapes (a line's masked tokens)
 * seen before. Each entry holds the template its line joined and what that search depended on;
 * the miner decides whether it is still current.
 */
export class Answers {
  private readonly lineCache = new BoundedCache<LineEntry>(LINE_CACHE_SIZE, LINE_CACHE_CHARS, 2);
  private readonly shapeCache = new BoundedCache<Known, number>(SHAPE_CACHE_SIZE, SHAPE_CACHE_SIZE);

  /** The line cache's entry for a line, kept now if it is to be; undefined for a line not kept. */
  line(content: string): LineEntry | undefined {
    if (content.length > LINE_CACHE_MAX_LINE) return undefined;
    const cache = this.lineCache;
    let cls = -1;
    let sampled = false;
    // While a class is sparse, a line of it outside the sample is not even looked up (it was not
    // kept); the scan for a digit comes first. While both are dense, a hit knows its class and
    // only a miss pays for the scan.
    if (!cache.allDense()) {
      cls = DIGIT.test(content) ? 1 : 0;
      sampled = inSample(content);
      if (!sampled && !cache.admits(cls)) return undefined;
    }
    const e = cache.get(content);
    if (e !== undefined) {
      if (e.sampled) cache.counted(e.cls, true);
      return e;
    }
    if (cls < 0) {
      cls = DIGIT.test(content) ? 1 : 0;
      sampled = inSample(content);
    }
    if (sampled) cache.counted(cls, false);
    return sampled || cache.admits(cls) ? this.remember(content, cls, sampled) : undefined;
  }

  /** Keeps a line that missed the line cache (a copy, not a view of the caller's buffer). */
  private remember(content: string, cls: number, sampled: boolean): LineEntry {
    const own = ownCopy(content);
    const e: LineEntry = {
      cut: false,
      cluster: undefined,
      word: NEVER,
      all: NEVER,
      check: 0,
      version: -1,
      n: -1,
      cls,
      sampled,
    };
    this.lineCache.put(own, e, own.length);
    return e;
  }

  /**
   * What is known about a line's masked tokens (its shape), from the shape cache: lines that
   * differ only in their masked values share it, so a line never seen whole usually has.
   * Undefined while the cache is not consulted for this shape.
   */
  shape(hash: number, check: number, n: number): Known | undefined {
    const cache = this.shapeCache;
    let known = cache.get(hash);
    // Another shape with the same first hash: this one takes its place.
    if (known !== undefined && (known.check !== check || known.n !== n)) known = undefined;
    const sampled = (check & 15) === 0;
    if (sampled) cache.counted(0, known !== undefined);
    if (known === undefined && (sampled || cache.admits(0))) {
      known = { cluster: undefined, word: NEVER, all: NEVER, check, version: -1, n };
      cache.put(hash, known, 1);
    }
    return known;
  }
}
