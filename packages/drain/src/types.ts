import type { MinerOptions } from './options.js';
import type { TemplateMiner } from './miner.js';

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
