import { BoundedCache, inSample, ownCopy } from './cache.js';
import { templateId } from './hash.js';
import {
  MAX_TOKEN_LENGTH,
  TokenClass,
  WILDCARD,
  classifyToken,
  isValueWord,
  isValueWordAt,
  maskSimple,
  maskToken,
  matchesPattern,
  mergeTokens,
} from './mask.js';

/** Options of a {@link TemplateMiner}; every field has a default (see README.md for where each comes from). */
export interface MinerOptions {
  /** Depth of the prefix tree, counting the root and the token-count layer (Drain paper: 4). */
  depth?: number;
  /** Least similarity, from 0 to 1, for a line to join a template. */
  similarity?: number;
  /** Most children of one tree node before new tokens share the `<*>` branch (Drain: 100). */
  maxChildren?: number;
  /** Most templates kept; beyond it the least recently seen tenth is evicted. */
  maxTemplates?: number;
  /** Most tokens mined from one line; the rest of a longer line becomes one final `<*>`. */
  maxTokens?: number;
  /** Most characters read from one line; the rest is cut. */
  maxLineLength?: number;
  /** Width of a count bucket in milliseconds. */
  bucketMs?: number;
  /** Most buckets kept per template; the oldest are dropped first. */
  maxBuckets?: number;
  /** Whether to mask numbers, addresses, ids and paths before the tree search. */
  mask?: boolean;
  /**
   * Extra masks: regular expression sources (strings, so a state stays JSON) whose matches inside
   * a token become `<*>`, applied to every token before the built-in masks. Empty by default: the
   * built-in masks need no per-system tuning.
   */
  extraMasks?: string[];
}

/** What happened to the template a line joined. */
export type MatchChange = 'created' | 'updated' | 'none';

/** The template one line belongs to, returned by {@link TemplateMiner.add}. */
export interface MatchResult {
  /** Stable id: a hash of `template`, identical across runs and machines. */
  id: string;
  /** The template, tokens joined by one space, variables written `<*>`. */
  template: string;
  /** Lines this template has absorbed so far, this one included. */
  count: number;
  /** `created` for a new template, `updated` when this line generalised it, else `none`. */
  change: MatchChange;
  /** The id before this line changed the template (set when `change` is `updated`). */
  previousId?: string;
}

/** A template with its counts, as listed by {@link TemplateMiner.templates}. */
export interface TemplateInfo {
  id: string;
  template: string;
  count: number;
  /** Counts per time bucket: `[bucketStartMs, count]`, oldest first. Empty if no times were given. */
  buckets: Array<[number, number]>;
}

/** Counters of what the miner did with its input. */
export interface MinerStats {
  lines: number;
  templates: number;
  evicted: number;
  /** Lines cut by `maxLineLength` or `maxTokens`. */
  truncated: number;
}

/** The saved state of a miner: plain JSON. */
export interface MinerState {
  version: 1;
  options: Required<MinerOptions>;
  stats: MinerStats;
  clusters: Array<{ tokens: string[]; count: number; last: number; buckets: Array<[number, number]> }>;
}

/** A result as a value: the miner never throws on bad input. */
export type LoadResult = { ok: true; miner: TemplateMiner } | { ok: false; error: string };

/**
 * Defaults: depth 4 and 100 children are the Drain paper's (He et al., ICWS 2017); the similarity
 * 0.75 was chosen on Loghub-2k with one setting for all eight systems (bench/drain-accuracy.mjs).
 */
export const DEFAULT_OPTIONS: Readonly<Required<MinerOptions>> = Object.freeze({
  depth: 4,
  similarity: 0.75,
  maxChildren: 100,
  maxTemplates: 20_000,
  maxTokens: 200,
  maxLineLength: 20_000,
  bucketMs: 60_000,
  maxBuckets: 10_080,
  mask: true,
  extraMasks: [],
});

// What a template token is, so the similarity loop never searches a token for `<*>`.
const LITERAL = 0;
const VARIABLE = 1;
const PATTERN = 2;

function kindsOf(tokens: string[]): Uint8Array {
  const kinds = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    kinds[i] = t === WILDCARD ? VARIABLE : t.includes(WILDCARD) ? PATTERN : LITERAL;
  }
  return kinds;
}

