import { BoundedCache, inSample, ownCopy } from './cache.js';
import { absorbCounts, countAt, newCluster, widen, type Cluster } from './cluster.js';
import { Patterns, shownOf } from './group.js';
import { templateId } from './hash.js';
import { DEFAULT_OPTIONS, type MinerOptions } from './options.js';
import type { LoadResult, MatchChange, MatchResult, MinerState, MinerStats, TemplateInfo } from './types.js';
import { Tokenizer } from './tokenizer.js';
import { PrefixTree } from './tree.js';

/**
 * The template a line (or a shape of line) joined without changing anything, valid while the
 * state version is `version`.
 */
interface Known {
  cluster: Cluster | undefined;
  version: number;
  /** The line's number of tokens, whose templates alone a search looks at (-1: not known yet). */
  n: number;
}

/**
 * What the miner knows about one line it has seen: the template it joined. Not its tokens: a line
 * whose template is stale is split again (rare once templates settle), and holding every cached
 * line's tokens cost more memory than the line itself.
 */
interface LineEntry extends Known {
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
const SHAPE_CACHE_SIZE = 1 << 16;
const SHAPE_CACHE_CHARS = 1 << 23;
const SHAPE_CACHE_MAX = 1024;
const DIGIT = /[0-9]/;

/** The cluster whose id and counts a cluster's lines get: its group's leader, or itself. */
const leaderOf = (c: Cluster): Cluster => c.leader ?? c;
/** The template a leader shows. */
const shown = (c: Cluster): string => c.shown ?? c.template;

/**
 * A streaming Drain-style log template miner: one line at a time in, its template out.
 * Memory grows with the number of templates (capped by `maxTemplates`), never with lines.
 */
export class TemplateMiner {
  readonly options: Readonly<Required<MinerOptions>>;
  private readonly tree: PrefixTree;
  private readonly tokenizer: Tokenizer;
  private readonly byText = new Map<string, Cluster>();
  private readonly byId = new Map<string, Cluster>();
  // Ids of clusters merged into another: never handed out again, so a consumer that followed a
  // merge (previousId -> id) is never misled. Merges are rare (tens per thousand templates).
  private readonly retired = new Set<string>();
  private readonly all = new Set<Cluster>();
  // Each template's pattern (see group.ts): where a template or line finds its group.
  private readonly patterns = new Patterns();
  private lines = 0;
  private evicted = 0;
  private truncated = 0;
  private readonly lineCache = new BoundedCache<LineEntry>(LINE_CACHE_SIZE, LINE_CACHE_CHARS, 2);
  private readonly shapeCache = new BoundedCache<Known>(SHAPE_CACHE_SIZE, SHAPE_CACHE_CHARS);
  private readonly scratchTokens: string[] = [];
  /**
   * Bumped whenever a template, the tree or a leaf changes: a line's cached template is only
   * reused while the version it was found at is current, so results are exactly those of a full search.
   */
  private version = 0;
  /**
   * The version at which the templates of each length (in tokens) last changed: a search looks only
   * at templates of the line's length, so a change elsewhere leaves a cached answer valid. On the
   * long fresh corpus (bench/drain-long.mjs) one global version sent a third of the lines back to
   * the tree search, each change of any template making every cached shape stale.
   */
  private readonly stamps: number[];
  /** Throws a SyntaxError when an `extraMasks` source is not a valid regular expression. */
  constructor(options: MinerOptions = {}) {
    this.options = Object.freeze({ ...DEFAULT_OPTIONS, ...options });
    this.tree = new PrefixTree(this.options.depth, this.options.maxChildren, this.options.constantAfter);
    this.tokenizer = new Tokenizer(this.options);
    this.stamps = new Array<number>(this.options.maxTokens + 2).fill(0);
  }

  /** Whether a cached answer is still the answer a search would give. */
  private current(k: Known): boolean {
    return k.n >= 0 && k.version === this.stamps[k.n];
  }

  /** Records a change to the templates of `n` tokens. */
  private touch(n: number): void {
    this.stamps[n] = ++this.version;
  }

