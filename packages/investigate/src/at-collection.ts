import type { Bundle, BundleEvent, Pod } from '@hindsight/core';
import type { BundleData, PreparedSeries } from './data.js';
import { clock } from './reporters/format.js';
import { median, runsOf } from './stats.js';
import type { AtCollection, Finding } from './types.js';

// How recent an event, a termination or a sample must be to describe the state at collection. The
// kubelet's restart back-off tops out at 5 minutes, so a container still crash-looping has stopped
// or been backed off within twice that.
const RECENT_MS = 10 * 60_000;
// A container restarted this many times, with its last stop recent, is looping, not restarted once.
const LOOPING_RESTARTS = 3;

/** Most severe first: the order of the section. */
const SEVERITY: readonly AtCollection['what'][] = [
  'crash-looping',
  'oom-killed',
  'failed',
  'image-pull-failing',
  'link-down',
  'pending',
  'replicas-not-ready',
  'not-ready',
];

// Event reasons that say what a pod is going through, checked in order.
const EVENT_STATES: Array<{ what: AtCollection['what']; reason: RegExp; message?: RegExp }> = [
  { what: 'image-pull-failing', reason: /^BackOff$/i, message: /pull/i },
  { what: 'crash-looping', reason: /^BackOff$|CrashLoop/i },
  { what: 'oom-killed', reason: /^OOMKill/i },
  { what: 'pending', reason: /^FailedScheduling$/i },
];

// Workload readiness as kube-state-metrics exports it: desired and ready replicas per workload.
const REPLICA_SERIES: Array<{ kind: string; label: string; want: string; ready: string }> = [
  {
    kind: 'Deployment',
    label: 'deployment',
    want: 'kube_deployment_spec_replicas',
    ready: 'kube_deployment_status_replicas_ready',
  },
  {
    kind: 'StatefulSet',
    label: 'statefulset',
    want: 'kube_statefulset_replicas',
    ready: 'kube_statefulset_status_replicas_ready',
  },
];

type Entry = Omit<AtCollection, 'evidence'> & { pod?: string; workload?: string; series?: string };

function stateOf(e: BundleEvent): AtCollection['what'] | undefined {
  return EVENT_STATES.find((s) => s.reason.test(e.reason) && (!s.message || s.message.test(e.message)))?.what;
}

/** The start of the last run of `times` (ascending) whose gaps stay under RECENT_MS. */
function runStart(times: number[]): number | undefined {
  return runsOf(times, (t) => t, RECENT_MS).at(-1)?.[0];
}

function lastMessage(events: BundleEvent[]): string | undefined {
  const e = events[events.length - 1];
  return e ? `${e.message}${e.count > 1 ? ` (x${e.count})` : ''}` : undefined;
}

type Container = Pod['containers'][number];

function stopOf(c: Container): string {
  const t = c.lastTermination;
  const exit = t?.exitCode === undefined ? '' : ` (exit ${t.exitCode})`;
  const at = t?.finishedAt ? ` at ${clock(Date.parse(t.finishedAt))}` : '';
  return `${t?.reason ?? 'terminated'}${exit}${at}`;
}

function sinceOf(list: BundleEvent[]): { since?: number } {
  const t = runStart(list.map((e) => Date.parse(e.time)));
  return t === undefined ? {} : { since: t };
}

type Base = Pick<Entry, 'object' | 'component' | 'pod'>;

function failedEntry(p: Pod, base: Base): Entry {
  const stops = p.containers.filter((c) => c.lastTermination);
  // A loop, not Math.max(...ended): spread arguments go on the stack, which a pod of 200,000
  // containers overflows.
  let since = Number.NEGATIVE_INFINITY;
  for (const c of stops) {
    const t = Date.parse(c.lastTermination?.finishedAt ?? '');
    if (t > since) since = t;
  }
  return {
    ...base,
    what: 'failed',
    ...(Number.isFinite(since) ? { since } : {}),
    detail: ['phase Failed', ...stops.map((c) => `container ${c.name} ${stopOf(c)}`)].join('; '),
  };
}

function pendingEntry(p: Pod, base: Base, events: BundleEvent[], end: number): Entry {
  const scheduling = events.filter((e) => stateOf(e) === 'pending');
  const started = p.startTime ? { since: Date.parse(p.startTime) } : sinceOf(scheduling);
  const why = lastMessage(scheduling.filter((e) => Date.parse(e.time) >= end - RECENT_MS));
  return { ...base, what: 'pending', ...started, detail: why ? `phase Pending; ${why}` : 'phase Pending' };
}

