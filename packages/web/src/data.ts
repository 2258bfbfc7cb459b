import {
  Redactor,
  bundleLayout,
  changeId,
  counterRate,
  histogramQuantiles,
  isCounter,
  openBundle,
  seriesKey,
  type Bundle,
  type BundleEvent,
  type LogFileRef,
  type Manifest,
  type Pod,
  type Series,
  type Warning,
} from '@hindsight/core';
import {
  BundleData,
  analysisWindow,
  templateMatcher,
  type BundleRecords,
  type Grid,
  type LogGroup,
  type MinedLogs,
  type TemplateStats,
} from '@hindsight/investigate';
import type {
  ChangeView,
  SeriesData,
  SeriesInfo,
  TemplateInfoView,
  TemplateLine,
  TemplateRates,
  TimelineItem,
} from './model.js';

// Series keys, change ids and counter rates are core's rules, the investigation's too, so a
// finding's signal opens its series and a hypothesis' changeId its change.
export { seriesKey, counterRate as toRate } from '@hindsight/core';

interface TemplateEntry {
  info: TemplateInfoView;
  /** The template as mined: `stats.id` is the group's id, which `info.id` extends when two groups share it. */
  stats: TemplateStats;
  group: LogGroup;
}

/**
 * A bundle read for the web view: series, changes, events and pods held in memory, the log
 * templates as the investigation mined them (per workload and container, on its bucket grid), and
 * the log files kept on disk, read again when the lines behind a template are asked for.
 */
export class BundleView {
  /** Per group, the matcher of lines to its templates, made on the first request for its lines. */
  private readonly matchers = new Map<LogGroup, (text: string) => string | undefined>();
  /** Whether it opened the bundle, and so closes it. */
  private owned = true;
  /** Whether its records are those an investigation read (else it read them itself). */
  private shared = false;

  private constructor(
    readonly bundle: Bundle,
    readonly series: Series[],
    readonly seriesInfo: SeriesInfo[],
    readonly changes: ChangeView[],
    readonly events: BundleEvent[],
    readonly pods: Pod[],
    private readonly logFiles: LogFileRef[],
    private readonly templates: Map<string, TemplateEntry>,
    /** The grid template counts are on: the investigation's, so a rate here matches its evidence. */
    private readonly grid: Grid,
    readonly logLines: number,
    /** Per pod, the first and last bucket holding any of its lines in the window. */
    private readonly podSpan: Map<string, [number, number]>,
    /** What every value shown passes, as the bundle's writer and the reports do. */
    private readonly redactor: Redactor,
  ) {}

  /**
   * Opens and reads a bundle; throws the HindsightError of `openBundle` when it cannot be read.
   * `mined` is the logs as an investigation of the same bundle mined them, and `read` the records
   * it read; what is not given, or settles without a value, is read (and the logs mined) here, as
   * the investigation reads them, unless `signal` was aborted meanwhile (the reading is then given
   * up with its reason).
   */
  static async load(
    location: string | Bundle,
    mined?: Promise<MinedLogs | undefined>,
    signal?: AbortSignal,
    redactPatterns: readonly RegExp[] = [],
    read?: Promise<BundleRecords | undefined>,
  ): Promise<BundleView> {
    // A bundle the caller opened stays the caller's to close, whatever happens here.
    const bundle = typeof location === 'string' ? await openBundle(location) : location;
    // A bundle written by an older version, by hand or by another tool may hold secrets: every
    // record is redacted here, once, so no view can show one.
    const redactor = new Redactor({ patterns: redactPatterns });
    try {
      let records = await read?.catch(() => undefined);
      const shared = records !== undefined;
      if (!records) {
        if (read) signal?.throwIfAborted();
        records = await readRecords(bundle);
      }
      const series = records.series.map((s) => redactor.value(s));
      const pods = records.pods.map((p) => redactor.value(p));
      const seriesInfo = series.map((s) => {
        const pod = s.labels['pod'];
        const component =
          s.labels['component'] ?? (pod === undefined ? undefined : records.podComponents[pod]);
        const info: SeriesInfo = {
          key: seriesKey(s.name, s.labels),
          name: s.name,
          labels: s.labels,
          kind: s.kind,
          points: s.points.length,
        };
        if (s.unit !== undefined) info.unit = s.unit;
        if (component !== undefined) info.component = component;
        if (pod !== undefined) info.pod = pod;
        return info;
      });
      const changes = records.changes
        .map((c) => redactor.scrub(redactor.value(c)))
        .map((c): ChangeView => ({ ...c, id: changeId(c), timeMs: Date.parse(c.time) }))
        .sort((a, b) => a.timeMs - b.timeMs || a.id.localeCompare(b.id));
      const events = records.events
        .map((e) => redactor.value(e))
        .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
      let logs = await mined?.catch(() => undefined);
      if (!logs) {
        signal?.throwIfAborted();
        logs = await mineHere(bundle);
      }
      const templates = templatesOf(logs.model.groups, redactor);
      const view = new BundleView(
        bundle,
        series,
        seriesInfo,
        changes,
        events,
        pods,
        records.logFiles,
        templates,
        logs.grid,
        logs.model.lines,
        podSpans(templates),
        redactor,
      );
      view.owned = typeof location === 'string';
      view.shared = shared;
      return view;
    } catch (err) {
      if (typeof location === 'string') await bundle.close();
      throw err;
    }
  }

