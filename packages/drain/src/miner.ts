import { Answers, type Known, type LineEntry } from './answers.js';
import { absorbCounts, countAt, newCluster, widen, type Cluster } from './cluster.js';
import { Patterns, freeTextPartners, shownOf } from './group.js';
import { Tails } from './first-word.js';
import { WILDCARD } from './mask.js';
import { templateId } from './hash.js';
import { DEFAULT_OPTIONS, type MinerOptions } from './options.js';
import type { LoadResult, MatchChange, MatchResult, MinerState, MinerStats, TemplateInfo } from './types.js';
import { Tokenizer } from './tokenizer.js';
import { PrefixTree } from './tree.js';

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
  // The leaders by length in tokens that may still pair by free text (see freeTextPartners, which
  // drops those that no longer can): where a new template looks for one with another run of free text.
  private readonly byLength = new Map<number, Set<Cluster>>();
  // Each template's pattern (see group.ts): where a template or line finds its group.
  private readonly patterns = new Patterns();
  // Templates by the text after their first word: templates that differ only there (see byFirstWord).
  private readonly tails = new Tails();
  private lines = 0;
  /** The id of a cluster that a new template's group absorbed (see pairByFreeText), for the line's result. */
  private ended: string | undefined;
  private evicted = 0;
  private truncated = 0;
  private readonly answers = new Answers();
  private readonly scratchTokens: string[] = [];
  /**
   * Bumped whenever a template, the tree or a leaf changes: a line's cached template is only
   * reused while nothing its search looked at changed since (the stamps of the search, see
   * PrefixTree.stampOf, and `floor`), so results are exactly those of a full search.
   */
  private version = 0;
  /** The version of the last change that every cached answer depends on (an eviction). */
  private floor = 0;
  /** Throws a SyntaxError when an `extraMasks` source is not a valid regular expression. */
  constructor(options: MinerOptions = {}) {
    this.options = Object.freeze({ ...DEFAULT_OPTIONS, ...options });
    this.tree = new PrefixTree(this.options.depth, this.options.maxChildren, this.options.constantAfter);
    this.tokenizer = new Tokenizer(this.options);
  }

  /** Whether a cached answer is still the answer a search would give. */
  private current(k: Known): boolean {
    const v = k.version;
    return v >= k.word.v && v >= k.all.v && v >= this.floor;
  }

  /** Records a change to a cluster: the searches that may see it are stale. */
  private touch(c: Cluster): void {
    c.stamp.v = ++this.version;
  }

  /** Splits and masks a line as the miner sees it. */
  tokenize(content: string): string[] {
    const tokens = this.tokenizer.split(content);
    if (this.tokenizer.lastCut) this.truncated++;
    return tokens;
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
    const entry = this.answers.line(content);
    let shape: Known | undefined;
    if (entry !== undefined && this.current(entry)) {
      // Seen at this very state: the search and the generalisation would give the same answer.
      if (entry.cut) this.truncated++;
      return this.joined(entry.cluster as Cluster, timeMs);
    }
    if (entry === undefined || entry.n < 0) {
      // The same tokens (the same line with other values) seen at this very state: the same
      // answer, found by the line's shape without cutting the line into tokens. Only for a line
      // the line cache does not know (or has just kept): a line it knows, found stale, comes after
      // a change to the templates of its length that made its shape stale too.
      const t = this.tokenizer;
      shape = t.shapeHash(content) ? this.answers.shape(t.lastHash, t.lastCheck, t.lastCount) : undefined;
      if (shape !== undefined && this.current(shape)) {
        if (entry !== undefined) {
          // A shape has no key for a cut line.
          entry.cluster = shape.cluster;
          entry.version = shape.version;
          entry.word = shape.word;
          entry.all = shape.all;
          entry.n = shape.n;
        }
        return this.joined(shape.cluster as Cluster, timeMs);
      }
    }
    const tokens = this.tokensOf(content, entry);
    let cluster: Cluster | undefined;
    let change: MatchChange = 'none';
    let previousId: string | undefined;
    cluster = this.tree.search(tokens, this.options.similarity);
    if (cluster === undefined) {
      cluster = this.create(tokens);
      change = cluster.leader === undefined ? 'created' : 'updated';
      previousId = this.ended;
      this.ended = undefined;
    } else {
      const found = cluster;
      const before = leaderOf(cluster);
      const id = before.id;
      const template = shown(before);
      cluster = this.generalise(cluster, tokens);
      const after = leaderOf(cluster);
      if (after.id !== id) previousId = id;
      else if (found.unannounced) {
        // A member whose id ended with no line to say so (see byFirstWord): this line says it.
        previousId = found.id;
        found.unannounced = false;
        change = 'updated';
      }
      if (after.id !== id || shown(after) !== template) change = 'updated';
    }
    // Only a line that changed nothing may skip the search next time (a `created` that found its
    // text already held elsewhere in the tree changes nothing either, but must say `created` again).
    if (this.version === version && change === 'none' && (entry !== undefined || shape !== undefined)) {
      const word = this.tree.stampOf(tokens);
      const all = this.tree.allStampOf(tokens.length);
      if (entry !== undefined) {
        entry.cluster = cluster;
        entry.version = version;
        entry.word = word;
        entry.all = all;
        entry.n = tokens.length;
      }
      if (shape !== undefined && shape.n === tokens.length) {
        shape.cluster = cluster;
        shape.version = version;
        shape.word = word;
        shape.all = all;
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

  /** The template a line would join, without learning from it; undefined when none is similar enough. */
  match(content: string): { id: string; template: string } | undefined {
    const e = this.answers.line(content);
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
    const cluster = newCluster(
      tokens,
      template,
      id !== undefined && !this.byId.has(id) ? id : this.freshId(template),
      leaf,
      this.tree.lastStamp,
      this.lines,
    );
    this.touch(cluster);
    if (this.tree.lastBranched !== undefined) this.tree.lastBranched.v = this.version;
    leaf.push(cluster);
    this.byText.set(template, cluster);
    this.byId.set(cluster.id, cluster);
    this.all.add(cluster);
    this.lengthSet(tokens.length).add(cluster);
    this.tails.file(cluster);
    const leader = this.patterns.refile(cluster, group);
    if (leader !== undefined) this.join(cluster, leader, -1);
    else if (group) {
      // A line whose run of words is a variable that another length's template holds as `<*>`.
      const gap = this.patterns.gapLeader(tokens);
      if (gap !== undefined) this.join(cluster, gap.leader, gap.run);
      else if (this.options.constantAfter > 0) {
        const c = this.pairByFreeText(cluster);
        return c === cluster && c.leader === undefined && c.alive ? this.byFirstWord(c) : c;
      }
    }
    return cluster;
  }

  /**
   * A new template that differs from templates of its length only in its first word, when they
   * hold at least three words there (eight, when the rest holds fewer than three words), is one
   * group with them: the oldest takes `<*>` as its first
   * token and leads (Brain: a position that takes many values is a variable; the tree cannot look
   * across a first word, which routes every search). A later template with the same text after
   * another first word joins that group.
   */
  private byFirstWord(c: Cluster): Cluster {
    const p = this.tails.partners(c);
    if (p === undefined) return c;
    if (p.leader !== undefined) {
      this.join(c, p.leader, -1);
      return c;
    }
    const others = p.others as Cluster[];
    const oldest = others[0] as Cluster;
    const lead = this.generalise(oldest, [WILDCARD, ...oldest.tokens.slice(1)]);
    if (lead.leader !== undefined || !lead.alive) return c;
    for (const d of [...others.slice(1), c]) {
      if (d === lead || d.leader !== undefined || d.members.length > 0 || !d.alive) continue;
      this.join(d, lead, -1);
      if (d === c) continue;
      // One ended id is announced with this line, the others with the next line of each.
      if (this.ended !== undefined) d.unannounced = true;
      else this.ended = d.id;
    }
    return c;
  }

  private lengthSet(n: number): Set<Cluster> {
    let set = this.byLength.get(n);
    if (set === undefined) this.byLength.set(n, (set = new Set()));
    return set;
  }

  /**
   * A new template and two or more others of other lengths that differ from it only in a run of
   * words between the same words (see freeTextRun) become one group, the runs taken as the
   * variable: `reason: disk full end`, `reason: quota exceeded for user end`, `reason: timeout
   * end`. Two alone are not enough: in Loghub-2k, `Task succeeded with attempt <*>` and `Task
   * cleanup failed for attempt <*>` are two events, and only a position that takes many values is
   * a variable (Brain). Returns the cluster the line ends in.
   */
  private pairByFreeText(c: Cluster): Cluster {
    const n = c.tokens.length;
    const pair = freeTextPartners(c.tokens, this.byLength, this.options.constantAfter);
    if (pair === undefined) return c;
    const { a, b, from, after } = pair;
    const widened = (t: string[]): string[] =>
      t.map((x, i) => (i >= from && i < t.length - after ? WILDCARD : x));
    const wa = widened(a.tokens);
    const wb = widened(b.tokens);
    // Only where the two become one group and nothing else: no other template holds either text.
    if (this.byText.has(wa.join(' ')) || this.byText.has(wb.join(' '))) return c;
    const holder = this.patterns.holder(wa);
    if (holder !== undefined && holder !== a && holder !== b) return c;
    const shift = a.tokens.length - n;
    // The line's template takes the run, and the `<*>` the first other holds around it, as variables.
    const own = c.tokens.map((x, i) =>
      i >= from && i < n - after ? WILDCARD : a.tokens[i < from ? i : i + shift] === WILDCARD ? WILDCARD : x,
    );
    this.generalise(a, wa);
    this.generalise(b, wb);
    // The one of the two that joined the other's group ends; its lines are the group's now.
    for (const d of [a, b]) if (leaderOf(d) !== d && d.id !== leaderOf(d).id) this.ended = d.id;
    return c.leader !== undefined || !c.alive ? c : this.generalise(c, own);
  }

  /** Makes `member` a member of `leader`'s group: its id ends (as in a merge), its counts go to the leader. */
  private join(member: Cluster, leader: Cluster, gapRun: number): void {
    this.touch(member);
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
    this.touch(cluster);
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
    this.tails.file(cluster);
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
    this.floor = ++this.version;
    for (const c of [cluster, ...cluster.members]) {
      c.alive = false;
      const i = c.leaf.indexOf(c);
      if (i >= 0) c.leaf.splice(i, 1);
      if (this.byText.get(c.template) === c) this.byText.delete(c.template);
      this.patterns.forget(c);
      this.tails.forget(c);
    }
    if (this.byId.get(cluster.id) === cluster) this.byId.delete(cluster.id);
    this.all.delete(cluster);
    for (const c of [cluster, ...cluster.members]) this.byLength.get(c.tokens.length)?.delete(c);
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