/** A running pod's containers that crash-loop, were OOM-killed lately or cannot pull their image. */
function containerEntries(p: Pod, base: Base, events: BundleEvent[], end: number): Entry[] {
  const recent = (what: AtCollection['what']): BundleEvent[] =>
    events.filter((e) => stateOf(e) === what && Date.parse(e.time) >= end - RECENT_MS);
  const looping = recent('crash-looping');
  const pulling = recent('image-pull-failing');
  // An event names its container only in its message, and older kubelets not at all: then it is
  // about the containers that are down or have restarted.
  const named = (list: BundleEvent[]): boolean =>
    list.some((e) => p.containers.some((c) => e.message.includes(c.name)));
  const about = (c: Container, list: BundleEvent[]): BundleEvent[] =>
    named(list)
      ? list.filter((e) => e.message.includes(c.name))
      : p.containers.length === 1 || c.ready === false || c.restartCount > 0
        ? list
        : [];
  const out: Entry[] = [];
  for (const c of p.containers) {
    const t = c.lastTermination;
    const stopped = t?.finishedAt ? Date.parse(t.finishedAt) : Number.NaN;
    const recentStop = c.restartCount > 0 && stopped >= end - RECENT_MS;
    const backoff = about(c, looping);
    const restarts = `restarted ${c.restartCount} time${c.restartCount === 1 ? '' : 's'}`;
    const entry = { ...base, container: c.name };
    if (backoff.length > 0 || (recentStop && (c.ready === false || c.restartCount >= LOOPING_RESTARTS))) {
      const times = events.filter((e) => stateOf(e) === 'crash-looping').map((e) => Date.parse(e.time));
      const began = runStart([...times, stopped].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b));
      const parts = [
        `container ${c.name} ${restarts}`,
        ...(t ? [`last ${stopOf(c)}`] : []),
        lastMessage(backoff),
      ];
      out.push({
        ...entry,
        what: 'crash-looping',
        ...(began === undefined ? {} : { since: began }),
        detail: parts.filter((x) => x !== undefined).join('; '),
      });
    } else if (recentStop && /OOM/i.test(t?.reason ?? '')) {
      out.push({
        ...entry,
        what: 'oom-killed',
        since: stopped,
        detail: `container ${c.name} ${stopOf(c)}, ${restarts}${c.ready === true ? ', ready again' : ''}`,
      });
    } else if (about(c, pulling).length > 0) {
      out.push({
        ...entry,
        what: 'image-pull-failing',
        ...sinceOf(events.filter((e) => stateOf(e) === 'image-pull-failing')),
        detail: `container ${c.name}: ${lastMessage(about(c, pulling)) ?? ''}`,
      });
    }
  }
  return out;
}

/** What is wrong with one pod of pods.jsonl at collection, given its events (ascending). */
function podEntries(p: Pod, events: BundleEvent[], end: number, component: string): Entry[] {
  const base: Base = { object: `Pod/${p.name}`, component, pod: p.name };
  if (p.phase === 'Succeeded') return [];
  if (p.phase === 'Failed') return [failedEntry(p, base)];
  if (p.phase === 'Pending') return [pendingEntry(p, base, events, end)];
  const out = containerEntries(p, base, events, end);
  const listed = new Set(out.map((e) => e.container));
  const unready = p.containers.filter((c) => c.ready === false && !listed.has(c.name));
  if (unready.length > 0) {
    const probes = events.filter(
      (e) => /^Unhealthy$/i.test(e.reason) && Date.parse(e.time) >= end - RECENT_MS,
    );
    const why = lastMessage(probes);
    out.push({
      ...base,
      what: 'not-ready',
      ...sinceOf(probes),
      detail: `container${unready.length === 1 ? '' : 's'} ${unready.map((c) => c.name).join(', ')} not ready${why ? `; ${why}` : ''}`,
    });
  }
  return out;
}

/** Pods the bundle knows only from events (created after the pod list, or not listed): their recent states. */
function eventOnlyEntries(events: BundleEvent[], end: number, data: BundleData): Entry[] {
  const out: Entry[] = [];
  const byState = new Map<string, BundleEvent[]>();
  for (const e of events) {
    const what = stateOf(e);
    if (!what) continue;
    const key = `${e.object.name}\u0000${what}`;
    byState.set(key, [...(byState.get(key) ?? []), e]);
  }
  for (const [key, list] of byState) {
    const last = list[list.length - 1] as BundleEvent;
    if (Date.parse(last.time) < end - RECENT_MS) continue;
    const [name, what] = key.split('\u0000') as [string, AtCollection['what']];
    const since = runStart(list.map((e) => Date.parse(e.time)));
    out.push({
      what,
      object: `Pod/${name}`,
      component: last.component ?? data.componentOf(name),
      pod: name,
      ...(since === undefined ? {} : { since }),
      detail: `${lastMessage(list) ?? last.reason}; no pod status in the bundle`,
    });
  }
  return out;
}

