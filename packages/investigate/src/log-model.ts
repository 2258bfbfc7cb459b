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

/** A log line that carries a trace id, in the window or the baseline period: a step of a request. */
export interface TracedLine {
  /** The trace id, lower case. */
  trace: string;
  time: number;
  /** Nanoseconds past `time`: the steps of one request often share a millisecond. */
  subMs: number;
  /** Its place among the traced lines of its file. */
  seq: number;
  /** The logger's source location (`o.s.OrderServiceImpl#365`) when the line names one. */
  location?: string;
  /** Else the id of its template in its group, after the miner's merges. */
  template?: string;
  /** The line's first 400 characters. */
  text: string;
  level: LogLevel;
  /** In the baseline period (else in the window). */
  baseline: boolean;
}

/** The traced lines of one log file. */
export interface TracedFile {
  /** The file's place in the bundle's list of logs. */
  file: number;
  pod: string;
  container: string;
  /** `workload/container`, the group its templates belong to. */
  group: string;
  lines: TracedLine[];
}

/** The requests an access log recorded on the analysis grid, column by column. */
export interface AccessFile {
  /** The file's place in the bundle's list of logs. */
  file: number;
  pod: string;
  container: string;
  time: number[];
  status: number[];
  /** Index into `routes`. */
  route: number[];
  /** Seconds the request took, NaN where the format does not log it. */
  seconds: number[];
  routes: string[];
  /**
   * Where each request's upstream tries begin in the `try*` columns; they run to the next request's
   * (the last request's to the columns' end). A request nginx answered itself has none.
   */
  firstTry: number[];
  /** Per try: the server, an index into `upstreams` (an address, or a group's name). */
  tryUpstream: number[];
  /** Per try: seconds to the response (NaN for `-`), seconds to connect (NaN for `-`), status (0 for `-`). */
  trySeconds: number[];
  tryConnect: number[];
  tryStatus: number[];
  /** Per request: its upstream group's name as logged (an index into `upstreams`), -1 where not logged. */
  upstreamName: number[];
  upstreams: string[];
}

/**
 * What the one reading of the logs kept about requests, besides the templates: the lines that carry
 * a trace id (kept only when the bundle has a baseline period, which trace paths compare against)
 * and the access logs' requests (the window's and the baseline period's: upstream times compare the two).
 */
export interface RequestLines {
  traced: TracedFile[];
  access: AccessFile[];
}
