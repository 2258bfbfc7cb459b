// What a Prometheus in the cluster would scrape, read from the applied objects as its service
// discovery reads them: the Prometheus Operator's ServiceMonitors and PodMonitors when the revision
// renders any, else the pods' prometheus.io/* annotations (the `kubernetes-pods` job). Addresses are
// the lab's: each pod's local port of the container port named.
import type { KubeObject } from '../kube-api.js';
import { matchesSelector, parseLabelSelector } from '../label-selector.js';
import type { LabPod } from './pod.js';

/** One scrape target: an address, its metrics path, and the labels its series get. */
export interface ScrapeTarget {
  address: string;
  path: string;
  labels: Record<string, string>;
}

/** How the targets were found: from monitors, from annotations, or none (nothing asks to be scraped). */
export type ScrapeDiscovery = 'monitors' | 'annotations' | 'none';

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A Kubernetes LabelSelector object as requirements (an empty selector matches everything). */
function requirements(sel: LabelSelector | undefined): ReturnType<typeof parseLabelSelector> {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === 'in' || op === 'notin') parts.push(`${e.key} ${op} (${(e.values ?? []).join(',')})`);
    else if (op === 'exists') parts.push(e.key);
    else if (op === 'doesnotexist') parts.push(`!${e.key}`);
  }
  return parseLabelSelector(parts.join(','));
}

/** The container declaring container port `port` (a number or a port name) of a pod, and that port. */
function containerPort(
  pod: LabPod,
  port: number | string,
): { container: string; containerPort: number; local: number } | undefined {
  const cport = typeof port === 'number' || /^\d+$/.test(port) ? Number(port) : pod.portNames.get(port);
  if (cport === undefined) return undefined;
  const local = pod.ports.get(cport);
  // A container the lab left out (its binary missing) is not scraped: nothing listens there.
  const c = pod.spec.containers.find((x) => x.ports?.some((p) => p.containerPort === cport));
  if (local === undefined || !c || pod.leftOut?.some((l) => l.container === c.name)) return undefined;
  return { container: c.name, containerPort: cport, local };
}

function target(
  pod: LabPod,
  namespace: string,
  port: number | string,
  path: string | undefined,
  labels: Record<string, string>,
): ScrapeTarget | undefined {
  const p = containerPort(pod, port);
  if (!p) return undefined;
  return {
    address: `127.0.0.1:${p.local}`,
    path: path || '/metrics',
    labels: { namespace, pod: pod.name, container: p.container, ...labels },
  };
}

/** The pods in service (not being deleted) whose labels match `sel`. */
function podsMatching(pods: Iterable<LabPod>, sel: LabelSelector | undefined): LabPod[] {
  const reqs = requirements(sel);
  return [...pods].filter((p) => !p.deleting && matchesSelector(p.labels, reqs));
}

/**
 * The targets of the applied revision: ServiceMonitors (their Services' pods, the port the endpoint
 * names, job = the Service's name, as the Operator labels them) and PodMonitors (job =
 * namespace/name) when there are any, else every pod annotated `prometheus.io/scrape: "true"` (its
 * `prometheus.io/port` and `prometheus.io/path`, job `kubernetes-pods`). Sorted, so that an unchanged
 * revision writes the same file.
 */
export function scrapeTargets(
  objects: readonly KubeObject[],
  pods: Iterable<LabPod>,
  namespace: string,
): { discovery: ScrapeDiscovery; targets: ScrapeTarget[] } {
  const all = [...pods];
  const out: ScrapeTarget[] = [];
  const monitors = objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PodMonitor');
  for (const m of monitors) {
    const spec = (m.spec ?? {}) as {
      selector?: LabelSelector;
      endpoints?: { port?: string; targetPort?: number | string; path?: string }[];
      podMetricsEndpoints?: { port?: string; path?: string }[];
    };
    if (m.kind === 'PodMonitor') {
      for (const pod of podsMatching(all, spec.selector))
        for (const ep of spec.podMetricsEndpoints ?? []) {
          const t =
            ep.port &&
            target(pod, namespace, ep.port, ep.path, {
              job: `${namespace}/${m.metadata.name}`,
              endpoint: ep.port,
            });
          if (t) out.push(t);
        }
      continue;
    }
    const sel = requirements(spec.selector);
    for (const svc of objects.filter(
      (o) => o.kind === 'Service' && matchesSelector(o.metadata.labels, sel),
    )) {
      const s = svc.spec as {
        selector?: Record<string, string>;
        ports?: { name?: string; port: number; targetPort?: number | string }[];
      };
      if (!s.selector) continue;
      for (const ep of spec.endpoints ?? []) {
        const sp = s.ports?.find((p) => (ep.port ? p.name === ep.port : p.port === Number(ep.targetPort)));
        if (!sp) continue;
        for (const pod of podsMatching(all, { matchLabels: s.selector })) {
          const t = target(pod, namespace, sp.targetPort ?? sp.port, ep.path, {
            job: svc.metadata.name,
            service: svc.metadata.name,
            endpoint: sp.name ?? String(sp.port),
          });
          if (t) out.push(t);
        }
      }
    }
  }
  let discovery: ScrapeDiscovery = monitors.length > 0 ? 'monitors' : 'none';
  if (monitors.length === 0) {
    for (const pod of all) {
      const a = pod.annotations;
      if (pod.deleting || a['prometheus.io/scrape'] !== 'true' || !a['prometheus.io/port']) continue;
      discovery = 'annotations';
      const t = target(pod, namespace, a['prometheus.io/port'], a['prometheus.io/path'], {
        job: 'kubernetes-pods',
      });
      if (t) out.push(t);
    }
  }
  out.sort((x, y) => (x.labels['pod']! + x.address < y.labels['pod']! + y.address ? -1 : 1));
  return { discovery, targets: out };
}
