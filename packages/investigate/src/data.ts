import type { Bundle, BundleEvent, Change, LogFileRef, Pod, Series, Topology } from '@hindsight/core';
import {
  counterRate,
  histogramQuantiles,
  isCounter,
  isHistogramBucket,
  seriesKey,
  workloadOfPodName,
} from '@hindsight/core';
import { boundedBucketMs } from './extent.js';
import type { Grid, LogModel, MinedLogs, RequestLines } from './log-model.js';
import { mineInParallel, type Mined, type MineTask } from './mine.js';

/** A series on the bucket grid: counters turned into rates per second. */
export interface PreparedSeries {
  /** `name{label=value,...}` without the `source` label: the signal's identity. */
  key: string;
  name: string;
  labels: Record<string, string>;
  kind: Series['kind'];
  unit: string;
  component: string;
  pod?: string;
  /** Points as shown (rates for counters), at their own times. */
  points: Array<[number, number]>;
  /** Mean per bucket, NaN where there is no sample. */
  values: Float64Array;
}

/**
 * The series of `all` less those that measure again what another source measured: one name on one
 * pod from two sources (the redis source's samples and a Prometheus exporter's series of the same
 * Redis, named alike at collection), whose labels agree wherever both have one. The source with the
 * most points on that name and pod is kept (the finer sampling); the other's matching series are
 * dropped, so an analyzer sees one replication link, not one per source, and a finding is not counted
 * twice. Series without a pod, or with a label that parts them (another command, another replica),
 * all stay. The view still charts every series as recorded.
 */
