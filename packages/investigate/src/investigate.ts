import {
  bundleLayout,
  errorMessage,
  HindsightError,
  openBundle,
  type Bundle,
  type Warning,
} from '@hindsight/core';
import { analyzers as defaultAnalyzers } from './analyzers/index.js';
import { atCollection } from './at-collection.js';
import { BundleData, type BundleRecords } from './data.js';
import type { MinedLogs } from './log-model.js';
import { boundedBucketMs, widenedWarning } from './extent.js';
import { endedBefore } from './incident.js';
import { compareFindings, rank } from './rank/rank.js';
import { nextCommands } from './rank/next-step.js';
import { foldIntoNodes } from './rank/fold.js';
import { redactReport, reportRedactor } from './reporters/redact.js';
import { TopologyGraph } from './topology.js';
import type { RankWeights } from './rank/weights.js';
import type { Analyzer, AnalyzerContext, Finding, Hypothesis, Report } from './types.js';

/** Options of {@link investigate}. */
export interface InvestigateOptions {
  /** How many hypotheses the report keeps (default 5). */
  top?: number;
  /** The analyzers to run (default: all of `analyzers`). */
  analyzers?: readonly Analyzer[];
  /** Called with a short description of each step, for progress on a terminal. */
  onProgress?: (what: string) => void;
  signal?: AbortSignal;
  /** The report's `generatedAt` (default: now); fixed in tests for stable output. */
  now?: Date;
  /**
   * Threads that mine the logs: 1, or 2 (worker threads, results merged). By default 2 when the
   * logs exceed 64 MB and the machine has two cores.
   */
  workers?: 1 | 2;
  /** Bucket width for rates in ms (default: the window / 180, between 5 s and 5 min). */
  bucketMs?: number;
  /**
   * When the incident was under way, if known (an alert, a user's report): anomalies that ended
   * before it began are earlier episodes, not its cause. RFC 3339, unix ms or a Date.
   */
  incidentAt?: string | number | Date;
  /**
   * Called with the logs as the analyzers saw them (templates, counts per bucket and per pod, on the
   * investigation's grid), when they could be mined: a view of the same bundle shows them without
   * mining again.
   */
  onLogs?: (logs: MinedLogs) => void;
  /**
   * Called with the records as the investigation read them (series, pods, changes, events, the log
   * files, each pod's component), when each could be read: a view of the same bundle shows them
   * without reading it again. The series are then kept as read besides on the grid.
   */
  onRecords?: (records: BundleRecords) => void;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to the report. */
  redactPatterns?: readonly RegExp[];
  /**
   * The bundle's folder when the caller has it open already (an archive it unpacked, e.g. `Bundle.root`
   * of its own `openBundle`): read from there instead of unpacking `bundlePath` again. The report
   * still names `bundlePath`; the caller keeps the folder until the investigation ends.
   */
  unpacked?: string;
  /** For benchmarks that choose them: ranking weights other than the defaults (rank/weights.ts). */
  weights?: Partial<RankWeights>;
  /**
   * For benchmarks that choose the weights: called with a function that ranks the same findings
   * again with other weights, without analysing the bundle again.
   */
  onRank?: (rerank: (weights: Partial<RankWeights>) => Hypothesis[]) => void;
}

/** The bucket width for a window: about 180 buckets, on a 5-second grid, between 5 s and 5 min. */
export function bucketFor(windowMs: number): number {
  const raw = Math.ceil(windowMs / 180 / 5000) * 5000;
  return Math.min(300_000, Math.max(5000, raw));
}

/**
 * The span an investigation of a bundle analyses, and its bucket width: the bundle's window, or the
 * span its data covers when that is much shorter (a lab run of minutes collected with --since 1h),
 * so that the buckets fit the data. `warning` says when the buckets were widened; `unread` when the
 * span of the data could not be read, and the bundle's window was used.
 */
export async function analysisWindow(
  bundle: Bundle,
  bucketMs?: number,
): Promise<{ window: { from: number; to: number }; bucketMs: number; warning?: Warning; unread?: Warning }> {
  let window = bundle.windowMs;
  const unread: Warning[] = [];
  const extent = await readOrWarn(
    unread,
    'data extent',
    `${bundleLayout.logsDir}/, ${bundleLayout.seriesDir}/`,
    'the span the logs and series cover',
    () => bundle.dataExtent(),
    undefined,
  );
  if (extent) {
    const from = Math.max(window.from, extent.from - 5000);
    const to = Math.min(window.to, extent.to + 5000);
    if (to > from && to - from < 0.5 * (window.to - window.from)) window = { from, to };
  }
  const asked = bucketMs ?? bucketFor(window.to - window.from);
  const used = boundedBucketMs(window.to - window.from, asked);
  return {
    window,
    bucketMs: used,
    ...(used === asked ? {} : { warning: widenedWarning(window, asked, used) }),
    ...(unread[0] ? { unread: unread[0] } : {}),
  };
}

