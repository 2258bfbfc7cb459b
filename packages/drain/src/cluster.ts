import { ownCopy } from './cache.js';
import { WILDCARD } from './mask.js';
import { matchesPattern, mergeTokens } from './template-token.js';

// What a template token is, so the similarity loop never searches a token for `<*>`.
export const LITERAL = 0;
export const VARIABLE = 1;
export const PATTERN = 2;

/** The kind of each template token: {@link LITERAL}, {@link VARIABLE} (`<*>`) or {@link PATTERN} (`<*>` inside). */
export function kindsOf(tokens: string[]): Uint8Array {
  const kinds = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    kinds[i] = t === WILDCARD ? VARIABLE : t.includes(WILDCARD) ? PATTERN : LITERAL;
  }
  return kinds;
}

/** The version at which something a search depends on last changed (see PrefixTree.stampOf). */
export interface Stamp {
  v: number;
}

/** A group of lines and the template that covers them. */
export interface Cluster {
  tokens: string[];
  kinds: Uint8Array;
  template: string;
  id: string;
  count: number;
  last: number;
  buckets: Map<number, number>;
  /** The tree leaf that holds this cluster. */
  leaf: Cluster[];
  /** Bumped when this cluster changes: the stamp of the searches that may see it. */
  stamp: Stamp;
  alive: boolean;
  /** For a member of a group (see group.ts): the group's leader, whose id and counts its lines get. */
  leader: Cluster | undefined;
  /** For a leader: the members of its group. */
  members: Cluster[];
  /** For a leader with members: the template the group shows. */
  shown: string | undefined;
  /** For a member that joined by a gap of its line: the index of that variable among the leader's runs, else -1. */
  gapRun: number;
  /**
   * For a member whose id ended without a line to announce it (several joined a group at once):
   * the next line it routes announces it as `previousId`.
   */
  unannounced: boolean;
}

/** A new cluster for a line's tokens, held by `leaf` (the caller adds it there). */
export function newCluster(
  tokens: string[],
  template: string,
  id: string,
  leaf: Cluster[],
  stamp: Stamp,
  last: number,
): Cluster {
  return {
    // Own copies: the line's tokens may be views of the caller's read buffer.
    tokens: tokens.map(ownCopy),
    kinds: kindsOf(tokens),
    template,
    id,
    count: 0,
    last,
    buckets: new Map(),
    leaf,
    stamp,
    alive: true,
    leader: undefined,
    members: [],
    shown: undefined,
    gapRun: -1,
    unannounced: false,
  };
}

/**
 * Widens a cluster's tokens to cover a line's: each differing position keeps what the two share
 * (see mergeTokens). Returns whether any token changed; the kinds are refreshed when one did.
 */
export function widen(cluster: Cluster, tokens: string[]): boolean {
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
  if (changed) cluster.kinds = kindsOf(t);
  return changed;
}

/** Adds `from`'s counts and buckets into `into` (a merge of two clusters whose templates converged). */
export function absorbCounts(into: Cluster, from: Cluster): void {
  into.count += from.count;
  for (const [k, v] of from.buckets) into.buckets.set(k, (into.buckets.get(k) ?? 0) + v);
}

/** Counts one line in the bucket of `timeMs`, dropping the oldest bucket past `maxBuckets`. */
export function countAt(cluster: Cluster, timeMs: number, bucketMs: number, maxBuckets: number): void {
  const start = Math.floor(timeMs / bucketMs) * bucketMs;
  const b = cluster.buckets;
  b.set(start, (b.get(start) ?? 0) + 1);
  if (b.size > maxBuckets) {
    let oldest = start;
    for (const k of b.keys()) if (k < oldest) oldest = k;
    b.delete(oldest);
  }
}
