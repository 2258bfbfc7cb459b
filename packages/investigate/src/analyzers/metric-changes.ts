import type { Pod } from '@hindsight/core';
import { median, detectExcursions, detectShifts } from '../stats.js';
import type { PreparedSeries } from '../data.js';
import { fmt, seriesEvidence } from '../evidence.js';
import { isProbeRequest } from '../probes.js';
import type { Analyzer, Finding } from '../types.js';

// Names of series that measure what users feel: failures, rejections and slowness.
const USER_FACING =
  /(5xx|4\d\d|499|504|error|fail|timeout|reject|latency|duration|request_time|response_time|p9\d)/i;
// Series that are the load itself: a change in them is traffic, not behaviour.
const LOAD = /^(nginx_requests(_total)?|nginx_status_[23]xx|http_requests(_total)?)$/;

/**
 * How much of a series' move the traffic explains: the ratio of its medians around the split
 * against the traffic's ratio. Returns a factor to scale the strength by (1 = traffic explains none).
 */
function trafficFactor(
  traffic: Float64Array | undefined,
  index: number,
  before: number,
  after: number,
): number {
  if (!traffic || before <= 0 || after <= 0) return 1;
  const tb = median(finite(traffic.subarray(0, index)));
  const ta = median(finite(traffic.subarray(index)));
  if (!(tb > 0) || !(ta > 0)) return 1;
  const rs = Math.log(after / before);
  const rt = Math.log(ta / tb);
  if (Math.abs(rt) < 0.1 || Math.sign(rs) !== Math.sign(rt)) return 1;
  // The part of the move the traffic does not account for, in log space.
  const unexplained = Math.abs(rs - rt) / Math.abs(rs);
  return Math.min(1, Math.max(0.1, unexplained));
}

function finite(xs: Float64Array): number[] {
  const out: number[] = [];
  for (const v of xs) if (Number.isFinite(v)) out.push(v);
  return out;
}

/** What every anomaly of a series has in common: its identity, where it is, and when it began. */
function seriesAnomaly(
  s: PreparedSeries,
  time: number,
): Pick<Finding, 'id' | 'analyzer' | 'generic' | 'kind' | 'component' | 'pod' | 'signal' | 'time'> {
  return {
    id: `metric:${s.key}@${time}`,
    analyzer: 'metric-changes',
    generic: true,
    kind: 'anomaly',
    component: s.component,
    ...(s.pod ? { pod: s.pod } : {}),
    signal: s.key,
    time,
  };
}

// Labels that say where a series is measured; the title names the place once, by the first of them.
const PLACE_LABELS = ['pod', 'node'] as const;
const NOT_DISTINGUISHING = new Set(['source', 'component', ...PLACE_LABELS]);

function placeOf(s: PreparedSeries): string | undefined {
  for (const k of PLACE_LABELS) if (s.labels[k]) return s.labels[k];
  return s.component === 'unknown' ? undefined : s.component;
}

/** True when `key`'s values and the places of `group` name each other one to one (`instance` beside `pod`). */
function samePlace(group: PreparedSeries[], key: string): boolean {
  const places = new Map<string, string>();
  const values = new Map<string, string>();
  for (const s of group) {
    const v = s.labels[key] ?? '';
    const p = placeOf(s) ?? '';
    if ((places.get(v) ?? p) !== p || (values.get(p) ?? v) !== v) return false;
    places.set(v, p);
    values.set(p, v);
  }
  return true;
}

/** Labels of `group` whose values differ between its series, in key order, except those in `skip`. */
function varying(group: PreparedSeries[], skip: (key: string) => boolean): string[] {
  const keys = new Set(group.flatMap((s) => Object.keys(s.labels)));
  return [...keys].filter((k) => !skip(k) && new Set(group.map((s) => s.labels[k] ?? '')).size > 1).sort();
}