/**
 * Awaits one read of the bundle; when it fails, adds a warning naming what was read and where (the
 * bundle's file or folder) and returns `fallback`, so that the investigation goes on without it.
 * The reader reports bad records itself and rarely throws: what reaches here is a failure it did
 * not foresee, which must not pass as empty data.
 */
async function readOrWarn<T, F>(
  warnings: Warning[],
  name: string,
  where: string,
  what: string,
  read: () => Promise<T>,
  fallback: F,
): Promise<T | F> {
  try {
    return await read();
  } catch (err) {
    warnings.push({
      stage: 'read',
      name,
      code: err instanceof HindsightError ? err.code : 'HINDSIGHT_BUNDLE_SCHEMA',
      message: `${what} could not be read (${where}): ${errorMessage(err)}; the investigation went on without it`,
      where,
    });
    return fallback;
  }
}

/**
 * Refuses an incident time far from the bundle's window (a wrong day or year, most likely): more
 * than an hour, or the window's own length, before its start or after its end. Nearer times stand:
 * an incident still under way after the data ends has its cause in the data.
 */
function checkIncidentTime(at: number, bundle: Bundle, where: string): void {
  const w = bundle.windowMs;
  if (Number.isNaN(at)) throw new HindsightError('HINDSIGHT_USAGE', 'the incident time is not a time', where);
  const slack = Math.max(60 * 60_000, w.to - w.from);
  if (at >= w.from - slack && at <= w.to + slack) return;
  const iso = (t: number): string => new Date(t).toISOString();
  throw new HindsightError(
    'HINDSIGHT_USAGE',
    `the incident time ${iso(at)} is far outside the bundle's window (${iso(w.from)} to ${iso(w.to)}); collect a window that holds it, or give a time near this one`,
    where,
  );
}

/**
 * Investigates a bundle (a folder or .tar.gz): runs every analyzer, ranks the candidate causes and
 * returns the report as a value. An analyzer that fails becomes a warning and the rest run on; only
 * a bundle that cannot be opened at all throws (a HindsightError naming the file).
 */