interface Cluster {
  tokens: string[];
  kinds: Uint8Array;
  template: string;
  id: string;
  count: number;
  last: number;
  buckets: Map<number, number>;
  leaf: Cluster[];
  alive: boolean;
}

function collapseRuns(tokens: string[], min: number): string[] {
  let out: string[] | undefined;
  let i = 0;
  while (i < tokens.length) {
    let j = i;
    while (j < tokens.length && tokens[j] === WILDCARD) j++;
    if (j - i >= min) {
      out ??= tokens.slice(0, i);
      out.push(WILDCARD);
      i = j;
    } else {
      if (out !== undefined) for (let k = i; k <= j && k < tokens.length; k++) out.push(tokens[k] as string);
      i = j + 1;
    }
  }
  return out ?? tokens;
}

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

/**
 * The template a line (or a shape of line) joined without changing anything, valid while the
 * state version is `version`.
 */
interface Known {
  cluster: Cluster | undefined;
  version: number;
}

/** What the miner knows about one line it has seen: its tokens, and the template it joined. */
interface LineEntry extends Known {
  /** The masked tokens; shared, never mutated (a new cluster takes a copy). */
  tokens: string[];
  /** Whether the line was cut (by `maxLineLength` or `maxTokens`). */
  cut: boolean;
  /** The line's class in the line cache: 1 if it holds a digit, else 0. */
  cls: number;
  /** Whether the line is in the sample that measures its class's hit rate. */
  sampled: boolean;
}

const newNode = (): Node => ({ children: new Map(), clusters: [] });

// Whole lines repeat far more than one would guess (Loghub-2k: 16,000 bodies, of which many occur
// several times; a service's steady state is the same few hundred lines): a line seen before skips
// splitting and masking, and, while no template has changed since, the tree search too. Bounded by
// entries and by characters held, cleared when full, so memory stays flat.
const LINE_CACHE_SIZE = 1 << 15;
const LINE_CACHE_CHARS = 1 << 21;
const LINE_CACHE_MAX_LINE = 1024;
// Lines that differ only in their values share their masked tokens: a shape seen before at the
// same state skips the tree search. Bounded like the line cache; shapes are few (about as many as
// templates, times the words a template leaves unmasked).
const SHAPE_CACHE_SIZE = 1 << 14;
const SHAPE_CACHE_CHARS = 1 << 21;
const SHAPE_CACHE_MAX = 1024;
const DIGIT = /[0-9]/;
// A template's `<*>` facing a word is weak evidence either way: it counts as half a mismatch.
// Measured on Loghub-2k at similarity 0.7: 0 gives average GA 0.976, 0.5 gives 0.979.
const PARAM_WEIGHT = 0.5;
// Five or more values in a row are a list whose length varies from line to line (HDFS's
// `ask ... to delete <*> <*> ...`): one `<*>` stands for the run, so the lines share a length
// and a template. Average FGA on Loghub-2k at similarity 0.7: 0.905 without, 0.922 with runs of 5 (or 8).
const MIN_LIST_RUN = 5;

/** Whether a line holds whitespace other than spaces (tabs, a CR left by CRLF line ends). */
function hasOtherWhitespace(line: string): boolean {
  return (
    line.indexOf('\t') >= 0 || line.indexOf('\r') >= 0 || line.indexOf('\v') >= 0 || line.indexOf('\f') >= 0
  );
}

/**
 * A streaming Drain-style log template miner: one line at a time in, its template out.
 * Memory grows with the number of templates (capped by `maxTemplates`), never with lines.
 */
export class TemplateMiner {
  readonly options: Readonly<Required<MinerOptions>>;
  private readonly root = new Map<number, Node>();
  private readonly byText = new Map<string, Cluster>();
  private readonly all = new Set<Cluster>();
  private lines = 0;
  private evicted = 0;
  private truncated = 0;
  private readonly prefixDepth: number;
  private readonly lineCache = new BoundedCache<LineEntry>(LINE_CACHE_SIZE, LINE_CACHE_CHARS, 2);
  private readonly shapeCache = new BoundedCache<Known>(SHAPE_CACHE_SIZE, SHAPE_CACHE_CHARS);
  private readonly scratchTokens: string[] = [];
  private readonly scratch: LineEntry = {
    tokens: [],
    cut: false,
    cluster: undefined,
    version: -1,
    cls: 0,
    sampled: false,
  };
  /**
   * Bumped whenever a template, the tree or a leaf changes: a line's cached template is only
   * reused while the version it was found at is current, so results are exactly those of a full search.
   */
  private version = 0;
  // Set by `split`: whether the last line split was cut.
  private lastCut = false;