  /** The bundle's manifest, redacted as every record is (its `redactions` counts kept). */
  get manifest(): Manifest {
    return this.redactor.value(this.bundle.manifest, { verbatim: ['redactions'] });
  }

  /**
   * The problems met reading the bundle, in the order the views read it: the bundle's own (opening,
   * and its records when read here), then, when the records are an investigation's, the problems
   * it met in them, among `reported`, in the order a view reads them.
   */
  readWarnings(reported: readonly Warning[]): Warning[] {
    if (!this.shared) return [...this.bundle.warnings];
    const { topology, seriesDir, pods, changes, events, logsDir } = bundleLayout;
    const order = [topology, `${seriesDir}/`, pods, changes, events, `${logsDir}/`];
    const rank = (w: Warning): number =>
      w.stage === 'read' && w.where !== undefined ? order.findIndex((p) => w.where?.startsWith(p)) : -1;
    const read = reported
      .map((w) => ({ w, r: rank(w) }))
      .filter(({ r }) => r >= 0)
      .sort((a, b) => a.r - b.r)
      .map(({ w }) => w);
    return [...this.bundle.warnings, ...read];
  }

  /** The width of a template's count buckets in ms. */
  get bucketMs(): number {
    return this.grid.bucketMs;
  }

  /** Every component named by a pod, a series, a change or an event, sorted. */
  components(): string[] {
    const set = new Set<string>();
    for (const p of this.pods) if (p.component) set.add(p.component);
    for (const s of this.seriesInfo) if (s.component) set.add(s.component);
    for (const c of this.changes) for (const x of c.components ?? []) set.add(x);
    for (const e of this.events) if (e.component) set.add(e.component);
    for (const t of this.templates.values()) set.add(t.info.component);
    return [...set].sort();
  }

  /** Changes and events as timeline items (anomalies come from the investigation). */
  timeline(): TimelineItem[] {
    const items: TimelineItem[] = [];
    for (const c of this.changes) {
      const rev =
        c.fromRevision !== undefined && c.toRevision !== undefined
          ? ` revision ${c.fromRevision} -> ${c.toRevision}`
          : '';
      const item: TimelineItem = {
        id: `change:${c.id}`,
        kind: 'change',
        timeMs: c.timeMs,
        title: `${c.kind} ${c.target}${rev}`,
        detail: c.diff
          .slice(0, 3)
          .map((d) => `${d.path}: ${show(d.from)} -> ${show(d.to)}`)
          .join('; '),
        severity: 'info',
        ref: { change: c.id },
      };
      const component = c.components?.[0];
      if (component !== undefined) item.component = component;
      items.push(item);
    }
    this.events.forEach((e, i) => {
      const item: TimelineItem = {
        id: `event:${i}`,
        kind: 'event',
        timeMs: Date.parse(e.time),
        title: `${e.reason} ${e.object.kind}/${e.object.name}${e.count > 1 ? ` x${e.count}` : ''}`,
        detail: e.message,
        severity: e.type === 'Warning' ? 'warning' : 'info',
      };
      const component = e.component ?? this.pods.find((p) => p.name === e.object.name)?.component;
      if (component !== undefined) item.component = component;
      if (e.object.kind === 'Pod') item.pod = e.object.name;
      items.push(item);
    });
    return items.sort((a, b) => a.timeMs - b.timeMs || a.id.localeCompare(b.id));
  }

