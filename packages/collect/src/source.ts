import type { BundleWriter, Warning } from '@hindsight/core';

/** A time window in unix milliseconds. */
export interface TimeWindow {
  from: number;
  to: number;
}

/** Everything a collection can be told; each source reads the part it {@link Source.needs}. */
export interface CollectOptions {
  /** The bundle folder to write. */
  output: string;
  window: { from: Date; to: Date };
  /** Allow writing into a folder that already holds files. */
  overwrite?: boolean;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
  /** Watch for this long (ms): sample Redis and PostgreSQL, follow pod logs and pods; once when absent. */
  watchMs?: number;
  /** Sampling period during a watch (ms); 5000 by default. */
  intervalMs?: number;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** A Kubernetes label selector for the pods whose logs are read. */
  selector?: string;
  /** Redis URLs (redis://[:password@]host:port); the replicas a master lists are found from it. */
  redis?: string[];
  /** A PostgreSQL connection string. */
  postgres?: string;
  /** An nginx access log file. */
  nginxLog?: string;
  /** A pod whose log is the nginx access log (in `namespace`). */
  nginxPod?: string;
  /** An nginx log_format string; the chart's `hindsight` format by default. */
  nginxLogFormat?: string;
  prometheus?: string;
  promql?: string[];
  loki?: string;
  logql?: string[];
  /** A Git working copy whose values files are read (GitOps). */
  git?: string;
  /** A glob of the values files in `git`; `**\/values*.yaml` by default. */
  valuesGlob?: string;
  /** How many sources run at once (4 by default). */
  concurrency?: number;
  /** How many pod logs or nodes one source reads at once (4 by default). */
  fetchConcurrency?: number;
  /** Stops the collection early; what was collected is still written. */
  signal?: AbortSignal;
  /** Told what each source is doing, for a progress display. */
  onProgress?: (event: ProgressEvent) => void;
  /** The sources to run; {@link sources} by default (tests pass their own). */
  sources?: readonly Source[];
  cluster?: string;
  toolVersion?: string;
}

/** What a source tells the progress display. */
export interface ProgressEvent {
  source: string;
  state: 'start' | 'progress' | 'ok' | 'partial' | 'failed' | 'skipped';
  /** Records (lines, samples, revisions) written so far. */
  items: number;
  /** What is being read now, or why it failed. */
  detail?: string;
}

/** What a source is given to run. */
export interface SourceContext {
  options: CollectOptions;
  window: TimeWindow;
  signal: AbortSignal;
  /** Reports how many records are written so far and what is being read. */
  progress(items: number, detail?: string): void;
  /** Records a problem that did not stop the source. */
  warn(warning: Omit<Warning, 'stage' | 'name'> & { name?: string }): void;
}

/** How a source went; a source that cannot run at all throws instead. */
export interface SourceResult {
  /** `partial` when part of what it reads failed or the run was interrupted. */
  status: 'ok' | 'partial';
  /** Records written (log lines, series, changes, events...). */
  items: number;
  /** Why it is partial, for the manifest. */
  detail?: string;
}

/**
 * One system hindsight reads. A source only reads and writes normalised records through the
 * writer; it never analyses. Registered in {@link sources}.
 */
export interface Source {
  name: string;
  /** Options that must all be set for the source to run; an inner list means one of them. */
  needs: ReadonlyArray<keyof CollectOptions | ReadonlyArray<keyof CollectOptions>>;
  collect(writer: BundleWriter, ctx: SourceContext): Promise<SourceResult>;
}
