import type { MinerOptions } from './options.js';
import type { TemplateMiner } from './miner.js';

/** What happened to the template a line joined. */
export type MatchChange = 'created' | 'updated' | 'none';

/** The template one line belongs to, returned by {@link TemplateMiner.add}. */
export interface MatchResult {
  /**
   * The cluster's id, kept for life whatever its template becomes (as Drain3's cluster_id): a hash
   * of the template the cluster was created with, so the same input gives the same ids in every
   * run, process and machine.
   */
  id: string;
  /** The cluster's template now (this line included), tokens joined by one space, variables written `<*>`. */
  template: string;
  /** Lines this cluster has absorbed so far, this one included. */
  count: number;
  /** `created` for a new cluster, `updated` when this line generalised its template, else `none`. */
  change: MatchChange;
  /**
   * Set when this line generalised its cluster into the template of an older cluster, which
   * absorbed it: the id of the cluster that ended (`change` is `updated`, `id` the older one's).
   * Lines counted under `previousId` belong to `id` from now on.
   */
  previousId?: string;
}

/** A template with its counts, as listed by {@link TemplateMiner.templates}. */
export interface TemplateInfo {
  /** The cluster's lifelong id (see {@link MatchResult.id}). */
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
  /** `id` is optional on load (a state without it gets the hash of the template). */
  clusters: Array<{
    id?: string;
    tokens: string[];
    count: number;
    last: number;
    buckets: Array<[number, number]>;
    /** For a member of a group (a template of another length of the same pattern): its leader's id. */
    into?: string;
    /** For such a member: the index of its gap among the leader's runs of `<*>` (-1: none). */
    gapRun?: number;
  }>;
}

/** A result as a value: the miner never throws on bad input. */
export type LoadResult = { ok: true; miner: TemplateMiner } | { ok: false; error: string };
