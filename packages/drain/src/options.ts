/** Options of a {@link TemplateMiner}; every field has a default (see README.md for where each comes from). */
export interface MinerOptions {
  /** Depth of the prefix tree, counting the root and the token-count layer (Drain paper: 4). */
  depth?: number;
  /** Least similarity, from 0 to 1, for a line to join a template. */
  similarity?: number;
  /** Most children of one tree node before new tokens share the `<*>` branch (Drain: 100). */
  maxChildren?: number;
  /**
   * Lines after which a word that routes lines in the tree is taken as a constant. A line that
   * finds no template where its words lead looks under the other words of its last routing
   * position (where a user or host name would start a branch per value; never the first), except
   * those that routed this many lines, unless that position has 8 words or more. 0 looks under
   * none (as Drain does). Chosen by leave-one-system-out (bench/drain-accuracy.mjs).
   */
  constantAfter?: number;
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

/**
 * Defaults: depth 4 and 100 children are the Drain paper's (He et al., ICWS 2017); the similarity
 * 0.75 was chosen on Loghub-2k with one setting for all eight systems, and constantAfter 5 by every
 * leave-one-system-out fold (bench/drain-accuracy.mjs).
 */
export const DEFAULT_OPTIONS: Readonly<Required<MinerOptions>> = Object.freeze({
  depth: 4,
  similarity: 0.75,
  maxChildren: 100,
  constantAfter: 5,
  maxTemplates: 20_000,
  maxTokens: 200,
  maxLineLength: 20_000,
  bucketMs: 60_000,
  maxBuckets: 10_080,
  mask: true,
  extraMasks: [],
});
