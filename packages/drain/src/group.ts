import type { Cluster } from './cluster.js';
import { WILDCARD } from './mask.js';

/**
 * Templates of different lengths that are one event with a variable spanning a varying number of
 * tokens (`reason: <*> end`, `reason: <*> <*> end`): Drain's tree keeps lines of each length apart,
 * and Loghub's ground truth writes one `<*>` for such a run. Spell (Du and Li, ICDM 2016) and Brain
 * (Yu et al., 2023) group by a common pattern instead of by length; here the miner keeps its tree
 * and joins the clusters of one pattern into a group: the oldest is the leader, whose id and counts
 * the group's lines get, and the others are members that route lines of their length to it.
 */

/** Most tokens a variable run may take in a line found to belong to another length's template. */
export const MAX_GAP = 8;
/** Longest line (in tokens) looked at for a gap: the search costs lines x MAX_GAP string joins. */
export const MAX_GAP_LINE = 64;
/** Fewest tokens that must agree around a run of free text for two templates to be paired by it. */
export const MIN_PAIR_CONTEXT = 3;
/** The anchor of a run that ends the line (no token is empty): it has no word after it. */
const END = '';

/** A template's pattern: its tokens with each run of `<*>` written once. */
export function runKey(tokens: readonly string[]): string {
  let key = '';
  let prevWild = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    const wild = t === WILDCARD;
    if (wild && prevWild) continue;
    key = i === 0 ? t : `${key} ${t}`;
    prevWild = wild;
  }
  return key;
}

/** The lengths of the runs of `<*>` of a template, in order. */
export function runLengths(tokens: readonly string[]): number[] {
  const out: number[] = [];
  let run = 0;
  for (const t of tokens) {
    if (t === WILDCARD) run++;
    else if (run > 0) {
      out.push(run);
      run = 0;
    }
  }
  if (run > 0) out.push(run);
  return out;
}

/**
 * The anchors of a pattern: for each `<*>` between two words, the two words (`reason:` and `end`
 * for `job <*> failed reason: <*> end`). A line's gap can only give a pattern held by some
 * template when the words around the gap are an anchor of one, which is checked first: building
 * the pattern of every gap of every new line cost 5% of the miner's time on long fresh lines. A
 * pattern that ends in `<*>` after a word has the anchor (that word, END).
 */
export function anchorsOf(key: string): Array<[string, string]> {
  const t = key.split(' ');
  const out: Array<[string, string]> = [];
  for (let k = 1; k < t.length - 1; k++) {
    if (t[k] === WILDCARD && t[k - 1] !== WILDCARD && t[k + 1] !== WILDCARD)
      out.push([t[k - 1] as string, t[k + 1] as string]);
  }
  const n = t.length;
  if (n >= 2 && t[n - 1] === WILDCARD && t[n - 2] !== WILDCARD) out.push([t[n - 2] as string, END]);
  return out;
}

/** Anchors counted by the word before the gap, then the word after it. */
export type Anchors = Map<string, Map<string, number>>;

/** Counts (`by` 1) or uncounts (`by` -1) the anchors of a pattern. */
export function countAnchors(anchors: Anchors, key: string, by: number): void {
  for (const [a, b] of anchorsOf(key)) {
    let after = anchors.get(a);
    if (after === undefined) anchors.set(a, (after = new Map()));
    const k = (after.get(b) ?? 0) + by;
    if (k > 0) after.set(b, k);
    else {
      after.delete(b);
      if (after.size === 0) anchors.delete(a);
    }
  }
}

/**
 * Calls `found` with the pattern of a line whose tokens `[i, j)` are taken as one variable, for
 * every such gap of 1 to {@link MAX_GAP} tokens between two words that are one of `anchors`, or
 * of 1 to {@link MAX_GAP} words (no value: a trailing list is not free text) that end the line
 * after a word whose pattern ends in `<*>`, and the index of that variable among the pattern's
 * runs. Stops when `found` returns true.
 */
export function forEachGap(
  tokens: readonly string[],
  anchors: Anchors,
  found: (key: string, run: number) => boolean,
): void {
  const n = tokens.length;
  if (n < 3 || n > MAX_GAP_LINE) return;
  const gaps: number[] = [];
  for (let i = 1; i < n - 1; i++) {
    if (tokens[i - 1] === WILDCARD) continue;
    const after = anchors.get(tokens[i - 1] as string);
    if (after === undefined) continue;
    for (let j = i + 1; j < n && j - i <= MAX_GAP; j++) if (after.has(tokens[j] as string)) gaps.push(i, j);
    // A run of words that ends the line, where another length's template ends in `<*>`.
    if (n - i <= MAX_GAP && after.has(END)) {
      let words = true;
      for (let k = i; k < n && words; k++) words = isWordToken(tokens[k] as string);
      if (words) gaps.push(i, n);
    }
  }
  // Built per candidate: a line has few, and the patterns of every prefix and suffix cost more.
  for (let g = 0; g < gaps.length; g += 2) {
    const i = gaps[g] as number;
    const j = gaps[g + 1] as number;
    const key = runKey([...tokens.slice(0, i), WILDCARD, ...tokens.slice(j)]);
    if (found(key, runLengths(tokens.slice(0, i)).length)) return;
  }
}