  private readonly extra: RegExp[];

  /** Throws a SyntaxError when an `extraMasks` source is not a valid regular expression. */
  constructor(options: MinerOptions = {}) {
    this.options = Object.freeze({ ...DEFAULT_OPTIONS, ...options });
    this.prefixDepth = Math.max(0, this.options.depth - 2);
    this.extra = this.options.extraMasks.map((src) => new RegExp(src, 'g'));
  }

  /** Splits and masks a line as the miner sees it. */
  tokenize(content: string): string[] {
    const tokens = this.split(content);
    if (this.lastCut) this.truncated++;
    return tokens;
  }

  /**
   * Splits on spaces and classifies each token in one pass over the characters, with the same
   * result as the general path below: a plain number becomes `<*>` without its text ever being
   * cut out, a plain word is sliced once, anything else is masked in place by maskSimple (or by
   * maskToken, for the shapes that need a regular expression). Returns
   * undefined on other whitespace (tab, CR, VT, FF), which takes the general path.
   */
  private splitFast(line: string, tokens: string[]): string[] | undefined {
    const max = this.options.maxTokens;
    tokens.length = 0;
    const n = line.length;
    let start = 0;
    let digits = 0;
    let other = false;
    this.lastCut = false;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? line.charCodeAt(i) : 32;
      if (c !== 32) {
        if (c <= 61) {
          if (c >= 48 && c <= 57) digits++;
          else if (c === 47 || c === 58 || c === 61) other = true;
          else if (c === 9 || c === 11 || c === 12 || c === 13) return undefined;
        } else if (c === 64 || c === 92) other = true;
        continue;
      }
      const len = i - start;
      if (len > 0) {
        if (tokens.length === max - 1) {
          tokens.push(WILDCARD);
          this.lastCut = true;
          break;
        }
        if (len <= MAX_TOKEN_LENGTH && digits === len) tokens.push(WILDCARD);
        else if (len <= MAX_TOKEN_LENGTH && digits === 0 && !other) {
          const t = line.slice(start, i);
          tokens.push(len < 3 || len > 9 || !isValueWord(t) ? t : WILDCARD);
        } else tokens.push(maskSimple(line, start, i) ?? maskToken(line.slice(start, i)));
      }
      start = i + 1;
      digits = 0;
      other = false;
    }
    return tokens;
  }

  /** The tokens of a line, from the line cache when it was seen before; counts a cut line. */
  private entryOf(content: string): LineEntry {
    const e = this.cachedEntry(content) ?? this.scratchEntry(content);
    if (e.cut) this.truncated++;
    return e;
  }

  /** The line cache's entry for a line, kept now if it is to be; undefined for a line not kept. */
  private cachedEntry(content: string): LineEntry | undefined {
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

  /**
   * A line not kept: its entry and tokens are scratch, reused by the next such line (nothing keeps
   * them: a new template copies the tokens).
   */
  private scratchEntry(content: string): LineEntry {
    const e = this.scratch;
    e.tokens = this.split(content, this.scratchTokens);
    e.cut = this.lastCut;
    e.cluster = undefined;
    e.version = -1;
    return e;
  }

  /** Splits a line that missed the line cache and keeps it there. */
  private remember(content: string, cls: number, sampled: boolean): LineEntry {
    // Split the copy, so the cached tokens are views of it, not of the caller's buffer.
    const own = ownCopy(content);
    const e = { tokens: this.split(own), cut: this.lastCut, cluster: undefined, version: -1, cls, sampled };
    this.lineCache.put(own, e, own.length);
    return e;
  }

  /** The masked tokens of a line, written into `tokens` (emptied first) unless a list is collapsed. */
  private split(content: string, tokens: string[] = []): string[] {
    const o = this.options;
    let line = content;
    let cut = false;
    if (line.length > o.maxLineLength) {
      line = line.slice(0, o.maxLineLength);
      cut = true;
    }
    if (o.mask && this.extra.length === 0) {
      const fast = this.splitFast(line, tokens);
      if (fast !== undefined) {
        this.lastCut ||= cut;
        return collapseRuns(fast, MIN_LIST_RUN);
      }
    }
    tokens.length = 0;
    const max = o.maxTokens;
    // Splitting on single spaces is V8's fastest path; other whitespace takes the general one.
    const parts = hasOtherWhitespace(line) ? line.split(/\s+/) : line.split(' ');
    for (let i = 0; i < parts.length; i++) {
      let t = parts[i] as string;
      if (t.length === 0) continue;
      for (const re of this.extra) t = t.replace(re, WILDCARD);
      if (tokens.length === max - 1) {
        tokens.push(WILDCARD);
        cut = true;
        break;
      }
      const cls = o.mask ? classifyToken(t) : TokenClass.Word;
      if (cls !== TokenClass.Other) {
        tokens.push(cls === TokenClass.Word ? t : WILDCARD);
        continue;
      }
      tokens.push(maskToken(t));
    }
    this.lastCut = cut;
    return collapseRuns(tokens, MIN_LIST_RUN);
  }

  /**
   * Mines one line (the message body, without its header) and returns its template.
   * `timeMs`, when given, counts the line in the bucket of that time.
   */
  add(content: string, timeMs?: number): MatchResult {
    this.lines++;
    const version = this.version;
    let entry = this.cachedEntry(content);
    let shape: Known | undefined;
    if (entry === undefined) {
      // The same tokens (the same line with other values) seen at this very state: the same
      // answer, found by the line's shape without cutting the line into tokens. Only for a line
      // the line cache does not know: a line it knows, found stale, comes after a change that made
      // its shape stale too.
      const key = this.shapeKey(content);
      shape = key === undefined ? undefined : this.shapeOf(key);
      if (shape !== undefined && shape.version === version)
        return this.joined(shape.cluster as Cluster, timeMs);
      entry = this.scratchEntry(content);
    }
    if (entry.cut) this.truncated++;
    // Seen at this very state: the search and the generalisation would give the same answer.
    if (entry.version === version) return this.joined(entry.cluster as Cluster, timeMs);
    const tokens = entry.tokens;
    let cluster: Cluster | undefined;
    let change: MatchChange = 'none';
    let previousId: string | undefined;
    cluster = this.search(tokens);
    if (cluster === undefined) {
      cluster = this.create(tokens);
      change = 'created';
    } else {
      const before = cluster.id;
      cluster = this.generalise(cluster, tokens);
      if (cluster.id !== before) {
        change = 'updated';
        previousId = before;
      }
    }
    // Only a line that changed nothing may skip the search next time (a `created` that found its
    // text already held elsewhere in the tree changes nothing either, but must say `created` again).
    if (this.version === version && change === 'none') {
      entry.cluster = cluster;
      entry.version = version;
      if (shape !== undefined) {
        shape.cluster = cluster;
        shape.version = version;
      }
    }
    cluster.count++;
    cluster.last = this.lines;
    if (timeMs !== undefined && Number.isFinite(timeMs)) this.countAt(cluster, timeMs);
    if (change === 'created' && this.all.size > this.options.maxTemplates) this.evict(cluster);
    const result: MatchResult = { id: cluster.id, template: cluster.template, count: cluster.count, change };
    if (previousId !== undefined) result.previousId = previousId;
    return result;
  }

  /** Counts a line in a template it joins without changing anything. */
  private joined(cluster: Cluster, timeMs: number | undefined): MatchResult {
    cluster.count++;
    cluster.last = this.lines;
    if (timeMs !== undefined && Number.isFinite(timeMs)) this.countAt(cluster, timeMs);
    return { id: cluster.id, template: cluster.template, count: cluster.count, change: 'none' };
  }

  /**
   * What is known about a line's masked tokens (its shape), from the shape cache: lines that
   * differ only in their masked values share it, so a line never seen whole usually has.
   * Undefined while the cache is not consulted for this shape.
   */
  private shapeOf(key: string): Known | undefined {
    if (key.length > SHAPE_CACHE_MAX) return undefined;
    const cache = this.shapeCache;
    let known = cache.get(key);
    const sampled = inSample(key);
    if (sampled) cache.counted(0, known !== undefined);
    if (known === undefined && (sampled || cache.admits(0))) {
      known = { cluster: undefined, version: -1 };
      // The key may be the line itself: a view of the caller's buffer.
      const own = ownCopy(key);
      cache.put(own, known, own.length);
    }
    return known;
  }

  /**
   * A line's masked tokens joined by one space, built from the line itself (a plain word is never
   * cut out): the key of the shape cache. Undefined for a line that needs the general path (other
   * whitespace, a leading, trailing or double space, a list run, a cut, custom masks), which
   * then skips the shape cache.
   */
  private shapeKey(line: string): string | undefined {
    const o = this.options;
    const n = line.length;
    if (!o.mask || this.extra.length > 0 || n === 0 || n > o.maxLineLength) return undefined;
    if (line.charCodeAt(0) === 32 || line.charCodeAt(n - 1) === 32) return undefined;
    let key = '';
    let copied = 0;
    let count = 0;
    let run = 0;
    for (let start = 0; start < n;) {
      let digits = 0;
      let other = false;
      let i = start;
      for (; i < n; i++) {
        const c = line.charCodeAt(i);
        if (c <= 61) {
          if (c === 32) break;
          if (c >= 48 && c <= 57) digits++;
          else if (c === 47 || c === 58 || c === 61) other = true;
          else if (c === 9 || c === 11 || c === 12 || c === 13) return undefined;
        } else if (c === 64 || c === 92) other = true;
      }
      const len = i - start;
      if (len === 0 || ++count === o.maxTokens) return undefined;
      let masked: string | undefined;
      if (len <= MAX_TOKEN_LENGTH && digits === len) masked = WILDCARD;
      else if (len <= MAX_TOKEN_LENGTH && digits === 0 && !other) {
        if (isValueWordAt(line, start, i)) masked = WILDCARD;
      } else masked = maskSimple(line, start, i) ?? maskToken(line.slice(start, i));
      if (masked === WILDCARD) {
        if (++run === MIN_LIST_RUN) return undefined;
      } else run = 0;
      if (masked !== undefined) {
        key += line.slice(copied, start) + masked;
        copied = i;
      }
      start = i + 1;
    }
    return copied === 0 ? line : key + line.slice(copied);
  }

  /** The template a line would join, without learning from it; undefined when none is similar enough. */
  match(content: string): { id: string; template: string } | undefined {
    const e = this.entryOf(content);
    const c = e.version === this.version ? e.cluster : this.search(e.tokens);
    return c === undefined ? undefined : { id: c.id, template: c.template };
  }

  /** All templates, most frequent first (ties by template text, so the order is total). */
  templates(): TemplateInfo[] {
    const out: TemplateInfo[] = [];
    for (const c of this.all) {
      out.push({
        id: c.id,
        template: c.template,
        count: c.count,
        buckets: [...c.buckets].sort((a, b) => a[0] - b[0]),
      });
    }
    return out.sort(
      (a, b) => b.count - a.count || (a.template < b.template ? -1 : a.template > b.template ? 1 : 0),
    );
  }

  /** The template with this id, if the miner holds it. */
  get(id: string): TemplateInfo | undefined {
    for (const c of this.all) {
      if (c.id === id) {
        return {
          id: c.id,
          template: c.template,
          count: c.count,
          buckets: [...c.buckets].sort((a, b) => a[0] - b[0]),
        };
      }
    }
    return undefined;
  }

  stats(): MinerStats {
    return { lines: this.lines, templates: this.all.size, evicted: this.evicted, truncated: this.truncated };
  }

  /** The whole state as plain JSON, for {@link TemplateMiner.load}. */
  save(): MinerState {
    const clusters = [...this.all].map((c) => ({
      tokens: [...c.tokens],
      count: c.count,
      last: c.last,
      buckets: [...c.buckets].sort((a, b) => a[0] - b[0]),
    }));
    return { version: 1, options: { ...this.options }, stats: this.stats(), clusters };
  }

  /** Rebuilds a miner from {@link TemplateMiner.save}; a malformed state is an error value, not a throw. */
  static load(state: unknown): LoadResult {
    const s = state as Partial<MinerState> | null;
    if (s === null || typeof s !== 'object' || s.version !== 1 || !Array.isArray(s.clusters)) {
      return { ok: false, error: 'not a drain miner state (expected an object with version 1 and clusters)' };
    }
    let miner: TemplateMiner;
    try {
      miner = new TemplateMiner(typeof s.options === 'object' && s.options !== null ? s.options : {});
    } catch (err) {
      return { ok: false, error: `state options are invalid: ${(err as Error).message}` };
    }
    for (const [i, c] of s.clusters.entries()) {
      if (
        c === null ||
        typeof c !== 'object' ||
        !Array.isArray(c.tokens) ||
        !c.tokens.every((t) => typeof t === 'string') ||
        typeof c.count !== 'number'
      ) {
        return {
          ok: false,
          error: `cluster ${i} is malformed (expected tokens: string[] and count: number)`,
        };
      }
      const cluster = miner.create([...c.tokens]);
      cluster.count += c.count;
      cluster.last = typeof c.last === 'number' ? c.last : 0;
      if (Array.isArray(c.buckets)) {
        for (const b of c.buckets) {
          if (Array.isArray(b) && typeof b[0] === 'number' && typeof b[1] === 'number') {
            cluster.buckets.set(b[0], (cluster.buckets.get(b[0]) ?? 0) + b[1]);
          }
        }
      }
    }
    if (s.stats !== undefined && typeof s.stats === 'object') {
      miner.lines = Number(s.stats.lines) || 0;
      miner.evicted = Number(s.stats.evicted) || 0;
      miner.truncated = Number(s.stats.truncated) || 0;
    }
    return { ok: true, miner };
  }

  private countAt(cluster: Cluster, timeMs: number): void {
    const width = this.options.bucketMs;
    const start = Math.floor(timeMs / width) * width;
    const b = cluster.buckets;
    b.set(start, (b.get(start) ?? 0) + 1);
    if (b.size > this.options.maxBuckets) {
      let oldest = start;
      for (const k of b.keys()) if (k < oldest) oldest = k;
      b.delete(oldest);
    }
  }

  /** The tree key of a leading token: as in Drain, a token holding a digit or a variable shares the `<*>` branch. */
  private keyOf(token: string): string {
    for (let i = 0; i < token.length; i++) {
      const c = token.charCodeAt(i);
      if (c >= 48 && c <= 57) return WILDCARD;
    }
    return token.includes(WILDCARD) ? WILDCARD : token;
  }

  // The best candidate of the search in progress (fields, so the search allocates nothing).
  private best: Cluster | undefined;
  private bestSim = -1;
  private bestParams = -1;

  /** The most similar template among the leaves the line's prefix leads to: exact branch first, then `<*>`. */
  private search(tokens: string[]): Cluster | undefined {
    const first = this.root.get(tokens.length);
    if (first === undefined) return undefined;
    this.best = undefined;
    this.bestSim = -1;
    this.bestParams = -1;
    this.walk(first, tokens, 0, Math.min(this.prefixDepth, tokens.length));
    const best = this.best as Cluster | undefined;
    this.best = undefined;
    return best !== undefined && this.bestSim >= this.options.similarity ? best : undefined;
  }

  private walk(node: Node, tokens: string[], d: number, depth: number): void {
    if (d === depth) {
      this.score(node.clusters, tokens);
      return;
    }
    const key = this.keyOf(tokens[d] as string);
    const exact = node.children.get(key);
    if (exact !== undefined) this.walk(exact, tokens, d + 1, depth);
    if (key !== WILDCARD) {
      const wild = node.children.get(WILDCARD);
      if (wild !== undefined) this.walk(wild, tokens, d + 1, depth);
    }
  }

  private score(leaf: Cluster[], tokens: string[]): void {
    const n = tokens.length;
    for (let k = 0; k < leaf.length; k++) {
      const c = leaf[k] as Cluster;
      let sim = 0;
      let params = 0;
      let counted = n;
      const t = c.tokens;
      const kinds = c.kinds;
      for (let i = 0; i < n; i++) {
        const a = t[i] as string;
        const b = tokens[i] as string;
        if (a === b) {
          // Two masked values agree by construction: they say nothing about the template.
          if (b === WILDCARD) counted--;
          else sim++;
        } else if (kinds[i] === VARIABLE) params++;
        else if (kinds[i] === PATTERN && matchesPattern(a, b)) sim++;
      }
      const denom = counted - PARAM_WEIGHT * params;
      const s = denom <= 0 ? 1 : sim / denom;
      if (s > this.bestSim || (s === this.bestSim && params > this.bestParams)) {
        this.bestSim = s;
        this.bestParams = params;
        this.best = c;
      }
    }
  }

  private create(tokens: string[]): Cluster {
    const template = tokens.join(' ');
    const existing = this.byText.get(template);
    if (existing !== undefined) return existing;
    let node = this.root.get(tokens.length);
    if (node === undefined) {
      node = newNode();
      this.root.set(tokens.length, node);
    }
    const depth = Math.min(this.prefixDepth, tokens.length);
    for (let d = 0; d < depth; d++) {
      let key = this.keyOf(tokens[d] as string);
      if (!node.children.has(key) && key !== WILDCARD && node.children.size >= this.options.maxChildren - 1) {
        key = WILDCARD;
      }
      let child: Node | undefined = node.children.get(key);
      if (child === undefined) {
        child = newNode();
        node.children.set(key, child);
      }
      node = child;
    }
    this.version++;
    const cluster: Cluster = {
      // Own copies: the line's tokens may be views of the caller's read buffer.
      tokens: tokens.map(ownCopy),
      kinds: kindsOf(tokens),
      template,
      id: templateId(template),
      count: 0,
      last: this.lines,
      buckets: new Map(),
      leaf: node.clusters,
      alive: true,
    };
    node.clusters.push(cluster);
    this.byText.set(template, cluster);
    this.all.add(cluster);
    return cluster;
  }

  /** Generalises a template with a line; two templates that converge to one text are merged. */
  private generalise(cluster: Cluster, tokens: string[]): Cluster {
    const t = cluster.tokens;
    const kinds = cluster.kinds;
    let changed = false;
    for (let i = 0; i < t.length; i++) {
      const a = t[i] as string;
      const b = tokens[i] as string;
      if (a !== b && kinds[i] !== VARIABLE && !(kinds[i] === PATTERN && matchesPattern(a, b))) {
        t[i] = mergeTokens(a, b);
        changed = true;
      }
    }
    if (!changed) return cluster;
    this.version++;
    cluster.kinds = kindsOf(t);
    const template = t.join(' ');
    if (template === cluster.template) return cluster;
    this.byText.delete(cluster.template);
    const twin = this.byText.get(template);
    if (twin !== undefined) {
      // Converged: the older template absorbs this one, its counts and buckets.
      twin.count += cluster.count;
      for (const [k, v] of cluster.buckets) twin.buckets.set(k, (twin.buckets.get(k) ?? 0) + v);
      this.remove(cluster);
      return twin;
    }
    cluster.template = template;
    cluster.id = templateId(template);
    this.byText.set(template, cluster);
    return cluster;
  }

  private remove(cluster: Cluster): void {
    this.version++;
    cluster.alive = false;
    const i = cluster.leaf.indexOf(cluster);
    if (i >= 0) cluster.leaf.splice(i, 1);
    if (this.byText.get(cluster.template) === cluster) this.byText.delete(cluster.template);
    this.all.delete(cluster);
  }

  /** Drops the least recently seen tenth of the templates, sparing the one just created. */
  private evict(keep: Cluster): void {
    const victims = [...this.all]
      .filter((c) => c !== keep)
      .sort((a, b) => a.last - b.last)
      .slice(0, Math.max(1, Math.floor(this.options.maxTemplates / 10)));
    for (const c of victims) this.remove(c);
    this.evicted += victims.length;
  }
}
