import type { BundleEvent, BundleWriter, LogSink, Pod } from '@hindsight/core';
import type { CoreV1Event, V1ObjectMeta, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import { apiError, loadKube, streamPodLog, type Kube } from '../kube.js';
import { mapLimit } from '../limit.js';
import type { Source, SourceContext, SourceResult } from '../source.js';

/** The label that names a workload's component (nginx, shop, redis, postgresql). */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** The annotation on a workload listing the components it calls, comma-separated. */
export const DEPENDS_ON_ANNOTATION = 'hindsight.dev/depends-on';

function iso(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function workloadOf(pod: V1Pod): string | undefined {
  const owner =
    pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return undefined;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  // A Deployment's pods belong to a ReplicaSet named <deployment>-<pod-template-hash>.
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
    return `Deployment/${owner.name.slice(0, -hash.length - 1)}`;
  }
  return `${owner.kind}/${owner.name}`;
}

function toPod(pod: V1Pod, namespace: string): Pod {
  const labels = pod.metadata?.labels ?? {};
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((c) => [c.name, c]));
  const component = labels[COMPONENT_LABEL];
  const workload = workloadOf(pod);
  const startTime = iso(pod.status?.startTime);
  return {
    namespace: pod.metadata?.namespace ?? namespace,
    name: pod.metadata?.name ?? '',
    ...(component ? { component } : {}),
    ...(workload ? { workload } : {}),
    labels,
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(startTime ? { startTime } : {}),
    containers: (pod.spec?.containers ?? []).map((c) => {
      const st = statuses.get(c.name);
      const term = st?.lastState?.terminated;
      const finishedAt = iso(term?.finishedAt);
      return {
        name: c.name,
        ...((st?.image ?? c.image) ? { image: st?.image ?? c.image } : {}),
        ...(st ? { ready: st.ready } : {}),
        restartCount: st?.restartCount ?? 0,
        ...(term
          ? {
              lastTermination: {
                ...(term.reason ? { reason: term.reason } : {}),
                exitCode: term.exitCode,
                ...(finishedAt ? { finishedAt } : {}),
              },
            }
          : {}),
      };
    }),
  };
}

function eventTime(e: CoreV1Event): string | undefined {
  return iso(
    e.lastTimestamp ??
      e.eventTime ??
      e.series?.lastObservedTime ??
      e.firstTimestamp ??
      e.metadata?.creationTimestamp,
  );
}

