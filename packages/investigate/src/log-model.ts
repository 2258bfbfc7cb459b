// The logs as mined: templates per workload and container with their counts on the analysis grid.
// Plain data shared by the miner (mine.ts, and its workers) and by what reads the mined logs
// (data.ts, the log analyzers, the server's views).
import type { LogLevel } from './log-line.js';

/** A sample log line kept as evidence. */
export interface SampleLine {
  time: number;
  pod: string;
  container: string;
  text: string;
}

/** One mined template of one log group, with its counts per time bucket. */
export interface TemplateStats {
  id: string;
  template: string;
  group: string;
  component: string;
  level: LogLevel;
  /** Lines in the window. */
  count: number;
  /** Lines in the bundle's baseline period (a period known to be normal), when it has one. */
  baselineCount: number;
  /** Lines per bucket, over the whole group. */
  counts: Float64Array;
  /** Lines per pod. */
  pods: Map<string, number>;
  /** Lines per bucket on each pod that logged this template in the window. */
  podCounts: Map<string, Float64Array>;
  /** The first and last line in the window (Infinity and -Infinity for a template seen only in the baseline). */
  firstTime: number;
  lastTime: number;
  /** The first lines, and the first lines after a gap, kept as evidence. */
  samples: SampleLine[];
  /** Set when Drain merged this template into another: counts now go there. */
  mergedInto?: TemplateStats;
}

/** The logs of one workload's container (all its pods), mined into templates. */
export interface LogGroup {
  /** `workload/container` */
  name: string;
  workload: string;
  container: string;
  component: string;
  lines: number;
  /** Lines in the bundle's baseline period. */
  baselineLines: number;
  /** Lines per bucket, all templates together: the traffic this group saw. */
  totals: Float64Array;
  templates: Map<string, TemplateStats>;
  pods: Set<string>;
}

/** The mined logs of a bundle. */
export interface LogModel {
  groups: LogGroup[];
  lines: number;
  files: number;
}

/**
 * The mined logs with the grid their counts are on: plain data (Maps, Sets, typed arrays), so it
 * crosses a worker thread's boundary as it is.
 */
export interface MinedLogs {
  grid: Grid;
  model: LogModel;
}

/** The bucket grid counts are kept on. */
export interface Grid {
  from: number;
  bucketMs: number;
  buckets: number;
  /** The bundle's baseline period: its lines are mined too, and counted apart from the window's. */
  baseline?: { from: number; to: number };
}