  /** Series with this name whose labels include every label given (all of them when none is). */
  findSeries(name: string, labels: Record<string, string> = {}): SeriesData[] {
    const out: SeriesData[] = [];
    this.series.forEach((s, i) => {
      if (s.name !== name) return;
      for (const [k, v] of Object.entries(labels)) if (s.labels[k] !== v) return;
      const info = this.seriesInfo[i] as SeriesInfo;
      const rate = isCounter(s, s.points);
      out.push({ ...info, rate, data: rate ? counterRate(s.points) : s.points });
    });
    return out;
  }

  /** The series with this key, if any. */
  seriesByKey(key: string): SeriesData | undefined {
    const i = this.seriesInfo.findIndex((s) => s.key === key);
    if (i < 0) return undefined;
    const s = this.series[i] as Series;
    const rate = isCounter(s, s.points);
    return { ...(this.seriesInfo[i] as SeriesInfo), rate, data: rate ? counterRate(s.points) : s.points };
  }

  /** Templates, most lines first, optionally only those of a component or seen on a pod. */
  templateList(filter: { component?: string; pod?: string } = {}): TemplateInfoView[] {
    return [...this.templates.values()]
      .map((t) => t.info)
      .filter((t) => filter.component === undefined || t.component === filter.component)
      .filter((t) => filter.pod === undefined || (t.pods[filter.pod] ?? 0) > 0)
      .sort((a, b) => b.count - a.count || a.id.localeCompare(b.id));
  }

  /**
   * A template by its id here, or by the signal a finding names it with (`log:<group>:<id>`).
   */
  template(ref: string): TemplateEntry | undefined {
    const direct = this.templates.get(ref);
    if (direct || !ref.startsWith('log:')) return direct;
    const cut = ref.lastIndexOf(':');
    const group = ref.slice(4, cut);
    const id = ref.slice(cut + 1);
    for (const t of this.templates.values()) if (t.stats.id === id && t.group.name === group) return t;
    return undefined;
  }

  /**
   * A template's lines per second on each pod, per bucket: zero-filled where the pod logged, across
   * the bundle's window (which the investigation's grid may cover only part of, where the data does).
   */
  templateRates(id: string): TemplateRates | undefined {
    const t = this.template(id);
    if (!t) return undefined;
    const { from, bucketMs, buckets } = this.grid;
    const window = this.bundle.windowMs;
    const lo = Math.min(0, Math.floor((window.from - from) / bucketMs));
    const hi = Math.max(buckets - 1, Math.floor((window.to - from) / bucketMs));
    const perSecond = bucketMs / 1000;
    const pods = [...t.stats.podCounts.keys()].sort().map((pod) => {
      const counts = t.stats.podCounts.get(pod) as Float64Array;
      // Outside the pod's first and last line of any template the pod did not run (or did not
      // log), which a chart shows as no line rather than as a rate of zero.
      const [first, last] = this.podSpan.get(pod) ?? [0, buckets - 1];
      const data: Array<[number, number | null]> = [];
      for (let i = lo; i <= hi; i++)
        data.push([from + i * bucketMs, i < first || i > last ? null : (counts[i] as number) / perSecond]);
      return { pod, data };
    });
    return { template: t.info, bucketMs, pods };
  }