/** Whether a template token is a word a run of free text can hold (no value, no `<*>`). */
function isWordToken(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 42) return false;
  }
  return true;
}

/**
 * Where two token lists of different lengths are one event with a run of free text between the
 * same two words: the tokens before the run (`p`) and after it (`s`) agree (a `<*>` of the
 * template `b` agrees with anything), the runs are 1 to {@link MAX_GAP} words each and differ,
 * and at least {@link MIN_PAIR_CONTEXT} tokens agree around them. Returns the run's start in
 * both and its end in `a` and in `b`, or undefined. This is how two templates that each hold a
 * different run of words as they are (each seen once, so neither has generalised it to `<*>`)
 * find one another, which the anchors of {@link Patterns.gapLeader} cannot.
 */
export function freeTextRun(
  a: readonly string[],
  b: readonly string[],
): { from: number; toA: number; toB: number } | undefined {
  const na = a.length;
  const nb = b.length;
  if (na === nb || na > MAX_GAP_LINE || nb > MAX_GAP_LINE) return undefined;
  const agree = (x: string, y: string): boolean => x === y || y === WILDCARD;
  let p = 0;
  const max = Math.min(na, nb) - 1;
  while (p < max && agree(a[p] as string, b[p] as string)) p++;
  let s = 0;
  while (s < max - p && agree(a[na - 1 - s] as string, b[nb - 1 - s] as string)) s++;
  if (p === 0 || p + s < MIN_PAIR_CONTEXT) return undefined;
  const toA = na - s;
  const toB = nb - s;
  if (toA - p > MAX_GAP || toB - p > MAX_GAP) return undefined;
  // The tokens around the run are words, as the anchors of a pattern are.
  if (!isWordToken(a[p - 1] as string) || (s > 0 && !isWordToken(a[toA] as string))) return undefined;
  for (let i = p; i < toA; i++) if (!isWordToken(a[i] as string)) return undefined;
  for (let i = p; i < toB; i++) if (!isWordToken(b[i] as string)) return undefined;
  return { from: p, toA, toB };
}

// Other templates a new one must find with another run of free text in the same place to group
// with them: two alone stay apart (see the miner's pairByFreeText).
const MIN_FREE_TEXT_PARTNERS = 2;

/**
 * Two leaders of two other lengths, neither grouped nor past `constantAfter` lines, that agree with
 * `tokens` around a run of words starting at `from` and followed by `after` agreeing tokens (see
 * {@link freeTextRun}); undefined when there are not two. `byLength` holds the candidates by
 * length, in the order they were made; a cluster that can no longer be one is dropped from it.
 */
export function freeTextPartners(
  tokens: readonly string[],
  byLength: ReadonlyMap<number, Set<Cluster>>,
  constantAfter: number,
): { a: Cluster; b: Cluster; from: number; after: number } | undefined {
  const n = tokens.length;
  const first = tokens[0];
  // Partners by where their run starts, each with the tokens that agree after its run.
  const byContext = new Map<number, Array<{ d: Cluster; after: number }>>();
  let found: Array<{ d: Cluster; after: number }> | undefined;
  let from = 0;
  for (let m = Math.max(1, n - MAX_GAP + 1); m < n + MAX_GAP && found === undefined; m++) {
    const set = m === n ? undefined : byLength.get(m);
    if (set === undefined) continue;
    for (const d of set) {
      // A run that held the same words for `constantAfter` lines is constant text (Brain: a
      // position's frequent value is a constant): `Bye Bye` and `Closed due to user request.`
      // after `Received disconnect from <*>: <*>:` are two events in OpenSSH.
      if (d.leader !== undefined || d.members.length > 0 || !d.alive || d.count >= constantAfter) {
        // None of these ever changes back (a count only grows, a member or a leader stays one):
        // the cluster is never a partner again, and the others keep their order.
        set.delete(d);
        continue;
      }
      // The first tokens must agree (freeTextRun's test, at a fraction of its cost; the last may
      // not, the run may end the line).
      const t = d.tokens;
      if (t[0] !== first && t[0] !== WILDCARD) continue;
      const run = freeTextRun(tokens, t);
      if (run === undefined) continue;
      let partners = byContext.get(run.from);
      if (partners === undefined) byContext.set(run.from, (partners = []));
      // Two of one length would converge into one template, and one of their ids end unannounced.
      if (partners.some((q) => q.d.tokens.length === m)) continue;
      partners.push({ d, after: n - run.toA });
      if (partners.length >= MIN_FREE_TEXT_PARTNERS) {
        found = partners;
        from = run.from;
        break;
      }
    }
  }
  if (found === undefined) return undefined;
  const [a, b] = found as [{ d: Cluster; after: number }, { d: Cluster; after: number }];
  // The run ends where it ends in both: a run's last word that happens to be the other's (`...
  // kakagri end` and `... kakagri end`) is part of it.
  return { a: a.d, b: b.d, from, after: Math.min(a.after, b.after) };
}