export async function investigate(bundlePath: string, options: InvestigateOptions = {}): Promise<Report> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  progress(`opening ${bundlePath}`);
  const bundle = await openBundle(options.unpacked ?? bundlePath);
  try {
    if (options.incidentAt !== undefined)
      checkIncidentTime(new Date(options.incidentAt).getTime(), bundle, bundlePath);
    const { window, bucketMs, warning, unread } = await analysisWindow(bundle, options.bucketMs);
    const data = new BundleData(bundle, window, bucketMs, {
      onProgress: progress,
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.onRecords ? { keepSeries: true } : {}),
    });
    const ctx: AnalyzerContext = {
      window,
      bucketMs,
      data,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.incidentAt !== undefined ? { incidentAt: new Date(options.incidentAt).getTime() } : {}),
    };
    const warnings: Warning[] = [...(warning ? [warning] : []), ...(unread ? [unread] : [])];
    for (const s of bundle.manifest.sources) {
      if (s.status === 'ok') continue;
      warnings.push({
        stage: 'collect',
        name: s.name,
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: `source ${s.name} was ${s.status} at collection${s.error ? `: ${s.error}` : ''}; its data may be missing`,
      });
    }
    const findings: Finding[] = [];
    for (const a of options.analyzers ?? defaultAnalyzers) {
      if (options.signal?.aborted) break;
      progress(`analyzing: ${a.name}`);
      try {
        // One by one: push(...xs) puts every finding on the stack, which overflows past ~120,000.
        const family = a.family ?? 'metrics';
        for (const f of await a.analyze(bundle, ctx)) {
          f.family ??= family;
          findings.push(f);
        }
      } catch (err) {
        warnings.push({
          stage: 'analyze',
          name: a.name,
          code: 'HINDSIGHT_ANALYZER_FAILED',
          message: `analyzer ${a.name} failed: ${errorMessage(err)}; the others still ran`,
        });
      }
    }
    // Given the incident's time, anomalies that had ended before it are earlier episodes. On
    // Nezha's faults (~7 min apart) this moved top-1 from 0.7 to 0.8 (bench/RESULTS.md `## rca`).
    const at = ctx.incidentAt;
    const kept = at === undefined ? findings : findings.filter((f) => !endedBefore(f, at));
    progress('ranking');
    const { logsDir, seriesDir, topology: topologyFile } = bundleLayout;
    const read = <T, F>(name: string, where: string, what: string, load: () => Promise<T>, fallback: F) =>
      readOrWarn(warnings, name, where, what, load, fallback);
    const topology = await read('topology', topologyFile, 'the topology', () => data.topology(), {
      components: [],
    });
    const graph = new TopologyGraph(topology);
    const known = await read(
      'components',
      `${bundleLayout.pods}, ${topologyFile}`,
      'the components of the pods and topology',
      () => data.components(),
      new Set<string>(),
    );
    const input = {
      findings: kept,
      data,
      graph,
      known,
      window,
      bucketMs,
      ...(at !== undefined ? { incidentAt: at } : {}),
    };
    const ranked = rank({ ...input, ...(options.weights ? { weights: options.weights } : {}) });
    options.onRank?.((weights) => rank({ ...input, weights }).hypotheses);
    const mined = await read('logs', `${logsDir}/`, 'the mined logs', () => data.minedLogs(), undefined);
    if (mined) options.onLogs?.(mined);
    const logs = mined?.model ?? { groups: [], lines: 0, files: 0 };
    const series = await read('series', `${seriesDir}/`, 'the series', () => data.series(), []);
    const events = await read('events', bundleLayout.events, 'the events', () => data.events(), []);
    const changes = await read('changes', bundleLayout.changes, 'the changes', () => data.changes(), []);
    if (options.onRecords) {
      // Each part was read above, and a part that failed is a warning there: the view then reads
      // the bundle itself.
      const records = await data.records().catch(() => undefined);
      if (records) options.onRecords(records);
    }
    const top = options.top ?? 5;
    // Where the next step's commands run: the change's namespace, else the bundle's; pods for components.
    const where = {
      pods: await read('pods', bundleLayout.pods, 'the pods', () => data.pods(), []),
      changes,
      ...(bundle.manifest.namespace ? { namespace: bundle.manifest.namespace } : {}),
      ...(bundle.manifest.context ? { kubeContext: bundle.manifest.context } : {}),
    };
    const ordered = ranked.findings.sort(compareFindings);
    const still = await atCollection(bundle, data, ordered).catch((err: unknown) => {
      warnings.push({
        stage: 'analyze',
        name: 'at-collection',
        code: 'HINDSIGHT_ANALYZER_FAILED',
        message: `what was still failing at collection could not be read: ${errorMessage(err)}; the rest of the report stands`,
      });
      return [];
    });
    const report: Report = {
      schema: 'hindsight-report',
      version: 1,
      bundle: bundlePath,
      window: { from: bundle.manifest.window.from, to: bundle.manifest.window.to },
      generatedAt: (options.now ?? new Date()).toISOString(),
      ...(at !== undefined
        ? { incident: { at: new Date(at).toISOString(), earlierEpisodes: findings.length - kept.length } }
        : {}),
      verdict: ranked.verdict,
      summary: ranked.summary,
      hypotheses: foldIntoNodes(ranked.hypotheses, ranked.findings)
        .slice(0, top)
        .map((h) => ({ ...h, nextCommands: nextCommands(h, where) })),
      atCollection: still,
      findings: ordered,
      warnings: [...bundle.warnings, ...warnings],
      stats: {
        logLines: logs.lines,
        logFiles: logs.files,
        templates: logs.groups.reduce((s, g) => s + g.templates.size, 0),
        series: series.length,
        changes: changes.length,
        events: events.length,
        durationMs: Math.round(performance.now() - started),
      },
    };
    // Every value of the report passes the redactor, whatever wrote the bundle; what it still
    // found is counted apart from what the bundle's writer redacted.
    const redactor = reportRedactor(options.redactPatterns);
    const clean = redactReport(report, redactor);
    return { ...clean, redactions: { bundle: bundle.manifest.redactions ?? {}, report: redactor.counts() } };
  } finally {
    await bundle.close();
  }
}
