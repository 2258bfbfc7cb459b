import type { BundleEvent, Pod } from '@hindsight/core';
import type { Analyzer, Finding } from '../types.js';

// How much each kind of event says about a failure; reasons are the kubelet's and the scheduler's.
const REASONS: Array<{ match: RegExp; strength: number; what: string; userFacing: boolean }> = [
  { match: /^OOMKill/i, strength: 0.9, what: 'killed for memory (OOM)', userFacing: false },
  { match: /^Evict/i, strength: 0.8, what: 'evicted', userFacing: false },
  { match: /^BackOff$|CrashLoop/i, strength: 0.8, what: 'crash-looping', userFacing: false },
  { match: /^Unhealthy$/i, strength: 0.6, what: 'probe failing', userFacing: false },
  { match: /^FailedScheduling$/i, strength: 0.6, what: 'cannot be scheduled (pending)', userFacing: false },
  {
    match: /^(Failed|FailedMount|FailedCreate|FailedAttachVolume)$/i,
    strength: 0.6,
    what: 'failing',
    userFacing: false,
  },
  { match: /^(Killing|Preempting|NodeNotReady)$/i, strength: 0.3, what: 'stopped', userFacing: false },
];

const STARTUP_MS = 90_000;
// Containers of several pods on one node that stopped abnormally within this long of each other
// stopped together: the node, its kubelet or its container runtime went down, not each app.
const TOGETHER_MS = 5_000;
const TOGETHER_MIN_CONTAINERS = 3;
// What a container's own restart finding keeps when its last stop was the node's, or followed it
// within AFTERMATH_MS on that node (apps that came back before what they need and failed again).
const WITH_NODE = 0.3;
const AFTERMATH_MS = 120_000;

interface Stop {
  pod: string;
  container: string;
  node: string;
  time: number;
  reason: string;
  exitCode?: number;
}

/**
 * Groups of abnormal last terminations (not a clean exit 0) on one node within TOGETHER_MS of the
 * group's first, spanning two pods or more and TOGETHER_MIN_CONTAINERS containers or more.
 */
function stoppedTogether(pods: Pod[]): Array<{ group: Stop[]; after: Stop[] }> {
  const byNode = new Map<string, Stop[]>();
  for (const p of pods) {
    if (!p.node) continue;
    for (const c of p.containers) {
      const t = c.lastTermination;
      if (!t?.finishedAt || (t.exitCode === 0 && !/OOM/i.test(t.reason ?? ''))) continue;
      const stop: Stop = {
        pod: p.name,
        container: c.name,
        node: p.node,
        time: Date.parse(t.finishedAt),
        reason: t.reason ?? 'terminated',
        ...(t.exitCode === undefined ? {} : { exitCode: t.exitCode }),
      };
      byNode.set(p.node, [...(byNode.get(p.node) ?? []), stop]);
    }
  }
  const out: Array<{ group: Stop[]; after: Stop[] }> = [];
  for (const stops of byNode.values()) {
    stops.sort((x, y) => x.time - y.time || (x.pod < y.pod ? -1 : 1));
    let group: Stop[] = [];
    const flush = (): void => {
      if (group.length < TOGETHER_MIN_CONTAINERS || new Set(group.map((x) => x.pod)).size < 2) return;
      const end = (group[group.length - 1] as Stop).time;
      const after = stops.filter((x) => x.time > end && x.time - end <= AFTERMATH_MS);
      out.push({ group, after });
    };
    for (const x of stops) {
      if (group.length > 0 && x.time - (group[0] as Stop).time > TOGETHER_MS) {
        flush();
        group = [];
      }
      group.push(x);
    }
    flush();
  }
  return out;
}

