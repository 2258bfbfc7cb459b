import type { BundleWriter, Warning } from '@hindsight/core';
import type { ZodType } from 'zod';
import type { RetryPolicy } from './retry.js';

/** A time window in unix milliseconds. */
export interface TimeWindow {
  from: number;
  to: number;
}

/**
 * What every collection is told, whatever its sources: where to write, the window, the watch, and
 * how to reach the cluster (the kubernetes, helm, redis and nginx sources all use the kubeconfig).
 * Each source adds its own settings ({@link Source.schema}); `CollectOptions` is the two together.
 */
export interface CommonOptions {
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
  /** How many sources run at once (4 by default). */
  concurrency?: number;
  /** How many pod logs or nodes one source reads at once (4 by default). */
  fetchConcurrency?: number;
  /** How a failed request to an API server or HTTP backend is tried again (DEFAULT_RETRY when absent; tests shorten it). */
  retry?: RetryPolicy;
  /** Stops the collection early; what was collected is still written. */
  signal?: AbortSignal;
  /** Told what each source is doing, for a progress display. */
  onProgress?: (event: ProgressEvent) => void;
  /** The sources to run; the registry's by default (tests pass their own). */
  sources?: readonly Source[];
  cluster?: string;
  toolVersion?: string;
}

/**
 * One command-line flag, in commander's syntax (`--nginx-log <file>`, `-l, --selector <selector>`).
 * Its value is the option named as commander names it ({@link optionKey}: `--nginx-log` ->
 * `nginxLog`).
 */
export interface SourceFlag {
  flags: string;
  description: string;
  /** Shown in the help and given when the flag is absent. */
  default?: string;
  /** The flag may be given more than once; its values arrive as a list. */
  repeatable?: boolean;
}

/** The option a flag sets: its long name in camel case, as commander names it. */
export function optionKey(flags: string): string {
  const long = /--([a-z0-9-]+)/i.exec(flags)?.[1];
  if (!long) throw new Error(`a flag needs a --long name: ${flags}`);
  // `--no-x` sets `x` to false (true when absent), as commander does.
  return long.replace(/^no-/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
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

/** What a source is given to run: the common options and its own settings, parsed by its schema. */
export interface SourceContext<Settings = object> {
  options: CommonOptions & Settings;
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
 * One system hindsight reads. A source declares the flags it owns and the schema of its settings,
 * only reads, and writes normalised records through the writer; it never analyses. The CLI
 * derives `hindsight collect`'s flags from the registry (sources/index.ts), so adding a source is
 * its file and one line there.
 */
export interface Source<Settings = object> {
  name: string;
  /** The flags whose values are this source's settings (the window and the cluster's are the CLI's). */
  flags: readonly SourceFlag[];
  /**
   * Parses the source's settings from the options (unknown keys are dropped). It runs for every
   * source before anything is collected, so a wrong combination (`--promql` without
   * `--prometheus`) is a usage error even when the source would not run.
   */
  schema: ZodType<Settings>;
  /**
   * Options (common ones or the source's settings) that must all be set for the source to run; an
   * inner list means one of them.
   */
  needs: ReadonlyArray<string | readonly string[]>;
  collect(writer: BundleWriter, ctx: SourceContext<Settings>): Promise<SourceResult>;
}