/** Reads pods, their containers' logs, events and the workloads' topology from the Kubernetes API. */
export const kubernetesSource: Source = {
  name: 'kubernetes',
  needs: ['kubeconfig'],
  async collect(writer: BundleWriter, ctx: SourceContext): Promise<SourceResult> {
    const kube = await loadKube(ctx.options);
    const ns = kube.namespace;
    const problems: string[] = [];
    let items = 0;

    ctx.progress(items, `pods in ${ns}`);
    let podList: V1Pod[];
    try {
      podList = (
        await kube.core.listNamespacedPod({
          namespace: ns,
          ...(ctx.options.selector ? { labelSelector: ctx.options.selector } : {}),
        })
      ).items;
    } catch (err) {
      throw new Error(`cannot list pods in ${ns} at ${kube.server}: ${apiError(err)}`);
    }
    const pods = podList.map((p) => toPod(p, ns)).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const p of pods) await writer.addPod(p);
    items += pods.length;

    // Workloads first: their components name the component of events about them (a StatefulSet
    // scaled up, a ReplicaSet creating pods), not only of events about pods.
    const componentOf = new Map<string, string>();
    for (const p of pods) if (p.component) componentOf.set(p.name, p.component);
    try {
      const topology = await readTopology(kube, ns);
      if (topology.components.length > 0) await writer.setTopology({ components: topology.components });
      for (const [k, v] of topology.componentOf) componentOf.set(k, v);
    } catch (err) {
      problems.push(`topology: ${apiError(err)}`);
      ctx.warn({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: `cannot read workloads in ${ns}: ${apiError(err)}`,
      });
    }

    const events: BundleEvent[] = [];
    // A container that ended in the window is a state transition worth a line of its own: its
    // events may have expired (the API keeps them one hour by default) while the pod status keeps it.
    for (const p of pods) {
      for (const c of p.containers) {
        const t = c.lastTermination;
        if (!t?.finishedAt) continue;
        const ms = Date.parse(t.finishedAt);
        if (ms < ctx.window.from || ms > ctx.window.to) continue;
        events.push({
          time: t.finishedAt,
          object: { kind: 'Pod', name: p.name, namespace: p.namespace },
          reason: 'ContainerTerminated',
          message: `container ${c.name} terminated: ${t.reason ?? 'unknown reason'}${t.exitCode !== undefined ? ` (exit code ${t.exitCode})` : ''}; restarts ${c.restartCount}`,
          type: t.reason === 'Completed' ? 'Normal' : 'Warning',
          count: 1,
          ...(p.component ? { component: p.component } : {}),
        });
      }
    }
    try {
      const list = await kube.core.listNamespacedEvent({ namespace: ns });
      for (const e of list.items) {
        const time = eventTime(e);
        if (!time) continue;
        const ms = Date.parse(time);
        if (ms < ctx.window.from || ms > ctx.window.to) continue;
        const objName = e.involvedObject?.name ?? '';
        // A ReplicaSet is named <deployment>-<hash>: its events belong to the Deployment's component.
        const component =
          componentOf.get(objName) ?? componentOf.get(objName.replace(/-[a-z0-9]{5,10}$/, ''));
        events.push({
          time,
          object: {
            kind: e.involvedObject?.kind ?? 'Unknown',
            name: objName,
            ...(e.involvedObject?.namespace ? { namespace: e.involvedObject.namespace } : {}),
          },
          reason: e.reason ?? '',
          message: e.message ?? '',
          type: e.type === 'Warning' ? 'Warning' : 'Normal',
          count: Math.max(1, e.count ?? e.series?.count ?? 1),
          ...(component ? { component } : {}),
        });
      }
    } catch (err) {
      problems.push(`events: ${apiError(err)}`);
      ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: `cannot list events in ${ns}: ${apiError(err)}` });
    }
    events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    for (const e of events) await writer.addEvent(e);
    items += events.length;

    // Init containers ran before the others (a migration, a wait-for-redis): their logs count too.
    const initContainers = new Map(
      podList.map((p) => [
        p.metadata?.name ?? '',
        (p.status?.initContainerStatuses ?? []).map((c) => ({ name: c.name, restartCount: c.restartCount })),
      ]),
    );
    const jobs = pods.flatMap((p) =>
      [...(initContainers.get(p.name) ?? []), ...p.containers].flatMap((c) => [
        { namespace: p.namespace, pod: p.name, container: c.name, previous: false },
        ...(c.restartCount > 0
          ? [{ namespace: p.namespace, pod: p.name, container: c.name, previous: true }]
          : []),
      ]),
    );
    let lines = 0;
    let done = 0;
    const results = await mapLimit(
      jobs,
      ctx.options.fetchConcurrency ?? 4,
      async (job) => {
        let sink: LogSink | undefined;
        const r = await streamPodLog(
          kube,
          job,
          ctx.window,
          async (ts, _time, text) => {
            sink ??= await writer.openLog(job);
            await sink.write(ts, text);
          },
          ctx.signal,
        );
        lines += r.lines;
        done += 1;
        ctx.progress(items + lines, `logs ${done}/${jobs.length} containers`);
        return r;
      },
      ctx.signal,
    );
    results.forEach((r, i) => {
      if (r?.status !== 'rejected') return;
      const job = jobs[i] as (typeof jobs)[number];
      const what = `${job.pod}/${job.container}${job.previous ? ' (previous)' : ''}`;
      // The previous instance's log is gone once the node has cleaned it up: not a failure of ours.
      if (job.previous && (r.reason as { code?: number })?.code === 400) return;
      problems.push(`log ${what}: ${apiError(r.reason)}`);
      ctx.warn({
        code: 'HINDSIGHT_SOURCE_FAILED',
        message: `cannot read the log of ${what}: ${apiError(r.reason)}`,
        where: `${kube.server}/api/v1/namespaces/${job.namespace}/pods/${job.pod}/log`,
      });
    });
    items += lines;
    return {
      status: problems.length > 0 ? 'partial' : 'ok',
      items,
      ...(problems.length > 0 ? { detail: problems.slice(0, 5).join('; ') } : {}),
    };
  },
};

function dependsOf(meta: V1ObjectMeta | undefined, template: V1PodTemplateSpec | undefined): string[] {
  const raw =
    meta?.annotations?.[DEPENDS_ON_ANNOTATION] ??
    template?.metadata?.annotations?.[DEPENDS_ON_ANNOTATION] ??
    '';
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Components and what each calls, from the workloads' labels and depends-on annotations. */
async function readTopology(
  kube: Kube,
  namespace: string,
): Promise<{ components: Array<{ name: string; dependsOn: string[] }>; componentOf: Map<string, string> }> {
  // A kind the API does not serve (404: a read-only view may serve only some) has no workloads.
  const orEmpty = <T>(p: Promise<{ items: T[] }>): Promise<T[]> =>
    p.then(
      (l) => l.items,
      (err: unknown) => {
        if ((err as { code?: number })?.code === 404) return [];
        throw err;
      },
    );
  const [deps, sets, daemons] = await Promise.all([
    orEmpty(kube.apps.listNamespacedDeployment({ namespace })),
    orEmpty(kube.apps.listNamespacedStatefulSet({ namespace })),
    orEmpty(kube.apps.listNamespacedDaemonSet({ namespace })),
  ]);
  const out = new Map<string, Set<string>>();
  const componentOf = new Map<string, string>();
  for (const w of [...deps, ...sets, ...daemons]) {
    const name = w.metadata?.labels?.[COMPONENT_LABEL] ?? w.metadata?.name;
    if (!name) continue;
    if (w.metadata?.name) componentOf.set(w.metadata.name, name);
    const set = out.get(name) ?? new Set<string>();
    for (const d of dependsOf(w.metadata, w.spec?.template)) set.add(d);
    out.set(name, set);
  }
  const components = [...out.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, set]) => ({ name, dependsOn: [...set].sort() }));
  return { components, componentOf };
}
