import type { Bundle, Change, RedactionCounts, Warning } from '@hindsight/core';
import type { BundleData } from './data.js';

/** A series of points `[unix_ms, value]` shown as evidence (already a rate for counters). */
export interface SeriesEvidence {
  type: 'series';
  /** The series' name and labels, as in the bundle. */
  name: string;
  labels: Record<string, string>;
  /** What the values mean: `rate/s` for counters, the unit or `value` for gauges, `share` for templates. */
  unit: string;
  points: Array<[number, number]>;
  /** Where the series moved: the level before and after. */
  before?: number;
  after?: number;
}

/** Log lines shown as evidence: a template and sample lines, with where they come from. */
export interface LinesEvidence {
  type: 'lines';
  template?: string;
  lines: Array<{ time: number; pod: string; container: string; text: string }>;
}

/** A structured config diff, as the change recorded it. */
export interface DiffEvidence {
  type: 'diff';
  entries: Array<{ path: string; from?: unknown; to?: unknown }>;
}

/** A Kubernetes event (or pod state) shown as evidence. */
export interface EventEvidence {
  type: 'event';
  time: number;
  object: string;
  reason: string;
  message: string;
  count: number;
}

/** What supports a finding: a tagged union, so a new analyzer never edits a shared struct. */
export type Evidence = SeriesEvidence | LinesEvidence | DiffEvidence | EventEvidence;

/**
 * Where a finding's signal comes from: the configuration (a change), the logs (a template), the
 * cluster (an event or a pod's state) or a number over time (a series, or a rate or latency from
 * spans or an access log). Ranking counts the families that moved, never the analyzers.
 */
export type FindingFamily = 'config' | 'logs' | 'kubernetes' | 'metrics';

/**
 * One thing an analyzer saw: a change (a config or release change), an anomaly (a series or a
 * log template that moved) or a health problem (a restart, an OOM kill, a failing probe).
 */
export interface Finding {
  /** Stable id: the analyzer's name and what it is about, identical across runs. */
  id: string;
  analyzer: string;
  /** Set by the pipeline from {@link Analyzer.family} when the analyzer leaves it out. */
  family?: FindingFamily;
  /**
   * Found by a detector that knows no component (change points on any series): a component's own
   * check of the same signal at the same moment speaks for it.
   */
  generic?: boolean;
  kind: 'change' | 'anomaly' | 'health';
  component?: string;
  pod?: string;
  /** What moved: a series key (`redis_connected_slaves{pod=...}`), a template id, a change id. */
  signal: string;
  title: string;
  /** When it began (unix ms); for an anomaly, the onset of the move. */
  time: number;
  end?: number;
  /** How sure and how large, from 0 to 1. */
  strength: number;
  direction?: 'up' | 'down' | 'appeared' | 'vanished';
  /** Whether users feel it (errors, lost sessions, slow or failed requests), not only a system metric. */
  userFacing?: boolean;
  /** Judged against the bundle's baseline (a period known to be normal), not the window's own past. */
  baseline?: boolean;
  evidence: Evidence[];
  /**
   * Components that only waited on this finding's component (their calls into it slowed, their own
   * work did not): their latency signals are this component's effect, not causes of their own.
   */
  bystanders?: string[];
  /** For a change: the change as the bundle recorded it. */
  change?: Change;
}

/** What an analyzer reads; the pipeline loads each part once, for the analyzers that need it. */
export type Need = 'logs' | 'series' | 'changes' | 'events' | 'pods' | 'topology';

/** Shared state of one investigation, given to every analyzer. */
export interface AnalyzerContext {
  /** The analysis window (unix ms) and the bucket width used for rates. */
  window: { from: number; to: number };
  bucketMs: number;
  /** Parts of the bundle loaded once and shared (logs mined into templates, series as rates). */
  data: BundleData;
  signal?: AbortSignal;
  /** When the incident was under way, if the user knows (an alert, a report): unix ms. */
  incidentAt?: number;
}

