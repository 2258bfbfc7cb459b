import { podSchema, type BundleEvent, type Pod } from '@hindsight/core';
import type { Warn } from './files.js';
import {
  componentOf,
  isObject,
  list,
  str,
  time,
  workloadOf,
  type ContainerStatus,
  type K8sPod,
  type Terminated,
} from './k8s.js';
import { checked, guarded } from './records.js';

/** When each container's current and previous instance started, by `<ns>/<pod>/<container>`. */
export type Starts = Map<string, { current: number; previous: number }>;

/** Pods read from the support bundle, with what their containers tell about time. */
export interface PodsRead {
  pods: Pod[];
  /** The component of each pod, by `<ns>/<pod>`. */
  podComponent: Map<string, string>;
  starts: Starts;
  /** A `ContainerTerminated` event per container's last termination. */
  transitions: BundleEvent[];
}

interface Converted {
  pod: Record<string, unknown>;
  starts: Array<[string, { current: number; previous: number }]>;
  transitions: BundleEvent[];
}

function terminationOf(lt: Terminated): Record<string, unknown> {
  return {
    ...(lt.reason ? { reason: lt.reason } : {}),
    ...(lt.exitCode === undefined ? {} : { exitCode: lt.exitCode }),
    ...(lt.finishedAt ? { finishedAt: lt.finishedAt } : {}),
  };
}

function convert(p: K8sPod, name: string, namespace: string, component: string): Converted {
  const meta = p.metadata ?? {};
  const specContainers = list(p.spec?.containers).filter(isObject);
  const images = new Map(specContainers.map((c) => [c['name'], c['image']]));
  const out: Converted = { pod: {}, starts: [], transitions: [] };
  const containers: Array<Record<string, unknown>> = list(p.status?.containerStatuses)
    .filter(isObject)
    .map((raw) => {
      const s = raw as ContainerStatus;
      const lt = isObject(s.lastState?.terminated) ? s.lastState.terminated : undefined;
      const image = s.image ?? images.get(s.name);
      out.starts.push([
        `${namespace}/${name}/${String(s.name)}`,
        {
          current: time(s.state?.running?.startedAt ?? s.state?.terminated?.startedAt),
          previous: time(lt?.startedAt),
        },
      ]);
      const finished = time(lt?.finishedAt);
      if (lt && !Number.isNaN(finished)) {
        const exit = typeof lt.exitCode === 'number' ? lt.exitCode : undefined;
        out.transitions.push({
          time: new Date(finished).toISOString(),
          object: { kind: 'Pod', name, namespace },
          reason: 'ContainerTerminated',
          message: `container ${String(s.name)} terminated: ${str(lt.reason) ?? 'unknown reason'}, exit code ${exit ?? '?'}; ${typeof s.restartCount === 'number' ? s.restartCount : 0} restarts in all`,
          type: (exit ?? 0) === 0 ? 'Normal' : 'Warning',
          count: 1,
          component,
        });
      }
      return {
        name: s.name,
        ...(image === undefined ? {} : { image }),
        ...(s.ready === undefined ? {} : { ready: s.ready }),
        restartCount: s.restartCount ?? 0,
        ...(lt ? { lastTermination: terminationOf(lt) } : {}),
      };
    });
  for (const c of specContainers) {
    if (!containers.some((x) => x['name'] === c['name']))
      containers.push({ name: c['name'], ...(c['image'] ? { image: c['image'] } : {}), restartCount: 0 });
  }
  const workload = workloadOf(meta);
  out.pod = {
    namespace,
    name,
    component,
    ...(workload ? { workload } : {}),
    labels: meta.labels ?? {},
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    ...(p.status?.startTime ? { startTime: p.status.startTime } : {}),
    containers,
  };
  return out;
}

/**
 * Turns the Pods of the support bundle into bundle pods. A pod with a field of the wrong type
 * (a numeric image, a restartCount of -1) is skipped with a warning naming the file and field.
 */
export function readPods(listed: Array<{ item: K8sPod; file: string; index: number }>, warn: Warn): PodsRead {
  const read: PodsRead = { pods: [], podComponent: new Map(), starts: new Map(), transitions: [] };
  for (const { item: p, file, index } of listed) {
    const meta = p.metadata ?? {};
    if (meta.name === undefined || meta.name === null || meta.name === '') continue;
    const where = { file, what: `pod ${String(meta.name)} (item ${index})` };
    const name = str(meta.name);
    const namespace = meta.namespace ?? 'default';
    if (!name || typeof namespace !== 'string') {
      warn(file, `${where.what}: field metadata.${name ? 'namespace' : 'name'}: not a string; skipped`);
      continue;
    }
    const c = guarded(where, warn, () => convert(p, name, namespace, componentOf(meta, workloadOf(meta))));
    const pod = c && checked(podSchema, c.pod, where, warn);
    if (!c || !pod) continue;
    read.pods.push(pod);
    read.podComponent.set(`${namespace}/${name}`, pod.component ?? name);
    for (const [k, v] of c.starts) read.starts.set(k, v);
    read.transitions.push(...c.transitions);
  }
  return read;
}