  /** Splits and masks a line as the miner sees it. */
  tokenize(content: string): string[] {
    const tokens = this.tokenizer.split(content);
    if (this.tokenizer.lastCut) this.truncated++;
    return tokens;
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

  /** Keeps a line that missed the line cache (a copy, not a view of the caller's buffer). */
  private remember(content: string, cls: number, sampled: boolean): LineEntry {
    const own = ownCopy(content);
    const e: LineEntry = { cut: false, cluster: undefined, version: -1, n: -1, cls, sampled };
    this.lineCache.put(own, e, own.length);
    return e;
  }

  /** A line's masked tokens, in a scratch array reused by the next line (a new cluster copies them). */
  private tokensOf(content: string, entry: LineEntry | undefined): string[] {
    const tokens = this.tokenizer.split(content, this.scratchTokens);
    const cut = this.tokenizer.lastCut;
    if (cut) this.truncated++;
    if (entry !== undefined) entry.cut = cut;
    return tokens;
  }

  /**
   * Mines one line (the message body, without its header) and returns its template.
   * `timeMs`, when given, counts the line in the bucket of that time.
   */
  add(content: string, timeMs?: number): MatchResult {
    this.lines++;
    const version = this.version;
    const entry = this.cachedEntry(content);
    let shape: Known | undefined;
    if (entry !== undefined && this.current(entry)) {
      // Seen at this very state: the search and the generalisation would give the same answer.
      if (entry.cut) this.truncated++;
      return this.joined(entry.cluster as Cluster, timeMs);
    }
    if (entry === undefined) {
      // The same tokens (the same line with other values) seen at this very state: the same
      // answer, found by the line's shape without cutting the line into tokens. Only for a line
      // the line cache does not know: a line it knows, found stale, comes after a change to the
      // templates of its length that made its shape stale too.
      const key = this.tokenizer.shapeKey(content);
      shape = key === undefined ? undefined : this.shapeOf(key, this.tokenizer.lastCount);
      if (shape !== undefined && this.current(shape)) return this.joined(shape.cluster as Cluster, timeMs);
    }
    const tokens = this.tokensOf(content, entry);
    let cluster: Cluster | undefined;
    let change: MatchChange = 'none';
    let previousId: string | undefined;
    cluster = this.tree.search(tokens, this.options.similarity);
    if (cluster === undefined) {
      cluster = this.create(tokens);
      change = cluster.leader === undefined ? 'created' : 'updated';
    } else {
      const before = leaderOf(cluster);
      const id = before.id;
      const template = shown(before);
      cluster = this.generalise(cluster, tokens);
      const after = leaderOf(cluster);
      if (after.id !== id) previousId = id;
      if (after.id !== id || shown(after) !== template) change = 'updated';
    }
    // Only a line that changed nothing may skip the search next time (a `created` that found its
    // text already held elsewhere in the tree changes nothing either, but must say `created` again).
    if (this.version === version && change === 'none') {
      const stamp = this.stamps[tokens.length] as number;
      if (entry !== undefined) {
        entry.cluster = cluster;
        entry.version = stamp;
        entry.n = tokens.length;
      }
      if (shape !== undefined && shape.n === tokens.length) {
        shape.cluster = cluster;
        shape.version = stamp;
      }
    }
    cluster.last = this.lines;
    const g = leaderOf(cluster);
    g.count++;
    g.last = this.lines;
    if (timeMs !== undefined && Number.isFinite(timeMs))
      countAt(g, timeMs, this.options.bucketMs, this.options.maxBuckets);
    if (change === 'created' && this.all.size > this.options.maxTemplates) this.evict(g);
    const result: MatchResult = { id: g.id, template: shown(g), count: g.count, change };
    if (previousId !== undefined) result.previousId = previousId;
    return result;
  }

  /** Counts a line in a template it joins without changing anything. */
  private joined(cluster: Cluster, timeMs: number | undefined): MatchResult {
    cluster.last = this.lines;
    const g = leaderOf(cluster);
    g.count++;
    g.last = this.lines;
    if (timeMs !== undefined && Number.isFinite(timeMs))
      countAt(g, timeMs, this.options.bucketMs, this.options.maxBuckets);
    return { id: g.id, template: shown(g), count: g.count, change: 'none' };
  }

  /**
   * What is known about a line's masked tokens (its shape), from the shape cache: lines that
   * differ only in their masked values share it, so a line never seen whole usually has.
   * Undefined while the cache is not consulted for this shape.
   */
  private shapeOf(key: string, n: number): Known | undefined {
    if (key.length > SHAPE_CACHE_MAX) return undefined;
    const cache = this.shapeCache;
    let known = cache.get(key);
    const sampled = inSample(key);
    if (sampled) cache.counted(0, known !== undefined);
    if (known === undefined && (sampled || cache.admits(0))) {
      known = { cluster: undefined, version: -1, n };
      // The key may be the line itself: a view of the caller's buffer.
      const own = ownCopy(key);
      cache.put(own, known, own.length);
    }
    return known;
  }

  /** The template a line would join, without learning from it; undefined when none is similar enough. */
  match(content: string): { id: string; template: string } | undefined {
    const e = this.cachedEntry(content);
    let c: Cluster | undefined;
    if (e !== undefined && this.current(e)) {
      if (e.cut) this.truncated++;
      c = e.cluster;
    } else c = this.tree.search(this.tokensOf(content, e), this.options.similarity);
    return c === undefined ? undefined : { id: leaderOf(c).id, template: shown(leaderOf(c)) };
  }

  /** All templates, most frequent first (ties by template text, so the order is total). */
  templates(): TemplateInfo[] {
    const out: TemplateInfo[] = [];
    for (const c of this.all) {
      out.push({
        id: c.id,
        template: shown(c),
        count: c.count,
        buckets: [...c.buckets].sort((a, b) => a[0] - b[0]),
      });
    }
    return out.sort(
      (a, b) => b.count - a.count || (a.template < b.template ? -1 : a.template > b.template ? 1 : 0),
    );
  }

  /** The cluster with this id, if the miner holds it. */
  get(id: string): TemplateInfo | undefined {
    const c = this.byId.get(id);
    if (c === undefined) return undefined;
    return {
      id: c.id,
      template: shown(c),
      count: c.count,
      buckets: [...c.buckets].sort((a, b) => a[0] - b[0]),
    };
  }

  stats(): MinerStats {
    return { lines: this.lines, templates: this.all.size, evicted: this.evicted, truncated: this.truncated };
  }

  /** The whole state as plain JSON, for {@link TemplateMiner.load}. */
  save(): MinerState {
    const clusters: MinerState['clusters'] = [];
    for (const c of this.all) {
      for (const k of [c, ...c.members]) {
        clusters.push({
          id: k.id,
          tokens: [...k.tokens],
          count: k.count,
          last: k.last,
          buckets: [...k.buckets].sort((a, b) => a[0] - b[0]),
          ...(k === c ? {} : { into: c.id, gapRun: k.gapRun }),
        });
      }
    }
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
    const members: Array<[Cluster, string, number]> = [];
    for (const [i, c] of s.clusters.entries()) {
      if (
        c === null ||
        typeof c !== 'object' ||
        !Array.isArray(c.tokens) ||
        !c.tokens.every((t) => typeof t === 'string') ||
        typeof c.count !== 'number' ||
        (c.id !== undefined && typeof c.id !== 'string')
      ) {
        return {
          ok: false,
          error: `cluster ${i} is malformed (expected tokens: string[], count: number and an optional id: string)`,
        };
      }
      const cluster = miner.create([...c.tokens], c.id, false);
      if (typeof c.into === 'string')
        members.push([cluster, c.into, typeof c.gapRun === 'number' ? c.gapRun : -1]);
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
    for (const [m, into, gapRun] of members) {
      const leader = miner.byId.get(into);
      if (leader !== undefined && leader !== m && leader.leader === undefined && m.members.length === 0)
        miner.join(m, leader, gapRun);
    }
    if (s.stats !== undefined && typeof s.stats === 'object') {
      miner.lines = Number(s.stats.lines) || 0;
      miner.evicted = Number(s.stats.evicted) || 0;
      miner.truncated = Number(s.stats.truncated) || 0;
    }
    return { ok: true, miner };
  }

  /**
   * A new cluster for these tokens (or the one that has this template already), in the group of
   * its pattern when there is one; `id` and no grouping when loading.
   */
  private create(tokens: string[], id?: string, group = true): Cluster {
    const template = tokens.join(' ');
    const existing = this.byText.get(template);
    if (existing !== undefined) return existing;
    const leaf = this.tree.leafFor(tokens);
    this.touch(tokens.length);
    const cluster = newCluster(
      tokens,
      template,
      id !== undefined && !this.byId.has(id) ? id : this.freshId(template),
      leaf,
      this.lines,
    );
    leaf.push(cluster);
    this.byText.set(template, cluster);
    this.byId.set(cluster.id, cluster);
    this.all.add(cluster);
    const leader = this.patterns.refile(cluster, group);
    if (leader !== undefined) this.join(cluster, leader, -1);
    else if (group) {
      // A line whose run of words is a variable that another length's template holds as `<*>`.
      const gap = this.patterns.gapLeader(tokens);
      if (gap !== undefined) this.join(cluster, gap.leader, gap.run);
    }
    return cluster;
  }

  /** Makes `member` a member of `leader`'s group: its id ends (as in a merge), its counts go to the leader. */
  private join(member: Cluster, leader: Cluster, gapRun: number): void {
    this.touch(member.tokens.length);
    member.leader = leader;
    member.gapRun = gapRun;
    leader.members.push(member);
    absorbCounts(leader, member);
    member.count = 0;
    member.buckets.clear();
    leader.last = Math.max(leader.last, member.last);
    this.all.delete(member);
    if (this.byId.get(member.id) === member) this.byId.delete(member.id);
    this.retired.add(member.id);
    this.patterns.forget(member);
    leader.shown = shownOf(leader);
  }

  /** Generalises a template with a line; two templates that converge to one text are merged. */
  private generalise(cluster: Cluster, tokens: string[]): Cluster {
    if (!widen(cluster, tokens)) return cluster;
    this.touch(cluster.tokens.length);
    const t = cluster.tokens;
    const template = t.join(' ');
    if (template === cluster.template) return cluster;
    if (this.byText.get(cluster.template) === cluster) this.byText.delete(cluster.template);
    const twin = this.byText.get(template);
    const leader = cluster.leader;
    if (twin !== undefined && leader === undefined && leaderOf(twin) !== cluster) {
      // Converged: the older template's group absorbs this one, its counts, buckets and members.
      const into = leaderOf(twin);
      absorbCounts(into, cluster);
      for (const m of cluster.members) {
        m.leader = into;
        into.members.push(m);
      }
      cluster.members = [];
      this.remove(cluster);
      this.retired.add(cluster.id);
      if (into.members.length > 0) into.shown = shownOf(into);
      return into;
    }
    cluster.template = template;
    // A member whose text another template holds keeps routing its lines; the text stays the other's.
    if (twin === undefined) this.byText.set(template, cluster);
    if (leader !== undefined) leader.shown = shownOf(leader);
    else {
      const y = this.patterns.refile(cluster, true);
      if (y !== undefined) this.join(cluster, y, -1);
      else if (cluster.members.length > 0) cluster.shown = shownOf(cluster);
    }
    return cluster;
  }

  /**
   * The id of a cluster created with this template: its hash, unless a live or merged cluster
   * holds that id already (one created with the same text, since generalised), then the hash of
   * the text with a counter.
   */
  private freshId(template: string): string {
    let id = templateId(template);
    for (let k = 1; this.byId.has(id) || this.retired.has(id); k++) id = templateId(`${template}\n${k}`);
    return id;
  }

  /** Drops a cluster, and the members of its group, from the tree and every index. */
  private remove(cluster: Cluster): void {
    this.stamps.fill(++this.version);
    for (const c of [cluster, ...cluster.members]) {
      c.alive = false;
      const i = c.leaf.indexOf(c);
      if (i >= 0) c.leaf.splice(i, 1);
      if (this.byText.get(c.template) === c) this.byText.delete(c.template);
      this.patterns.forget(c);
    }
    if (this.byId.get(cluster.id) === cluster) this.byId.delete(cluster.id);
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