function oneSourcePerMeasure<T extends { name: string; labels: Record<string, string>; points: unknown[] }>(
  all: T[],
): T[] {
  const groups = new Map<string, T[]>();
  for (const s of all) {
    const pod = s.labels['pod'];
    if (pod === undefined || s.labels['source'] === undefined) continue;
    const k = `${s.name}\u0000${pod}`;
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  const dropped = new Set<T>();
  for (const group of groups.values()) {
    const points = new Map<string, number>();
    for (const s of group) {
      const source = s.labels['source'] as string;
      points.set(source, (points.get(source) ?? 0) + s.points.length);
    }
    if (points.size < 2) continue;
    const kept = [...points].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    const keep = group.filter((s) => s.labels['source'] === kept);
    for (const s of group)
      if (s.labels['source'] !== kept && keep.some((k) => agree(k.labels, s.labels))) dropped.add(s);
  }
  return dropped.size === 0 ? all : all.filter((s) => !dropped.has(s));
}

/** True when two label sets agree on every label both have, `source` aside. */
function agree(a: Record<string, string>, b: Record<string, string>): boolean {
  for (const k of Object.keys(a)) if (k !== 'source' && k in b && a[k] !== b[k]) return false;
  return true;
}

// Redis commands that look at the server rather than use it: what redis_exporter, the redis
// source and a client's handshake send on every scrape or connection (INFO, ROLE, CONFIG GET,
// SLOWLOG, LATENCY, CLIENT SETNAME/INFO, HELLO, PING, SELECT, QUIT...). Their per-command series
// move with the monitoring and with reconnections (a restarted replica's exporter), not with the
// application: one ranked 2nd as the earliest unexplained anomaly in a lab run. The replication
// protocol's own commands (REPLCONF, PSYNC, SYNC: a replica's acknowledgements every second) are
// left out too: replication is read from INFO's fields (the redis analyzer), and REPLCONF's latency
// was named as what users felt. Every data command stays.
const REDIS_INTROSPECTION =
  /^(replconf|psync|sync|info|role|ping|echo|hello|auth|select|quit|reset|time|dbsize|lastsave|config\|get|slowlog\|.*|latency\|.*|client\|(setname|getname|info|list|id|setinfo|no-evict|no-touch)|command(\|.*)?|memory\|(stats|doctor|usage|malloc-stats)|module\|list|acl\|(whoami|list|users|cat))$/i;

/** True for a Redis per-command series of a command that only looks at the server. */
function isIntrospection(s: Pick<Series, 'name' | 'labels'>): boolean {
  if (!s.name.startsWith('redis_')) return false;
  const cmd = s.labels['command'] ?? s.labels['cmd'];
  return cmd !== undefined && REDIS_INTROSPECTION.test(cmd);
}

/** The bucket index of a time on a grid, or -1 outside it. */
export function bucketOf(t: number, from: number, bucketMs: number, n: number): number {
  const i = Math.floor((t - from) / bucketMs);
  return i >= 0 && i < n ? i : -1;
}

/** How {@link BundleData} reads. */
export interface BundleDataOptions {
  /** Called with a short description of each step of mining. */
  onProgress?: (what: string) => void;
  /** Threads that mine the logs (see mineInParallel). */
  workers?: 1 | 2;
  /** Keep the series as read (besides on the grid), for {@link BundleData.records}. */
  keepSeries?: boolean;
}

/**
 * The records of a bundle as an investigation read them, for a view that shows them without reading
 * the bundle again: series as recorded (counters not yet rates), pods, changes, events, the log
 * files, and the component of each pod named anywhere, as the investigation named it.
 */
export interface BundleRecords {
  series: Series[];
  pods: Pod[];
  changes: Change[];
  events: BundleEvent[];
  logFiles: LogFileRef[];
  podComponents: Record<string, string>;
}

// Common infrastructure names recognised inside a workload or series name when the bundle does not
// label its components.
const WELL_KNOWN = ['postgresql', 'postgres', 'redis', 'nginx', 'mysql', 'mongodb', 'kafka', 'memcached'];

/**
 * The parts of a bundle every analyzer shares, each loaded once on first use: changes, events,
 * pods, topology, series on the bucket grid, and the logs mined into templates.
 */
export class BundleData {
  private cache = new Map<string, Promise<unknown>>();
  readonly buckets: number;
  /** The bucket width: as given, or wider when the window would need more than MAX_BUCKETS. */
  readonly bucketMs: number;
  private podIndex: Map<string, Pod> | undefined;
  private knownComponents: Set<string> = new Set();
  private readonly recorded: Series[] | undefined;

  constructor(
    private readonly bundle: Bundle,
    readonly window: { from: number; to: number },
    bucketMs: number,
    private readonly options: BundleDataOptions = {},
  ) {
    if (options.keepSeries) this.recorded = [];
    this.bucketMs = boundedBucketMs(window.to - window.from, bucketMs);
    this.buckets = Math.max(1, Math.ceil((window.to - window.from) / this.bucketMs));
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.cache.set(key, p);
    }
    return p;
  }

  /** Bucket start time of bucket `i`. */
  timeOf(i: number): number {
    return this.window.from + i * this.bucketMs;
  }

  changes(): Promise<Change[]> {
    return this.once('changes', async () =>
      (await this.bundle.changes()).sort((a, b) => Date.parse(a.time) - Date.parse(b.time)),
    );
  }

  events(): Promise<BundleEvent[]> {
    return this.once('events', () => this.bundle.events());
  }

  pods(): Promise<Pod[]> {
    return this.once('pods', async () => {
      const pods = await this.bundle.pods();
      this.podIndex = new Map(pods.map((p) => [p.name, p]));
      for (const p of pods) if (p.component) this.knownComponents.add(p.component);
      return pods;
    });
  }

  /** The topology from topology.json, else empty (components then come from labels). */
  topology(): Promise<Topology> {
    return this.once('topology', async () => {
      const t = (await this.bundle.topology()) ?? { components: [] };
      for (const c of t.components) {
        this.knownComponents.add(c.name);
        for (const d of c.dependsOn) this.knownComponents.add(d);
      }
      return t;
    });
  }

  /** Every component name seen in topology, pods, series labels and log groups. */
  async components(): Promise<Set<string>> {
    await Promise.all([this.topology(), this.pods()]);
    return this.knownComponents;
  }

  /**
   * The workload a pod belongs to: from pods.jsonl, else its name without the controller's suffix.
   * Bundles collected before the workload had one form wrote `Kind/name`: the kind is dropped.
   */
  workloadOf(pod: string): string {
    const recorded = this.podIndex?.get(pod)?.workload;
    if (recorded) return recorded.slice(recorded.indexOf('/') + 1);
    return workloadOfPodName(pod);
  }

  /** The component of a pod or workload name: labels first, then a known name inside it. */
  componentOf(podOrWorkload: string): string {
    const p = this.podIndex?.get(podOrWorkload);
    const fromPod = p?.component ?? p?.labels['app.kubernetes.io/component'];
    if (fromPod) return fromPod;
    return this.componentInName(podOrWorkload) ?? this.workloadOf(podOrWorkload);
  }

  /** A known component named by one dash-separated part of `name`, the rightmost first. */
  componentInName(name: string): string | undefined {
    const parts = name.toLowerCase().split(/[-_.]/);
    const known = [...this.knownComponents, ...WELL_KNOWN];
    for (let i = parts.length - 1; i >= 0; i--) {
      const hit = known.find((k) => k.toLowerCase() === parts[i]);
      if (hit) return hit === 'postgres' && known.includes('postgresql') ? 'postgresql' : hit;
    }
    return undefined;
  }

  /** Every series on the bucket grid, counters as rates per second. */
  series(): Promise<PreparedSeries[]> {
    return this.once('series', async () => {
      await this.components();
      const out: PreparedSeries[] = [];
      const buckets: Series[] = [];
      for await (const s of this.bundle.series()) {
        if (s.labels['component']) this.knownComponents.add(s.labels['component']);
        this.recorded?.push(s);
        if (isIntrospection(s)) continue;
        // A histogram's buckets are read as its quantiles, below, not one by one.
        if (isHistogramBucket(s)) buckets.push(s);
        else out.push(this.prepare(s));
      }
      for (const q of histogramQuantiles(buckets)) {
        this.recorded?.push(q);
        out.push(this.prepare(q));
      }
      return oneSourcePerMeasure(out).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    });
  }

  private prepare(s: Series): PreparedSeries {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const kind = isCounter(s, pts) ? 'counter' : 'gauge';
    const points = kind === 'counter' ? counterRate(pts) : pts;
    const sum = new Float64Array(this.buckets);
    const n = new Float64Array(this.buckets);
    for (const [t, v] of points) {
      const i = bucketOf(t, this.window.from, this.bucketMs, this.buckets);
      if (i < 0 || !Number.isFinite(v)) continue;
      sum[i] = (sum[i] as number) + v;
      n[i] = (n[i] as number) + 1;
    }
    const values = new Float64Array(this.buckets);
    for (let i = 0; i < this.buckets; i++)
      values[i] = (n[i] as number) > 0 ? (sum[i] as number) / (n[i] as number) : Number.NaN;
    const pod = s.labels['pod'];
    const component =
      s.labels['component'] ??
      (pod ? this.componentOf(pod) : undefined) ??
      this.componentInName(s.name) ??
      s.labels['source'] ??
      'unknown';
    return {
      key: seriesKey(s.name, s.labels),
      name: s.name,
      labels: s.labels,
      kind,
      unit: kind === 'counter' ? `${s.unit ?? ''}/s`.replace(/^\/s$/, 'per second') : (s.unit ?? 'value'),
      component,
      ...(pod ? { pod } : {}),
      points,
      values,
    };
  }

  /** The bundle's log files, listed once. */
  private logFiles(): Promise<LogFileRef[]> {
    return this.once('log files', () => this.bundle.logs());
  }

  /**
   * The logs read once: mined into templates per workload and container, with counts per bucket,
   * and what their lines say of requests.
   */
  private mined(): Promise<Mined & { files: number }> {
    return this.once('mined', async () => {
      await this.components();
      const refs = await this.logFiles();
      const tasks: MineTask[] = refs.map((ref) => ({
        ref,
        group: `${this.workloadOf(ref.pod)}/${ref.container}`,
        workload: this.workloadOf(ref.pod),
        component: this.componentOf(ref.pod),
      }));
      for (const t of tasks) this.knownComponents.add(t.component);
      const mined = await mineInParallel(
        this.bundle,
        tasks,
        this.grid(),
        this.window,
        this.options.onProgress,
        this.options.workers,
      );
      return { ...mined, files: refs.length };
    });
  }

  /** The logs mined into templates per workload and container, with counts per bucket. */
  async logs(): Promise<LogModel> {
    const { groups, lines, files } = await this.mined();
    return { groups, lines, files };
  }

  /**
   * What the logs' lines say of requests, kept by the same reading that mined them: the lines that
   * carry a trace id (when the bundle has a baseline period) and the access logs' requests.
   */
  async requestLines(): Promise<RequestLines> {
    const { traced, access } = await this.mined();
    return { traced, access };
  }

  /**
   * The records as read, each part read once (here if not yet); needs `keepSeries`. Pods are named
   * by their component as the analyzers named them.
   */
  async records(): Promise<BundleRecords> {
    if (!this.recorded) throw new Error('BundleData.records needs the option keepSeries');
    await this.series();
    const [pods, changes, events, logFiles] = await Promise.all([
      this.pods(),
      this.changes(),
      this.events(),
      this.logFiles(),
    ]);
    const named = new Set<string>([...pods.map((p) => p.name), ...logFiles.map((f) => f.pod)]);
    for (const s of this.recorded) if (s.labels['pod'] !== undefined) named.add(s.labels['pod']);
    const podComponents: Record<string, string> = {};
    for (const pod of named) podComponents[pod] = this.componentOf(pod);
    return { series: this.recorded, pods, changes, events, logFiles, podComponents };
  }

  /** The mined logs with their grid, for a view that shows the templates the analyzers saw. */
  async minedLogs(): Promise<MinedLogs> {
    return { grid: this.grid(), model: await this.logs() };
  }

  /** The grid log lines are counted on, with the bundle's baseline period when it has one. */
  private grid(): Grid {
    const baseline = this.bundle.baselineMs;
    return {
      from: this.window.from,
      bucketMs: this.bucketMs,
      buckets: this.buckets,
      ...(baseline ? { baseline } : {}),
    };
  }

  /**
   * Traffic per bucket: the sum of nginx request rates when the bundle has them, else the lines of
   * the busiest log group. Used to tell a load burst from a change in behaviour.
   */
  traffic(): Promise<Float64Array | undefined> {
    return this.once('traffic', async () => {
      const series = await this.series();
      const req = series.filter((s) => /^nginx_requests(_total)?$/.test(s.name));
      if (req.length > 0) {
        const out = new Float64Array(this.buckets).fill(Number.NaN);
        for (const s of req) {
          for (let i = 0; i < this.buckets; i++) {
            const v = s.values[i] as number;
            if (Number.isFinite(v)) out[i] = (Number.isFinite(out[i]) ? (out[i] as number) : 0) + v;
          }
        }
        return out;
      }
      const logs = await this.logs();
      const busiest = [...logs.groups].sort((a, b) => b.lines - a.lines)[0];
      return busiest && busiest.lines > 0 ? busiest.totals : undefined;
    });
  }
}