/** A Redis replica whose link to its master is down at its last sample. */
function linkEntries(series: PreparedSeries[], end: number): Entry[] {
  const out: Entry[] = [];
  const links = series.filter(
    (s) => s.kind === 'gauge' && (s.name === 'redis_master_link_up' || s.name === 'redis_master_link_status'),
  );
  // A replica whose samples stopped well before the others' was replaced or removed (a rolling
  // restart moves replicas to new addresses): its last value is not the state at collection.
  let latest = Number.NEGATIVE_INFINITY;
  for (const s of links) latest = Math.max(latest, s.points[s.points.length - 1]?.[0] ?? -Infinity);
  for (const s of links) {
    const last = s.points[s.points.length - 1];
    if (!last || last[1] !== 0 || last[0] < end - RECENT_MS) continue;
    const step = median(s.points.slice(1).map(([t], i) => t - (s.points[i] as [number, number])[0]));
    if (last[0] < latest - 3 * (Number.isNaN(step) ? 0 : step)) continue;
    let i = s.points.length - 1;
    while (i > 0 && (s.points[i - 1] as [number, number])[1] === 0) i--;
    const where = s.labels['node'] ?? s.labels['instance'] ?? s.key;
    out.push({
      what: 'link-down',
      object: s.pod ? `Pod/${s.pod}` : `Redis/${where}`,
      component: s.component,
      ...(s.pod ? { pod: s.pod } : {}),
      series: s.key,
      since: (s.points[i] as [number, number])[0],
      detail: `replication link to the master down at the last sample (${clock(last[0])}, ${where})`,
    });
  }
  return out;
}

/** Workloads with fewer ready replicas than desired, from kube-state-metrics series (the support-bundle importer writes them too). */
function replicaEntries(series: PreparedSeries[], end: number, data: BundleData): Entry[] {
  const found = new Map<string, Entry>();
  const add = (kind: string, name: string, ready: number, want: number): void => {
    if (ready >= want) return;
    found.set(`${kind}/${name}`, {
      what: 'replicas-not-ready',
      object: `${kind}/${name}`,
      component: data.componentOf(name),
      workload: name,
      detail: `${ready} of ${want} replicas ready`,
    });
  };
  const lastOf = (s: PreparedSeries | undefined): number | undefined => {
    const p = s?.points[s.points.length - 1];
    return p && p[0] >= end - RECENT_MS ? p[1] : undefined;
  };
  for (const r of REPLICA_SERIES) {
    for (const want of series.filter((s) => s.name === r.want)) {
      const name = want.labels[r.label];
      const ready = series.find(
        (s) =>
          s.name === r.ready &&
          s.labels[r.label] === name &&
          s.labels['namespace'] === want.labels['namespace'],
      );
      const w = lastOf(want);
      const n = lastOf(ready);
      if (name && w !== undefined && n !== undefined) add(r.kind, name, n, w);
    }
  }
  return [...found.values()];
}

/** The ids of the report's health findings about what an entry names, strongest first. */
function evidenceOf(e: Entry, findings: Finding[], data: BundleData): string[] {
  return findings
    .filter(
      (f) =>
        (e.series !== undefined && f.signal === e.series) ||
        (f.kind === 'health' &&
          f.pod !== undefined &&
          (f.pod === e.pod || (e.workload !== undefined && data.workloadOf(f.pod) === e.workload))),
    )
    .sort((a, b) => b.strength - a.strength || (a.id < b.id ? -1 : 1))
    .slice(0, 5)
    .map((f) => f.id);
}

function compare(a: AtCollection, b: AtCollection): number {
  const key = (x: AtCollection): string => `${x.object}\u0000${x.container ?? ''}\u0000${x.detail}`;
  return (
    SEVERITY.indexOf(a.what) - SEVERITY.indexOf(b.what) || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)
  );
}

/**
 * What is still broken when the bundle was collected (the end of its window): pods not ready,
 * crash-looping, pending, failed or OOM-killed lately, Redis replicas with their link down, and
 * workloads short of ready replicas. It describes the last state, whatever caused the incident:
 * empty for a quiet bundle.
 */
export async function atCollection(
  bundle: Bundle,
  data: BundleData,
  findings: Finding[],
): Promise<AtCollection[]> {
  const end = bundle.windowMs.to;
  const [pods, events, series] = await Promise.all([data.pods(), data.events(), data.series()]);
  const podEvents = new Map<string, BundleEvent[]>();
  for (const e of [...events].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))) {
    if (e.object.kind !== 'Pod' || Date.parse(e.time) > end) continue;
    // Pushed, not copied: a copy per event is quadratic in the events of one pod.
    const list = podEvents.get(e.object.name);
    if (list) list.push(e);
    else podEvents.set(e.object.name, [e]);
  }
  const listed = new Set(pods.map((p) => p.name));
  const entries: Entry[] = [
    ...pods.flatMap((p) =>
      podEntries(p, podEvents.get(p.name) ?? [], end, p.component ?? data.componentOf(p.name)),
    ),
    ...eventOnlyEntries(
      [...podEvents].filter(([name]) => !listed.has(name)).flatMap(([, list]) => list),
      end,
      data,
    ),
    ...linkEntries(series, end),
    ...replicaEntries(series, end, data),
  ];
  return entries
    .map(({ pod: _pod, workload: _workload, series: _series, ...rest }, i) => ({
      ...rest,
      evidence: evidenceOf(entries[i] as Entry, findings, data),
    }))
    .sort(compare);
}