function nodeFinding({ group, after }: { group: Stop[]; after: Stop[] }): Finding {
  const first = group[0] as Stop;
  const last = group[group.length - 1] as Stop;
  const pods = new Set(group.map((s) => s.pod));
  const how = [
    ...new Set(group.map((s) => `${s.reason}${s.exitCode === undefined ? '' : `, exit ${s.exitCode}`}`)),
  ];
  return {
    id: `k8s:node/${first.node}:stopped@${first.time}`,
    analyzer: 'kubernetes-health',
    kind: 'health',
    component: `node/${first.node}`,
    signal: `k8s:node/${first.node}:stopped`,
    title:
      `node ${first.node}: ${group.length} containers in ${pods.size} pods stopped together` +
      ` (${how.slice(0, 3).join('; ')}): the node, its kubelet or its container runtime restarted` +
      (after.length > 0
        ? `; ${after.length} more failed within ${AFTERMATH_MS / 60_000} min after (${after.map((x) => x.container).join(', ')})`
        : ''),
    time: first.time,
    end: last.time,
    strength: 1,
    evidence: [...group, ...after].slice(0, 10).map((s) => ({
      type: 'event' as const,
      time: s.time,
      object: `Pod/${s.pod}`,
      reason: s.reason,
      message: `container ${s.container} stopped${s.exitCode === undefined ? '' : ` with exit code ${s.exitCode}`}`,
      count: 1,
    })),
  };
}

// Events that say a container failed (not that a rollout stopped it): its first one dates a restart.
const FAILURE = /^(BackOff|OOMKill\w*|Unhealthy|Failed|CrashLoop\w*)$/i;

/**
 * The first failure of container `container` of pod `p` that the events show: a back-off, an OOM
 * kill, a failing liveness probe, at or after the pod's start (a readiness probe's failures while
 * it starts are the rollout's). Events that name another container of the pod are not its.
 */
function firstFailureOf(p: Pod, container: string, events: BundleEvent[]): number | undefined {
  const started = p.startTime ? Date.parse(p.startTime) : -Infinity;
  let first: number | undefined;
  for (const e of events) {
    if (e.object.kind !== 'Pod' || e.object.name !== p.name || !FAILURE.test(e.reason)) continue;
    if (/^Unhealthy$/i.test(e.reason) && !/liveness/i.test(e.message)) continue;
    const named = /container "?([\w.-]+)"?/i.exec(e.message)?.[1];
    if (named !== undefined && named !== container && p.containers.some((c) => c.name === named)) continue;
    const t = Date.parse(e.time);
    if (t >= started && (first === undefined || t < first)) first = t;
  }
  return first;
}

/**
 * A pod's probe failures without those of its start (within STARTUP_MS) when it failed again
 * later: the later failures are the incident's, and their onset is the first of them, not the
 * pod's creation by an earlier rollout. Other events are kept as they are.
 */
function afterStartup(sorted: BundleEvent[], startOf: Map<string, number>): BundleEvent[] {
  const first = sorted[0];
  if (!first || !/^Unhealthy$/i.test(first.reason) || first.object.kind !== 'Pod') return sorted;
  const started = startOf.get(first.object.name);
  if (started === undefined) return sorted;
  const later = sorted.filter((e) => Date.parse(e.time) - started >= STARTUP_MS);
  return later.length > 0 ? later : sorted;
}

