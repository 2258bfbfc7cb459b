import { setMaxListeners } from 'node:events';
import {
  errorMessage,
  podWorkload,
  subMillisecondNanos,
  type BundleEvent,
  type BundleWriter,
  type LogSink,
  type Pod,
} from '@hindsight/core';
import type {
  CoreV1Event,
  V1Container,
  V1ObjectMeta,
  V1Pod,
  V1PodTemplateSpec,
  V1Probe,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { apiError, loadKube, streamPodLog, type Kube, type LogReadResult, type PodLogRef } from '../kube.js';
import { RetryTally, type RetryOptions } from '../retry.js';
import { streamPodLogWithRetries, withKubeRetries } from './kubernetes-retry.js';
import { mapLimit, sleep } from '../limit.js';
import { COMPONENT_LABEL, DEPENDS_ON_ANNOTATION } from '../labels.js';
import { describeSkipped, LineThinner, type SkippedLog } from '../log-budget.js';
import type { Source, SourceContext, SourceResult } from '../source.js';

function iso(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  const d = t instanceof Date ? t : new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

type PodContainer = Pod['containers'][number];

/** A pod's IPs: `podIPs` lists them all (dual stack), `podIP` is the first; older servers have only it. */
function podIps(pod: V1Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip) => ip.length > 0);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** Where a container listens and the HTTP paths the kubelet probes it on (its requests are not users'). */
function listening(c: V1Container): Pick<PodContainer, 'ports' | 'probes'> {
  const ports = (c.ports ?? [])
    .filter((p) => Number.isInteger(p.containerPort) && p.containerPort > 0)
    .map((p) => ({
      containerPort: p.containerPort,
      ...(p.name ? { name: p.name } : {}),
      ...(p.protocol ? { protocol: p.protocol } : {}),
    }));
  const byName = new Map(ports.flatMap((p) => (p.name ? [[p.name, p.containerPort] as const] : [])));
  const probes: NonNullable<PodContainer['probes']> = [];
  const kinds: Array<[NonNullable<PodContainer['probes']>[number]['kind'], V1Probe | undefined]> = [
    ['liveness', c.livenessProbe],
    ['readiness', c.readinessProbe],
    ['startup', c.startupProbe],
  ];
  for (const [kind, probe] of kinds) {
    const get = probe?.httpGet;
    if (!get) continue;
    // The API server defaults an empty path to "/"; a port is a number or one of the container's names.
    const port = typeof get.port === 'number' ? get.port : (byName.get(get.port) ?? Number(get.port));
    probes.push({
      kind,
      path: get.path || '/',
      ...(Number.isInteger(port) && port > 0 ? { port } : {}),
    });
  }
  return { ...(ports.length > 0 ? { ports } : {}), ...(probes.length > 0 ? { probes } : {}) };
}

function toPod(pod: V1Pod, namespace: string): Pod {
  const labels = pod.metadata?.labels ?? {};
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((c) => [c.name, c]));
  const component = labels[COMPONENT_LABEL];
  const workload = podWorkload(pod.metadata);
  const startTime = iso(pod.status?.startTime);
  const ips = podIps(pod);
  return {
    namespace: pod.metadata?.namespace ?? namespace,
    name: pod.metadata?.name ?? '',
    ...(component ? { component } : {}),
    ...(workload ? { workload } : {}),
    labels,
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(startTime ? { startTime } : {}),
    ...(ips.length > 0 ? { ips } : {}),
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
        ...listening(c),
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

/** The pods the options select, as the API lists them. */
async function listPods(kube: Kube, selector: string | undefined): Promise<V1Pod[]> {
  try {
    return (
      await kube.core.listNamespacedPod({
        namespace: kube.namespace,
        ...(selector ? { labelSelector: selector } : {}),
      })
    ).items;
  } catch (err) {
    throw new Error(`cannot list pods in ${kube.namespace} at ${kube.server}: ${apiError(err)}`);
  }
}

/**
 * The containers whose logs count, with their restarts: init containers ran before the others (a
 * migration, a wait-for-redis), so theirs count too.
 */
function logContainers(pod: V1Pod): Array<{ name: string; restartCount: number }> {
  const restarts = new Map((pod.status?.containerStatuses ?? []).map((c) => [c.name, c.restartCount]));
  return [
    ...(pod.status?.initContainerStatuses ?? []).map((c) => ({ name: c.name, restartCount: c.restartCount })),
    ...(pod.spec?.containers ?? []).map((c) => ({ name: c.name, restartCount: restarts.get(c.name) ?? 0 })),
  ];
}

/** Records a failed log read, unless it only says the previous instance's log is gone. */
function logFailed(
  ctx: SourceContext<KubernetesSettings>,
  kube: Kube,
  problems: string[],
  job: PodLogRef,
  err: unknown,
): void {
  const what = `${job.pod}/${job.container}${job.previous ? ' (previous)' : ''}`;
  // The previous instance's log is gone once the node has cleaned it up: not a failure of ours.
  if (job.previous && (err as { code?: number })?.code === 400) return;
  problems.push(`log ${what}: ${apiError(err)}`);
  ctx.warn({
    code: 'HINDSIGHT_SOURCE_FAILED',
    message: `cannot read the log of ${what}: ${apiError(err)}`,
    where: `${kube.server}/api/v1/namespaces/${job.namespace}/pods/${job.pod}/log`,
  });
}

/** Lines kept per container log when `--max-log-lines` is not given. */
export const DEFAULT_MAX_LOG_LINES = 100_000;

const kubernetesSettingsSchema = z.object({
  selector: z.string().optional(),
  maxLogLines: z.coerce
    .number()
    .int()
    .positive({ message: '--max-log-lines must be a whole number of lines above 0' })
    .optional(),
});
/** The kubernetes source's settings: `--selector`, the pods whose logs are read; `--max-log-lines`. */
export type KubernetesSettings = z.infer<typeof kubernetesSettingsSchema>;

/** Reads pods, their containers' logs, events and the workloads' topology from the Kubernetes API. */
export const kubernetesSource: Source<KubernetesSettings> = {
  name: 'kubernetes',
  flags: [
    { flags: '-l, --selector <selector>', description: 'label selector for the pods whose logs are read' },
    {
      flags: '--max-log-lines <n>',
      description: `lines kept per container log (each instance's), sampled evenly past it; what is skipped goes to the manifest (default: ${DEFAULT_MAX_LOG_LINES})`,
    },
  ],
  schema: kubernetesSettingsSchema,
  needs: ['kubeconfig'],
  async collect(writer: BundleWriter, sourceCtx: SourceContext<KubernetesSettings>): Promise<SourceResult> {
    const [retries, ctx] = RetryTally.of(sourceCtx);
    const kube = withKubeRetries(await loadKube(ctx.options), retries.options());
    const problems: string[] = [];
    ctx.progress(0, `pods in ${kube.namespace}`);
    const listed = await listPods(kube, ctx.options.selector);
    let items: number;
    // A window that ends in the past (--to) has nothing left to follow.
    if ((ctx.options.watchMs ?? 0) > 0 && ctx.window.to > Date.now()) {
      const watched = await followLogs(writer, ctx, kube, listed, problems, retries.options());
      items = watched.lines + (await writeState(writer, ctx, kube, watched.pods, problems));
    } else {
      items = await writeState(writer, ctx, kube, listed, problems);
      items += await readLogs(writer, ctx, kube, listed, problems, items, retries.options());
    }
    retries.note(writer, 'kubernetes', kube.server);
    return {
      status: problems.length > 0 ? 'partial' : 'ok',
      items,
      ...(problems.length > 0 ? { detail: problems.slice(0, 5).join('; ') } : {}),
    };
  },
};

/** Writes the pods, the workloads' topology and the window's events; returns how many records. */
async function writeState(
  writer: BundleWriter,
  ctx: SourceContext<KubernetesSettings>,
  kube: Kube,
  podList: readonly V1Pod[],
  problems: string[],
): Promise<number> {
  const ns = kube.namespace;
  const pods = podList.map((p) => toPod(p, ns)).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const p of pods) await writer.addPod(p);

  // Workloads first: their components name the component of events about them (a StatefulSet
  // scaled up, a ReplicaSet creating pods), not only of events about pods.
  const componentOf = new Map<string, string>();
  for (const p of pods) if (p.component) componentOf.set(p.name, p.component);
  try {
    const topology = await readTopology(kube, ns);
    if (topology.components.length > 0) await writer.setTopology({ components: topology.components });
    for (const [k, v] of topology.componentOf) componentOf.set(k, v);
    // Desired and ready replicas as kube-state-metrics names them, one sample at collection: a
    // workload short of ready replicas is what a reader asks about first.
    const now = Math.min(Date.now(), ctx.window.to);
    for (const r of topology.replicas) {
      const labels = { source: 'kubernetes', namespace: ns, [r.kind]: r.name };
      const spec = r.kind === 'deployment' ? 'kube_deployment_spec_replicas' : 'kube_statefulset_replicas';
      await writer.addSeries({ name: spec, labels, kind: 'gauge', points: [[now, r.want]] });
      await writer.addSeries({
        name: `kube_${r.kind}_status_replicas_ready`,
        labels,
        kind: 'gauge',
        points: [[now, r.ready]],
      });
    }
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
      const component = componentOf.get(objName) ?? componentOf.get(objName.replace(/-[a-z0-9]{5,10}$/, ''));
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
  return pods.length + events.length;
}

/** Reads each container's log once, and its previous instance's when it restarted; returns the lines. */
async function readLogs(
  writer: BundleWriter,
  ctx: SourceContext<KubernetesSettings>,
  kube: Kube,
  podList: readonly V1Pod[],
  problems: string[],
  itemsBefore: number,
  retry: RetryOptions & { signal: AbortSignal },
): Promise<number> {
  const byName = [...podList].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const jobs: PodLogRef[] = byName.flatMap((p) =>
    logContainers(p).flatMap((c) => {
      const ref = {
        namespace: p.metadata?.namespace ?? kube.namespace,
        pod: p.metadata?.name ?? '',
        container: c.name,
      };
      return [{ ...ref, previous: false }, ...(c.restartCount > 0 ? [{ ...ref, previous: true }] : [])];
    }),
  );
  let lines = 0;
  let done = 0;
  const max = ctx.options.maxLogLines ?? DEFAULT_MAX_LOG_LINES;
  const skipped: SkippedLog[] = [];
  const results = await mapLimit(
    jobs,
    ctx.options.fetchConcurrency ?? 4,
    async (job) => {
      const r = await readLog(writer, kube, job, ctx.window, retry, max, skipped);
      lines += r.lines;
      done += 1;
      ctx.progress(itemsBefore + lines, `logs ${done}/${jobs.length} containers`);
      return r;
    },
    ctx.signal,
  );
  results.forEach((r, i) => {
    if (r?.status === 'rejected') logFailed(ctx, kube, problems, jobs[i] as PodLogRef, r.reason);
  });
  reportSkipped(writer, ctx, problems, max, skipped);
  return lines;
}

/** Names the logs the budget cut in the manifest's notes and the warnings. */
function reportSkipped(
  writer: BundleWriter,
  ctx: SourceContext<KubernetesSettings>,
  problems: string[],
  max: number,
  skipped: readonly SkippedLog[],
): void {
  if (skipped.length === 0) return;
  // Partial, with why: investigate's report lists it among its warnings.
  const what = describeSkipped('--max-log-lines', max, skipped);
  writer.addNote(`kubernetes: ${what}`);
  problems.push(what);
  ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: `pod logs cut by ${what}` });
}

/**
 * Reads one container log of the window into its bundle file, opened at its first line; past
 * `max` lines, an even sample of them, the log named in `skipped`.
 */
async function readLog(
  writer: BundleWriter,
  kube: Kube,
  job: PodLogRef,
  window: { from: number; to: number },
  retry: RetryOptions & { signal: AbortSignal },
  max = Infinity,
  skipped: SkippedLog[] = [],
): Promise<LogReadResult> {
  let sink: LogSink | undefined;
  const { signal } = retry;
  if (Number.isFinite(max)) {
    const thinner = new LineThinner(max);
    const r = await streamPodLogWithRetries(
      kube,
      job,
      window,
      async (ts, _time, text) => thinner.add(ts, text),
      signal,
      retry,
    );
    for (const l of thinner.lines()) {
      sink ??= await writer.openLog(job);
      await sink.write(l.time, l.text);
    }
    const kept = thinner.lines().length;
    if (kept < thinner.seen)
      skipped.push({
        log: `${job.pod}/${job.container}${job.previous ? ' (previous)' : ''}`,
        seen: thinner.seen,
        kept,
      });
    return { ...r, lines: kept };
  }
  return streamPodLogWithRetries(
    kube,
    job,
    window,
    async (ts, _time, text) => {
      sink ??= await writer.openLog(job);
      await sink.write(ts, text);
    },
    signal,
    retry,
  );
}

/** A log line's place in time to the nanosecond, as [unix ms, ns within the ms], for ordering. */
function stampOf(ts: string, time: number): [number, number] {
  return [time, subMillisecondNanos(ts)];
}

function compareStamps(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

/**
 * Follows one container's log until `stop`: the API's stream ends when the container instance
 * stops (a restart, its pod deleted), so it is opened again from the last line read, while the
 * pod is still listed. The API may resend lines at or after `sinceTime` (it keeps whole seconds):
 * lines before the last one read, and as many at its timestamp as were read, are skipped.
 * Past `budget.max` lines, the rest are counted, not written: a live log cannot be sampled evenly
 * before it ends.
 */
async function followContainer(
  writer: BundleWriter,
  kube: Kube,
  ref: PodLogRef,
  ctx: SourceContext<KubernetesSettings>,
  stop: AbortSignal,
  interval: number,
  listed: () => boolean,
  onLines: (n: number) => void,
  budget: { max: number; skipped: SkippedLog[] },
): Promise<{ error?: unknown }> {
  let sink: LogSink | undefined;
  let written = 0;
  let over = 0;
  let last: [number, number] | undefined;
  let atLast = 0;
  let error: unknown;
  while (!stop.aborted) {
    let fresh = 0;
    let skip = atLast;
    const since = last?.[0] ?? ctx.window.from;
    try {
      await streamPodLog(
        kube,
        ref,
        { from: since, to: ctx.window.to },
        async (ts, time, text) => {
          const stamp = stampOf(ts, time);
          const order = last ? compareStamps(stamp, last) : 1;
          if (order < 0) return;
          if (order === 0 && skip > 0) {
            skip -= 1;
            return;
          }
          if (order === 0) atLast += 1;
          else [last, atLast] = [stamp, 1];
          if (written >= budget.max) {
            over += 1;
            return;
          }
          written += 1;
          sink ??= await writer.openLog(ref);
          await sink.write(ts, text);
          fresh += 1;
          onLines(1);
        },
        stop,
        true,
      );
      error = undefined;
    } catch (err) {
      const code = (err as { code?: number })?.code;
      // 404: the pod is gone, and its log with it. 400: the container is waiting to start.
      if (code === 404) break;
      if (code !== 400) error = err;
    }
    if (stop.aborted || !listed()) break;
    // A stream that brought lines ended with its instance: the next one may be starting already.
    if (fresh === 0) await sleep(interval, stop);
  }
  if (over > 0)
    budget.skipped.push({ log: `${ref.pod}/${ref.container}`, seen: written + over, kept: written });
  return error === undefined ? {} : { error };
}

/**
 * `--watch`: follows every container's log from the window's start to its end, lists the pods
 * again every `intervalMs` and follows the containers of new ones, and keeps what was last known
 * of pods deleted meanwhile (their streams end with them). Returns every pod seen, for the bundle.
 */
async function followLogs(
  writer: BundleWriter,
  ctx: SourceContext<KubernetesSettings>,
  kube: Kube,
  first: readonly V1Pod[],
  problems: string[],
  retry: RetryOptions & { signal: AbortSignal },
): Promise<{ pods: V1Pod[]; lines: number }> {
  const interval = Math.max(100, ctx.options.intervalMs ?? 5000);
  const ending = new AbortController();
  const timer = setTimeout(() => ending.abort(), Math.max(0, ctx.window.to - Date.now()));
  const stop = AbortSignal.any([ctx.signal, ending.signal]);
  // Every follow holds a few listeners on it (its request, its pipeline, its wait) while it runs:
  // that many is the design, not a leak, so Node is not to warn past its default of 10.
  setMaxListeners(0, stop);
  const seen = new Map<string, V1Pod>();
  let current = new Set<string>();
  const followers: Array<Promise<void>> = [];
  const followed = new Set<string>();
  let lines = 0;
  const budget = { max: ctx.options.maxLogLines ?? DEFAULT_MAX_LOG_LINES, skipped: [] as SkippedLog[] };
  const count = (n: number): void => {
    lines += n;
  };

  const track = (pods: readonly V1Pod[]): void => {
    current = new Set(pods.map((p) => p.metadata?.name ?? ''));
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const isNew = !seen.has(name);
      seen.set(name, pod);
      for (const c of logContainers(pod)) {
        const ref = { namespace: pod.metadata?.namespace ?? kube.namespace, pod: name, container: c.name };
        const key = `${ref.namespace}/${name}/${c.name}`;
        if (followed.has(key)) continue;
        followed.add(key);
        // The instance before a restart that happened before the watch is read once; one that
        // restarts during the watch is followed to its end.
        if (isNew && c.restartCount > 0) {
          const prev = { ...ref, previous: true };
          followers.push(
            readLog(writer, kube, prev, ctx.window, retry, budget.max, budget.skipped).then(
              (r) => count(r.lines),
              (err: unknown) => logFailed(ctx, kube, problems, prev, err),
            ),
          );
        }
        const cur = { ...ref, previous: false };
        followers.push(
          followContainer(
            writer,
            kube,
            cur,
            ctx,
            stop,
            interval,
            () => current.has(name),
            count,
            budget,
          ).then((r) => {
            if (r.error !== undefined) logFailed(ctx, kube, problems, cur, r.error);
          }),
        );
      }
    }
    ctx.progress(lines, `following ${followed.size} containers of ${current.size} pods`);
  };

  let relistError: unknown;
  try {
    track(first);
    for (;;) {
      await sleep(interval, stop);
      if (stop.aborted) break;
      try {
        track(await listPods(kube, ctx.options.selector));
        relistError = undefined;
      } catch (err) {
        relistError = err;
      }
    }
    await Promise.all(followers);
  } finally {
    clearTimeout(timer);
  }
  reportSkipped(writer, ctx, problems, budget.max, budget.skipped);
  if (relistError !== undefined) {
    problems.push(`pods: ${errorMessage(relistError)}`);
    ctx.warn({ code: 'HINDSIGHT_SOURCE_FAILED', message: errorMessage(relistError) });
  }
  // The pods still there, as they are now; the ones deleted during the watch, as last seen.
  try {
    for (const p of await listPods(kube, ctx.options.selector)) {
      const name = p.metadata?.name ?? '';
      // A pod created after the watch has no log in the bundle: it is left out too.
      if (seen.has(name)) seen.set(name, p);
    }
  } catch {
    // What was seen last is still worth writing.
  }
  return { pods: [...seen.values()], lines };
}

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
): Promise<{
  components: Array<{ name: string; dependsOn: string[] }>;
  componentOf: Map<string, string>;
  replicas: Array<{ kind: 'deployment' | 'statefulset'; name: string; want: number; ready: number }>;
}> {
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
  const replicas = [
    ...deps.map((w) => ({ kind: 'deployment' as const, w })),
    ...sets.map((w) => ({ kind: 'statefulset' as const, w })),
  ]
    .filter(({ w }) => w.metadata?.name)
    .map(({ kind, w }) => ({
      kind,
      name: w.metadata?.name as string,
      want: w.spec?.replicas ?? 1,
      ready: w.status?.readyReplicas ?? 0,
    }));
  return { components, componentOf, replicas };
}