/** One analyzer: one file in src/analyzers, listed in the `analyzers` array. */
export interface Analyzer {
  readonly name: string;
  /** The family of the findings it returns, unless a finding says its own; `metrics` by default. */
  readonly family?: FindingFamily;
  readonly needs: readonly Need[];
  analyze(bundle: Bundle, ctx: AnalyzerContext): Promise<Finding[]>;
}

/** One step of a causal chain: the cause, a first signal that moved, or a user-facing effect. */
export interface ChainStep {
  role: 'cause' | 'signal' | 'effect';
  time: number;
  title: string;
  findingId: string;
  component?: string;
}

/** What a hypothesis names as the cause. */
export type Cause =
  | {
      type: 'change';
      changeId: string;
      kind: Change['kind'];
      target: string;
      release?: string;
      revision?: number;
      fromRevision?: number;
      /** The diff's paths, e.g. `redis.replica.replicaCount`. */
      paths: string[];
      diff: Array<{ path: string; from?: unknown; to?: unknown }>;
      components: string[];
    }
  | { type: 'component'; component: string; firstSignal: string }
  | { type: 'anomaly'; findingId: string; component?: string; signal: string };

/** A candidate cause with its score, its causal chain and what to do next. */
export interface Hypothesis {
  rank: number;
  /** 0..1: how well the evidence supports this cause, relative to an ideal case. */
  score: number;
  /** The evidence behind the score, unbounded: orders hypotheses whose scores both near 1. */
  weight: number;
  title: string;
  time: number;
  cause: Cause;
  chain: ChainStep[];
  /** Ids of the findings this hypothesis explains, strongest first. */
  explains: string[];
  /** The next step in words (what to undo, or where to look). */
  nextStep: string;
  /**
   * The next step as shell commands, each runnable as printed (namespace and values filled in,
   * shell-quoted), in the order to try them. Absent in older reports.
   */
  nextCommands?: string[];
  /** Why it scored as it did, in words (time, topology, anomalies). */
  reasons: string[];
}

/**
 * Something still broken when the bundle was collected (the end of its window), described, not
 * ranked: what an on-call engineer checks first, whatever the hypotheses say caused it.
 */
export interface AtCollection {
  what:
    | 'crash-looping'
    | 'oom-killed'
    | 'failed'
    | 'image-pull-failing'
    | 'link-down'
    | 'pending'
    | 'replicas-not-ready'
    | 'not-ready';
  /** `Kind/name`: `Pod/shop-7d4f8b7c9d-x2x8k`, `Deployment/shop`, `Redis/127.0.0.1:6380` where no pod is known. */
  object: string;
  container?: string;
  component: string;
  /** Since when (unix ms), where the bundle tells: the first of the recent events, the last stop. */
  since?: number;
  detail: string;
  /** Ids of the report's findings about the same object, strongest first (at most 5). */
  evidence: string[];
}

/** The outcome of an investigation. */
export interface Report {
  schema: 'hindsight-report';
  version: 1;
  bundle: string;
  window: { from: string; to: string };
  generatedAt: string;
  /** The incident time given to the investigation, and how many anomalies ended before it (left out). */
  incident?: { at: string; earlierEpisodes: number };
  /** `change`: a change is the likely cause; `component`: no change explains it, components are ranked; `none`: nothing moved. */
  verdict: 'change' | 'component' | 'none';
  summary: string;
  hypotheses: Hypothesis[];
  /** What was still broken at collection, most severe first; empty when nothing was (absent in older reports). */
  atCollection?: AtCollection[];
  findings: Finding[];
  warnings: Warning[];
  /**
   * Values redacted, per kind (`jwt`, `secret-key`, `custom`, ...): `bundle` while the bundle was
   * written (its manifest's count), `report` found again while the report was made (a bundle
   * written by an older version or by hand). Absent in older reports.
   */
  redactions?: { bundle: RedactionCounts; report: RedactionCounts };
  stats: {
    logLines: number;
    logFiles: number;
    templates: number;
    series: number;
    changes: number;
    events: number;
    durationMs: number;
  };
}