/** Restarts, OOM kills, probe failures, pending pods and evictions, from events.jsonl and pods.jsonl. */
export const kubernetesHealth: Analyzer = {
  name: 'kubernetes-health',
  family: 'kubernetes',
  needs: ['events', 'pods'],
  async analyze(_bundle, ctx) {
    const [events, pods] = await Promise.all([ctx.data.events(), ctx.data.pods()]);
    const startOf = new Map<string, number>();
    for (const p of pods) if (p.startTime) startOf.set(p.name, Date.parse(p.startTime));
    const groups = new Map<string, BundleEvent[]>();
    for (const e of events) {
      const known = REASONS.find((r) => r.match.test(e.reason));
      // Normal events are a rollout doing its job; only warnings and known failure reasons count.
      if (!known && e.type !== 'Warning') continue;
      if (known && known.strength < 0.5 && e.type !== 'Warning') continue;
      const key = `${e.object.kind}/${e.object.name}:${e.reason}`;
      const list = groups.get(key) ?? [];
      list.push(e);
      groups.set(key, list);
    }
    const out: Finding[] = [];
    for (const [key, list] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const sorted = afterStartup(
        [...list].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)),
        startOf,
      );
      const first = sorted[0] as BundleEvent;
      const last = sorted[sorted.length - 1] as BundleEvent;
      const known = REASONS.find((r) => r.match.test(first.reason));
      const count = sorted.reduce((s, e) => s + e.count, 0);
      const base = known?.strength ?? 0.4;
      let strength = Math.min(1, base * (0.7 + 0.1 * Math.min(3, count)));
      // A probe that fails a few times while its pod starts is a rollout, not a failure.
      const started = first.object.kind === 'Pod' ? startOf.get(first.object.name) : undefined;
      if (
        /^Unhealthy$/i.test(first.reason) &&
        started !== undefined &&
        Date.parse(last.time) - started < STARTUP_MS &&
        count <= 3
      )
        strength *= 0.3;
      const pod = first.object.kind === 'Pod' ? first.object.name : undefined;
      out.push({
        id: `k8s:${key}`,
        analyzer: 'kubernetes-health',
        kind: 'health',
        component: first.component ?? ctx.data.componentOf(first.object.name),
        ...(pod ? { pod } : {}),
        signal: `k8s:${key}`,
        title: `${first.object.kind} ${first.object.name} ${known?.what ?? first.reason}: ${first.message.slice(0, 120)}${count > 1 ? ` (x${count})` : ''}`,
        time: Date.parse(first.time),
        end: Date.parse(last.time),
        strength,
        userFacing: known?.userFacing ?? false,
        evidence: sorted.slice(0, 5).map((e) => ({
          type: 'event' as const,
          time: Date.parse(e.time),
          object: `${e.object.kind}/${e.object.name}`,
          reason: e.reason,
          message: e.message,
          count: e.count,
        })),
      });
    }
    const together = stoppedTogether(pods);
    out.push(...together.map(nodeFinding));
    const withNode = new Set(
      together.flatMap((t) => [...t.group, ...t.after]).map((x) => `${x.pod}/${x.container}`),
    );
    for (const p of pods) {
      const component = p.component ?? ctx.data.componentOf(p.name);
      if (p.phase === 'Pending' || p.phase === 'Failed') {
        const time = p.startTime ? Date.parse(p.startTime) : ctx.window.to;
        out.push({
          id: `k8s:pod/${p.name}:${p.phase}`,
          analyzer: 'kubernetes-health',
          kind: 'health',
          component,
          pod: p.name,
          signal: `k8s:pod/${p.name}:phase`,
          title: `pod ${p.name} is ${p.phase} at collection`,
          time,
          strength: 0.6,
          evidence: [
            {
              type: 'event',
              time,
              object: `Pod/${p.name}`,
              reason: p.phase,
              message: `phase ${p.phase}`,
              count: 1,
            },
          ],
        });
      }
      for (const c of p.containers) {
        if (c.restartCount === 0) continue;
        const reason = c.lastTermination?.reason ?? 'restarted';
        const finished = c.lastTermination?.finishedAt ? Date.parse(c.lastTermination.finishedAt) : undefined;
        // Dated at its first failure that the bundle shows, not at the pod's creation: a pod an
        // earlier rollout created may start failing only after a later change.
        const firstFailure = firstFailureOf(p, c.name, events);
        const seen = Math.min(firstFailure ?? Infinity, finished ?? Infinity);
        const time = Number.isFinite(seen) ? seen : p.startTime ? Date.parse(p.startTime) : ctx.window.from;
        const oom = /OOM/i.test(reason);
        out.push({
          id: `k8s:pod/${p.name}/${c.name}:restarts`,
          analyzer: 'kubernetes-health',
          kind: 'health',
          component,
          pod: p.name,
          signal: `k8s:pod/${p.name}/${c.name}:restarts`,
          title: `container ${p.name}/${c.name} restarted ${c.restartCount} time${c.restartCount === 1 ? '' : 's'} (last: ${reason}${c.lastTermination?.exitCode === undefined ? '' : `, exit ${c.lastTermination.exitCode}`})`,
          time,
          // A container ready again at collection stopped failing at its last termination.
          ...(finished !== undefined && finished > time && c.ready === true ? { end: finished } : {}),
          strength:
            Math.min(1, (oom ? 0.8 : 0.5) + 0.05 * c.restartCount) *
            (withNode.has(`${p.name}/${c.name}`) ? WITH_NODE : 1),
          evidence: [
            {
              type: 'event',
              time,
              object: `Pod/${p.name}`,
              reason,
              message: `container ${c.name} restartCount ${c.restartCount}`,
              count: c.restartCount,
            },
          ],
        });
      }
    }
    return out;
  },
};