  /**
   * The log lines behind a template in the window, read again from the bundle, oldest first, at
   * most `limit`.
   */
  async templateLines(
    id: string,
    options: { pod?: string; limit?: number; fromMs?: number; toMs?: number } = {},
  ): Promise<{ lines: TemplateLine[]; truncated: boolean } | undefined> {
    const t = this.template(id);
    if (!t) return undefined;
    const limit = options.limit ?? 200;
    // The lines the template's count is of: those of the grid.
    const fromMs = Math.max(options.fromMs ?? -Infinity, this.grid.from);
    const toMs = Math.min(
      options.toMs ?? Infinity,
      this.grid.from + this.grid.buckets * this.grid.bucketMs - 1,
    );
    let match = this.matchers.get(t.group);
    if (!match) {
      match = templateMatcher(t.group);
      this.matchers.set(t.group, match);
    }
    const lines: TemplateLine[] = [];
    let truncated = false;
    for (const ref of this.logFiles) {
      if (ref.container !== t.group.container || !t.group.pods.has(ref.pod)) continue;
      if (options.pod !== undefined && ref.pod !== options.pod) continue;
      for await (const line of this.bundle.readLog(ref)) {
        if (line.time < fromMs || line.time > toMs) continue;
        if (match(line.text) !== t.stats.id) continue;
        if (lines.length >= limit) {
          truncated = true;
          break;
        }
        lines.push({
          pod: ref.pod,
          container: ref.container,
          timeMs: line.time,
          lineNo: line.lineNo,
          text: this.redactor.text(line.text),
        });
      }
    }
    lines.sort((a, b) => a.timeMs - b.timeMs || a.pod.localeCompare(b.pod) || a.lineNo - b.lineNo);
    return { lines, truncated };
  }

  /** Closes the bundle when it opened it (not one its caller opened). */
  async close(): Promise<void> {
    if (this.owned) await this.bundle.close();
  }
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Reads the records in this process, without an investigation: workloads and components named as
 * an investigation names them (from the topology and the pods), so that the views and a report
 * agree on which pod belongs where.
 */
async function readRecords(bundle: Bundle): Promise<BundleRecords> {
  const names = new BundleData(bundle, bundle.windowMs, 60_000);
  await names.components();
  const series: Series[] = [];
  for await (const s of bundle.series()) series.push(s);
  series.push(...histogramQuantiles(series));
  const pods = await bundle.pods();
  const changes = await bundle.changes();
  const events = await bundle.events();
  const logFiles = await bundle.logs();
  const podComponents: Record<string, string> = {};
  for (const s of series) {
    const pod = s.labels['pod'];
    if (pod !== undefined) podComponents[pod] ??= names.componentOf(pod);
  }
  return { series, pods, changes, events, logFiles, podComponents };
}

/** Mines the logs in this process, as an investigation of the bundle mines them. */
async function mineHere(bundle: Bundle): Promise<MinedLogs> {
  const { window, bucketMs } = await analysisWindow(bundle);
  return new BundleData(bundle, window, bucketMs).minedLogs();
}

/**
 * The templates of the window by the id the view names them with. A template seen only in the
 * baseline period (no line in the window) is left out: the view shows the window.
 */
function templatesOf(groups: LogGroup[], redactor: Redactor): Map<string, TemplateEntry> {
  const out = new Map<string, TemplateEntry>();
  for (const group of groups) {
    for (const stats of group.templates.values()) {
      if (stats.count === 0) continue;
      // Ids hash the template text, so two groups can share one: the second gets a suffix.
      const id = out.has(stats.id) ? `${stats.id}@${group.name}` : stats.id;
      const info: TemplateInfoView = {
        id,
        template: redactor.text(stats.template),
        group: group.name,
        component: group.component,
        container: group.container,
        count: stats.count,
        pods: Object.fromEntries(stats.pods),
      };
      out.set(id, { info, stats, group });
    }
  }
  return out;
}

/** Per pod, the first and last bucket in which it logged a line of any template. */
function podSpans(templates: Map<string, TemplateEntry>): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  for (const { stats } of templates.values()) {
    for (const [pod, counts] of stats.podCounts) {
      let first = -1;
      let last = -1;
      for (let i = 0; i < counts.length; i++) {
        if ((counts[i] as number) === 0) continue;
        if (first < 0) first = i;
        last = i;
      }
      if (first < 0) continue;
      const span = spans.get(pod);
      spans.set(pod, span ? [Math.min(span[0], first), Math.max(span[1], last)] : [first, last]);
    }
  }
  return spans;
}