/** True when two of `group` have samples over a common stretch of time. */
function overlap(group: PreparedSeries[]): boolean {
  const spans = group
    .map((s) => [s.points[0]?.[0] ?? Infinity, s.points.at(-1)?.[0] ?? -Infinity] as const)
    .sort((a, b) => a[0] - b[0]);
  let end = -Infinity;
  for (const [first, last] of spans) {
    if (first <= end) return true;
    end = Math.max(end, last);
  }
  return false;
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

function subject(s: PreparedSeries, keys: string[]): string {
  const place = placeOf(s);
  const labels = keys.filter((k) => s.labels[k] !== undefined).map((k) => `${k}=${s.labels[k]}`);
  return `${s.name}${place ? ` on ${place}` : ''}${labels.length > 0 ? ` (${labels.join(', ')})` : ''}`;
}

/**
 * What a title calls each series (by key): its name, where it is (the pod, else the node, else the
 * component) and only the labels that tell it apart from the other series of that name, e.g.
 * `redis_connected_slaves on shop-redis-master-0 (role=master)`. Why: at 3 a.m. the full key
 * (`{component=redis,node=127.0.0.1:41234,pod=...,role=master}`) buries the pod; it stays in the
 * finding's `signal` and its evidence's labels. Series that would read alike keep the labels that
 * part them only when they run at the same time (two processes in one pod); a pod restarted at a
 * new address is one place, one after the other.
 */
function seriesSubjects(series: PreparedSeries[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of groupBy(series, (s) => s.name)) {
    const keys = varying(group, (k) => NOT_DISTINGUISHING.has(k) || samePlace(group, k));
    for (const same of groupBy(group, (s) => subject(s, keys))) {
      const text = subject(same[0] as PreparedSeries, keys);
      const more = overlap(same) ? varying(same, (k) => k === 'source' || keys.includes(k)) : [];
      for (const s of same) out.set(s.key, more.length > 0 ? subject(s, [...keys, ...more].sort()) : text);
    }
  }
  return out;
}

/**
 * The names of the histograms and summaries among `series`: those with quantile series (a
 * histogram's are derived from its buckets) and a `_count`. Their `_count` is the load (requests
 * per second: a `duration` in the name does not make it slowness), their `_sum` is left out.
 */
function summaryFamilies(series: PreparedSeries[]): Set<string> {
  const names = new Set(series.map((s) => s.name));
  const out = new Set<string>();
  for (const s of series)
    if (s.labels['quantile'] !== undefined && names.has(`${s.name}_count`)) out.add(s.name);
  return out;
}

/**
 * Whether a series counts or times the kubelet's probes (a `route`, `path` or `handler` label that is
 * an HTTP probe's path of its pod, else of its component's pods): their rate is the kubelet's
 * schedule and starts with every new pod, not traffic (a new pod's readiness route ranked 2nd as the
 * earliest unexplained anomaly in a lab run).
 */
function probeFilter(pods: Pod[], componentOf: (pod: string) => string): (s: PreparedSeries) => boolean {
  const byName = new Map(pods.map((p) => [p.name, p]));
  const byComponent = new Map<string, Pod[]>();
  for (const p of pods) {
    const c = componentOf(p.name);
    const list = byComponent.get(c);
    if (list) list.push(p);
    else byComponent.set(c, [p]);
  }
  return (s) => {
    const route = s.labels['route'] ?? s.labels['path'] ?? s.labels['handler'];
    if (route === undefined) return false;
    const scope = s.pod !== undefined ? byName.get(s.pod) : byComponent.get(s.component);
    return isProbeRequest(scope, route);
  };
}

/** Change points on every series (counters as rates), each with its time, size and confidence. */
export const metricChanges: Analyzer = {
  name: 'metric-changes',
  needs: ['series'],
  async analyze(_bundle, ctx) {
    const series = await ctx.data.series();
    const traffic = await ctx.data.traffic();
    const subjects = seriesSubjects(series);
    const families = summaryFamilies(series);
    const probed = probeFilter(await ctx.data.pods(), (p) => ctx.data.componentOf(p));
    const out: Finding[] = [];
    for (const s of series) {
      if (probed(s)) continue;
      // A histogram's or summary's sum is its quantiles' news again, weighted by the load.
      if (s.name.endsWith('_sum') && families.has(s.name.slice(0, -4))) continue;
      const what = subjects.get(s.key) ?? s.key;
      const isLoad = LOAD.test(s.name) || (s.name.endsWith('_count') && families.has(s.name.slice(0, -6)));
      const shifts = detectShifts(s.values);
      // A rise that lasts a few samples and then ends is no level shift; judged against the
      // series' own earlier range it is still an anomaly (see detectExcursions).
      if (!isLoad && !shifts.some((sh) => sh.direction === 'up')) {
        for (const ex of detectExcursions(s.values)) {
          // Traffic before the run against traffic during it: a burst of load lifts it too.
          const f = trafficFactor(traffic?.subarray(0, ex.end), ex.onset, ex.baseline, ex.level);
          const strength = ex.strength * f;
          if (strength < 0.05) continue;
          const time = ctx.data.timeOf(ex.onset);
          out.push({
            ...seriesAnomaly(s, time),
            title: `${what} rose beyond its usual range ${fmt(ex.baseline)}..${fmt(ex.upper)} to ${fmt(ex.level)}${s.kind === 'counter' ? ' per second' : ''}${f < 0.5 ? ' (follows traffic)' : ''}`,
            end: ctx.data.timeOf(ex.end),
            strength,
            direction: 'up',
            userFacing: USER_FACING.test(s.name),
            evidence: [seriesEvidence(ctx, s, ex.baseline, ex.level)],
          });
        }
      }
      for (const sh of shifts) {
        let strength = sh.strength;
        let note = '';
        if (isLoad) {
          strength *= 0.2;
          note = ' (traffic)';
        } else {
          const f = trafficFactor(traffic, sh.index, sh.before, sh.after);
          if (f < 0.5) note = ' (follows traffic)';
          strength *= f;
        }
        // Errors or latency falling is a recovery (the end of an earlier failure), not an onset.
        const recovery = !isLoad && sh.direction === 'down' && USER_FACING.test(s.name);
        if (recovery) {
          strength *= 0.3;
          note += ' (recovery)';
        }
        if (strength < 0.05) continue;
        const time = ctx.data.timeOf(sh.onset);
        out.push({
          ...seriesAnomaly(s, time),
          title: `${what} ${sh.direction} ${fmt(sh.before)} -> ${fmt(sh.after)}${s.kind === 'counter' ? ' per second' : ''}${note}`,
          strength,
          direction: sh.direction,
          userFacing: !isLoad && sh.direction === 'up' && USER_FACING.test(s.name),
          evidence: [seriesEvidence(ctx, s, sh.before, sh.after)],
        });
      }
    }
    return out;
  },
};