/**
 * Whether two templates of one pattern differ only in runs that lie between two words or end the
 * template (free text at the end of a line: a reason, a message); a run at the start whose length
 * differs is not taken as the same variable.
 */
export function enclosedRunsDiffer(a: readonly string[], b: readonly string[]): boolean {
  const ra = runLengths(a);
  const rb = runLengths(b);
  if (ra.length !== rb.length) return false;
  const startsWild = a[0] === WILDCARD;
  let differ = false;
  for (let r = 0; r < ra.length; r++) {
    if (ra[r] === rb[r]) continue;
    if (r === 0 && startsWild) return false;
    differ = true;
  }
  return differ;
}

/**
 * The template a group shows: the leader's, with one `<*>` for each run whose length varies
 * among its members (a run of fixed length, such as the five values of a date, stays as it is).
 */
export function shownOf(leader: Cluster): string {
  const lengths = runLengths(leader.tokens);
  const varies = new Array<boolean>(lengths.length).fill(false);
  const key = runKey(leader.tokens);
  for (const m of leader.members) {
    if (m.gapRun >= 0 && m.gapRun < varies.length) varies[m.gapRun] = true;
    if (runKey(m.tokens) !== key) continue;
    const ml = runLengths(m.tokens);
    for (let r = 0; r < lengths.length; r++) if (ml[r] !== lengths[r]) varies[r] = true;
  }
  const out: string[] = [];
  let r = -1;
  for (let i = 0; i < leader.tokens.length; i++) {
    const t = leader.tokens[i] as string;
    if (t !== WILDCARD) {
      out.push(t);
      continue;
    }
    const first = i === 0 || leader.tokens[i - 1] !== WILDCARD;
    if (first) r++;
    if (first || !varies[r]) out.push(t);
  }
  return out.join(' ');
}

/**
 * The patterns of the templates that may lead a group, each filed under the one cluster that
 * holds it, with their anchors: where a new template or line finds the group it belongs to.
 */
export class Patterns {
  private readonly byKey = new Map<string, Cluster>();
  private readonly keyOf = new Map<Cluster, string>();
  private readonly anchors: Anchors = new Map();

  /**
   * Files a cluster under its pattern (again, after its template changed). With `join`, returns the
   * leader a cluster without members should join: a template of another length with the same
   * pattern, differing only in runs between words.
   */
  refile(c: Cluster, join: boolean): Cluster | undefined {
    const old = this.keyOf.get(c);
    const key = runKey(c.tokens);
    if (old === key) return undefined;
    if (old !== undefined && this.byKey.get(old) === c) this.unfile(old);
    this.keyOf.set(c, key);
    const y = this.byKey.get(key);
    const valid = y !== undefined && y.alive && y.leader === undefined && this.keyOf.get(y) === key;
    if (valid && join && y !== c && c.leader === undefined && c.members.length === 0) {
      if (y.tokens.length !== c.tokens.length && enclosedRunsDiffer(c.tokens, y.tokens)) return y;
    }
    if (!valid) {
      if (y !== undefined) this.unfile(key);
      this.file(key, c);
    }
    return undefined;
  }

  /** The leader whose `<*>` a run of words of a new line's tokens fills, and that run's index among its runs. */
  gapLeader(tokens: readonly string[]): { leader: Cluster; run: number } | undefined {
    let out: { leader: Cluster; run: number } | undefined;
    forEachGap(tokens, this.anchors, (key, run) => {
      const y = this.byKey.get(key);
      if (y === undefined || !y.alive || y.leader !== undefined) return false;
      if (y.tokens.length === tokens.length || this.keyOf.get(y) !== key) return false;
      out = { leader: y, run };
      return true;
    });
    return out;
  }

  /** The leader filed under the pattern of these tokens, if any. */
  holder(tokens: readonly string[]): Cluster | undefined {
    return this.byKey.get(runKey(tokens));
  }

  /** Forgets a cluster that ends or joins a group. */
  forget(c: Cluster): void {
    const key = this.keyOf.get(c);
    if (key !== undefined && this.byKey.get(key) === c) this.unfile(key);
    this.keyOf.delete(c);
  }

  private file(key: string, c: Cluster): void {
    this.byKey.set(key, c);
    countAnchors(this.anchors, key, 1);
  }

  private unfile(key: string): void {
    this.byKey.delete(key);
    countAnchors(this.anchors, key, -1);
  }
}
