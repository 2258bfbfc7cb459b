import {
  openBundle,
  type Bundle,
  type BundleEvent,
  type Change,
  type LogFileRef,
  type Pod,
  type Series,
} from '@hindsight/core';
import { TemplateMiner } from '@hindsight/drain';
import { BundleData, bucketFor, parseLogLine } from '@hindsight/investigate';
import type {
  ChangeView,
  SeriesData,
  SeriesInfo,
  TemplateInfoView,
  TemplateLine,
  TemplateRates,
  TimelineItem,
} from './model.js';

/**
 * The series key: `name{k=v,...}`, labels sorted, `source` left out: the form the investigation's
 * findings name their signal with, so a finding links to its series.
 */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .filter((k) => k !== 'source')
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`);
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
}

interface TemplateGroup {
  /** `workload/container`, as the investigation names log groups. */
  name: string;
  component: string;
  container: string;
  miner: TemplateMiner;
  logs: LogFileRef[];
}

interface TemplateEntry {
  info: TemplateInfoView;
  /** The miner's id, which `info.id` extends when two components share a template. */
  minerId: string;
  group: TemplateGroup;
  /** pod -> bucket index -> lines */
  buckets: Map<string, Map<number, number>>;
}

/**
 * A bundle read for the web view: series, changes, events and pods held in memory, log templates
 * mined per component and container, and the log files kept on disk, read again when the lines
 * behind a template are asked for.
 */
export class BundleView {
  private constructor(
    readonly bundle: Bundle,
    readonly series: Series[],
    readonly seriesInfo: SeriesInfo[],
    readonly changes: ChangeView[],
    readonly events: BundleEvent[],
    readonly pods: Pod[],
    private readonly templates: Map<string, TemplateEntry>,
    readonly bucketMs: number,
    readonly logLines: number,
    /** Per pod, the first and last bucket index holding any of its lines. */
    private readonly podSpan: Map<string, [number, number]>,
  ) {}

  /** Opens and reads a bundle; throws the HindsightError of `openBundle` when it cannot be read. */
  static async load(location: string): Promise<BundleView> {
    const bundle = await openBundle(location);
    try {
      // Workloads and components are named as the investigation names them, so that the views and
      // the report agree on which pod belongs where.
      const names = new BundleData(bundle, bundle.windowMs, 60_000);
      await names.components();
      const series: Series[] = [];
      for await (const s of bundle.series()) series.push(s);
      const pods = await bundle.pods();
      const seriesInfo = series.map((s) => {
        const pod = s.labels['pod'];
        const component = s.labels['component'] ?? (pod === undefined ? undefined : names.componentOf(pod));
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
      const changes = (await bundle.changes())
        .map((c): ChangeView => ({ ...c, id: changeId(c), timeMs: Date.parse(c.time) }))
        .sort((a, b) => a.timeMs - b.timeMs || a.id.localeCompare(b.id));
      const events = (await bundle.events()).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
      // The investigation's grid, so a template's rate here matches the report's evidence.
      const bucketMs = bucketFor(bundle.windowMs.to - bundle.windowMs.from);
      const { templates, lines, podSpan } = await mine(bundle, names, bucketMs);
      return new BundleView(
        bundle,
        series,
        seriesInfo,
        changes,
        events,
        pods,
        templates,
        bucketMs,
        lines,
        podSpan,
      );
    } catch (err) {
      await bundle.close();
      throw err;
    }
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
      const rate = s.kind === 'counter';
      out.push({ ...info, rate, data: rate ? toRate(s.points) : s.points });
    });
    return out;
  }

  /** The series with this key, if any. */
  seriesByKey(key: string): SeriesData | undefined {
    const i = this.seriesInfo.findIndex((s) => s.key === key);
    if (i < 0) return undefined;
    const s = this.series[i] as Series;
    const rate = s.kind === 'counter';
    return { ...(this.seriesInfo[i] as SeriesInfo), rate, data: rate ? toRate(s.points) : s.points };
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
    for (const t of this.templates.values()) if (t.minerId === id && t.group.name === group) return t;
    return undefined;
  }

  /** A template's lines per second on each pod, per bucket (zero-filled across the window). */
  templateRates(id: string): TemplateRates | undefined {
    const t = this.template(id);
    if (!t) return undefined;
    const from = Math.floor(this.bundle.windowMs.from / this.bucketMs);
    const to = Math.floor(this.bundle.windowMs.to / this.bucketMs);
    const perSecond = this.bucketMs / 1000;
    const pods = [...t.buckets.keys()].sort().map((pod) => {
      const b = t.buckets.get(pod) as Map<number, number>;
      // Zero between the pod's first and last line of any template; outside, the pod did not run
      // (or did not log), which a chart shows as no line rather than as a rate of zero.
      const [first, last] = this.podSpan.get(pod) ?? [from, to];
      const data: Array<[number, number | null]> = [];
      for (let i = from; i <= to; i++)
        data.push([i * this.bucketMs, i < first || i > last ? null : (b.get(i) ?? 0) / perSecond]);
      return { pod, data };
    });
    return { template: t.info, bucketMs: this.bucketMs, pods };
  }

  /** The log lines behind a template, read again from the bundle, oldest first, at most `limit`. */
  async templateLines(
    id: string,
    options: { pod?: string; limit?: number; fromMs?: number; toMs?: number } = {},
  ): Promise<{ lines: TemplateLine[]; truncated: boolean } | undefined> {
    const t = this.template(id);
    if (!t) return undefined;
    const limit = options.limit ?? 200;
    const lines: TemplateLine[] = [];
    let truncated = false;
    for (const ref of t.group.logs) {
      if (options.pod !== undefined && ref.pod !== options.pod) continue;
      for await (const line of this.bundle.readLog(ref)) {
        if (options.fromMs !== undefined && line.time < options.fromMs) continue;
        if (options.toMs !== undefined && line.time > options.toMs) continue;
        if (t.group.miner.match(parseLogLine(line.text).content)?.id !== t.minerId) continue;
        if (lines.length >= limit) {
          truncated = true;
          break;
        }
        lines.push({
          pod: ref.pod,
          container: ref.container,
          timeMs: line.time,
          lineNo: line.lineNo,
          text: line.text,
        });
      }
    }
    lines.sort((a, b) => a.timeMs - b.timeMs || a.pod.localeCompare(b.pod) || a.lineNo - b.lineNo);
    return { lines, truncated };
  }

  async close(): Promise<void> {
    await this.bundle.close();
  }
}

/**
 * A change's id: its own, else kind, target, revision and time: the investigation's formula
 * (analyzers/config-changes.ts), so a hypothesis' `cause.changeId` opens the same change here.
 */
export function changeId(c: Change): string {
  if (c.id) return c.id;
  const rev = c.toRevision === undefined ? '' : `@${c.toRevision}`;
  return `${c.kind}:${c.target}${rev}:${c.time}`;
}

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Per-second rates of a cumulative counter; a drop is a reset, so the new value is the increase. */
export function toRate(points: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < points.length; i++) {
    const [t0, v0] = points[i - 1] as [number, number];
    const [t1, v1] = points[i] as [number, number];
    const dt = (t1 - t0) / 1000;
    if (dt <= 0) continue;
    const inc = v1 >= v0 ? v1 - v0 : v1;
    out.push([t1, inc / dt]);
  }
  return out;
}

// Structured lines repeat their mined text exactly, so a cache from text to template skips the
// miner for most of them; plain text rarely repeats, so its cache stays small. The investigation
// does the same (packages/investigate/src/data.ts: 3.97 M lines in 24 s).
const MAX_CACHE = 50_000;
const MAX_PLAIN_CACHE = 5_000;

/**
 * Mines every log in one pass. A template can generalise while lines arrive (its id changes); the
 * counts gathered under the old id are then moved to the new one at the end, following the chain
 * of renames, so every line counts under its final template.
 */
async function mine(
  bundle: Bundle,
  names: BundleData,
  bucketMs: number,
): Promise<{ templates: Map<string, TemplateEntry>; lines: number; podSpan: Map<string, [number, number]> }> {
  const groups = new Map<string, TemplateGroup>();
  for (const ref of await bundle.logs()) {
    const key = `${names.workloadOf(ref.pod)}/${ref.container}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        name: key,
        component: names.componentOf(ref.pod),
        container: ref.container,
        miner: new TemplateMiner({ bucketMs }),
        logs: [],
      };
      groups.set(key, g);
    }
    g.logs.push(ref);
  }
  let lines = 0;
  const podSpan = new Map<string, [number, number]>();
  const templates = new Map<string, TemplateEntry>();
  for (const g of groups.values()) {
    const renamed = new Map<string, string>();
    const cache = new Map<string, string>();
    // provisional id -> pod -> bucket -> lines
    const counts = new Map<string, Map<string, Map<number, number>>>();
    for (const ref of g.logs) {
      let first = Infinity;
      let last = -Infinity;
      for await (const l of bundle.readLog(ref)) {
        lines += 1;
        const bi = Math.floor(l.time / bucketMs);
        if (bi < first) first = bi;
        if (bi > last) last = bi;
        const parsed = parseLogLine(l.text);
        let id = cache.get(parsed.content);
        if (id === undefined) {
          const m = g.miner.add(parsed.content);
          if (m.previousId !== undefined) renamed.set(m.previousId, m.id);
          id = m.id;
          if (parsed.structured) {
            if (cache.size >= MAX_CACHE) cache.clear();
            cache.set(parsed.content, id);
          } else if (cache.size < MAX_PLAIN_CACHE) cache.set(parsed.content, id);
        }
        let byPod = counts.get(id);
        if (!byPod) {
          byPod = new Map();
          counts.set(id, byPod);
        }
        let b = byPod.get(ref.pod);
        if (!b) {
          b = new Map();
          byPod.set(ref.pod, b);
        }
        b.set(bi, (b.get(bi) ?? 0) + 1);
      }
      if (first <= last) {
        const span = podSpan.get(ref.pod);
        podSpan.set(ref.pod, span ? [Math.min(span[0], first), Math.max(span[1], last)] : [first, last]);
      }
    }
    for (const [provisional, byPod] of counts) {
      let minerId = provisional;
      for (let hops = 0; renamed.has(minerId) && hops < 10_000; hops++)
        minerId = renamed.get(minerId) as string;
      const info = g.miner.get(minerId);
      // Evicted by the miner's cap on templates: its lines are not shown.
      if (!info) continue;
      // Ids hash the template text, so two groups can share one: the second gets a suffix.
      let id = minerId;
      let t = templates.get(id);
      if (t && t.group !== g) {
        id = `${minerId}@${g.name}`;
        t = templates.get(id);
      }
      if (!t) {
        t = {
          info: {
            id,
            template: info.template,
            group: g.name,
            component: g.component,
            container: g.container,
            count: 0,
            pods: {},
          },
          minerId,
          group: g,
          buckets: new Map(),
        };
        templates.set(id, t);
      }
      for (const [pod, b] of byPod) {
        let into = t.buckets.get(pod);
        if (!into) {
          into = new Map();
          t.buckets.set(pod, into);
        }
        for (const [bi, n] of b) {
          into.set(bi, (into.get(bi) ?? 0) + n);
          t.info.count += n;
          t.info.pods[pod] = (t.info.pods[pod] ?? 0) + n;
        }
      }
    }
  }
  return { templates, lines, podSpan };
}
