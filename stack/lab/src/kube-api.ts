import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { matchesFieldSelector, matchesSelector, parseLabelSelector } from './label-selector.js';
import { followPodLog, readPodLog, type LogQuery } from './pod-log.js';

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    uid?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** The resources the lab serves, by their plural name. */
export const servedResources = {
  pods: { group: '', kind: 'Pod', namespaced: true },
  events: { group: '', kind: 'Event', namespaced: true },
  secrets: { group: '', kind: 'Secret', namespaced: true },
  services: { group: '', kind: 'Service', namespaced: true },
  configmaps: { group: '', kind: 'ConfigMap', namespaced: true },
  namespaces: { group: '', kind: 'Namespace', namespaced: false },
  deployments: { group: 'apps', kind: 'Deployment', namespaced: true },
  statefulsets: { group: 'apps', kind: 'StatefulSet', namespaced: true },
  daemonsets: { group: 'apps', kind: 'DaemonSet', namespaced: true },
  replicasets: { group: 'apps', kind: 'ReplicaSet', namespaced: true },
} as const;

/** A resource's plural name. */
export type ResourceName = keyof typeof servedResources;

/** What the API server reads from: the lab's objects, and where each container's log is. */
export interface ClusterView {
  /** Objects of one resource, across namespaces (the server filters by namespace). */
  list(resource: ResourceName): Promise<KubeObject[]>;
  /** The log file of a container instance: the current one, or the previous (before the last restart). */
  logFile(
    namespace: string,
    pod: string,
    container: string | undefined,
    previous: boolean,
  ): Promise<string | { status: number; message: string }>;
  /**
   * True once nothing more will be written to `file` (from {@link logFile}): its container instance
   * exited, or the pod is gone. A `follow` stream ends then; without it, it ends at once.
   */
  logEnded?(namespace: string, pod: string, container: string | undefined, file: string): boolean;
}

/** Something the lab answers beside the Kubernetes API (its control endpoints). */
export type ExtraHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

const KUBE_VERSION = {
  major: '1',
  minor: '34',
  gitVersion: 'v1.34.0-hindsight-lab',
  platform: 'linux/amd64',
};

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

function status(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: Record<string, string>,
): void {
  send(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

function resourceList(groupVersion: string, names: ResourceName[]) {
  const resources: Record<string, unknown>[] = [];
  for (const n of names) {
    const r = servedResources[n];
    resources.push({
      name: n,
      singularName: r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ['get', 'list'],
    });
    if (n === 'pods')
      resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function age(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** kubectl asks for a Table (`as=Table`) and prints its columns; pods get kubectl's usual ones. */
function asTable(resource: ResourceName, items: KubeObject[]) {
  const now = Date.now();
  const col = (name: string, type = 'string', format = '') => ({
    name,
    type,
    format,
    description: '',
    priority: 0,
  });
  const meta = (o: KubeObject) => ({
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: o.metadata,
  });
  if (resource === 'pods') {
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: String(now) },
      columnDefinitions: [
        col('Name', 'string', 'name'),
        col('Ready'),
        col('Status'),
        col('Restarts', 'string'),
        col('Age'),
      ],
      rows: items.map((p) => {
        const st = p.status as {
          phase?: string;
          containerStatuses?: {
            ready: boolean;
            restartCount: number;
            state?: Record<string, { reason?: string }>;
          }[];
        };
        const cs = st.containerStatuses ?? [];
        const waiting = cs.map((c) => c.state?.waiting?.reason).find((r) => r);
        return {
          cells: [
            p.metadata.name,
            `${cs.filter((c) => c.ready).length}/${cs.length}`,
            waiting ?? st.phase ?? 'Unknown',
            String(cs.reduce((a, c) => a + c.restartCount, 0)),
            age(p.metadata.creationTimestamp, now),
          ],
          object: meta(p),
        };
      }),
    };
  }
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: String(now) },
    columnDefinitions: [col('Name', 'string', 'name'), col('Age')],
    rows: items.map((o) => ({
      cells: [o.metadata.name, age(o.metadata.creationTimestamp, now)],
      object: meta(o),
    })),
  };
}

function num(v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The read-only Kubernetes API over the lab: discovery (/version, /api, /apis), list and get of
 * pods, events, secrets, services, configmaps, deployments and statefulsets (labelSelector,
 * fieldSelector), and pod logs (timestamps, sinceTime, sinceSeconds, tailLines, limitBytes,
 * previous, container, follow). Enough for @kubernetes/client-node, kubectl get/logs and helm's secrets
 * driver. Anything else is 405 or 404, as a Status object.
 */
export function createKubeApi(view: ClusterView, extra?: ExtraHandler): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://lab');
    if (extra && (await extra(req, res, url))) return;
    if (req.method !== 'GET') {
      status(res, 405, 'MethodNotAllowed', 'the hindsight lab serves the Kubernetes API read-only');
      return;
    }
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (p === '/version') return send(res, 200, KUBE_VERSION);
    if (p === '/healthz' || p === '/readyz' || p === '/livez') return send(res, 200, 'ok');
    if (p === '/api') {
      return send(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.headers.host ?? '' }],
      });
    }
    if (p === '/apis') {
      return send(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      });
    }
    if (p === '/api/v1')
      return send(
        res,
        200,
        resourceList('v1', ['pods', 'events', 'secrets', 'services', 'configmaps', 'namespaces']),
      );
    if (p === '/apis/apps') {
      return send(res, 200, {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      });
    }
    if (p === '/apis/apps/v1')
      return send(
        res,
        200,
        resourceList('apps/v1', ['deployments', 'statefulsets', 'daemonsets', 'replicasets']),
      );

    // /api/v1[/namespaces/NS]/RESOURCE[/NAME[/log]] and /apis/apps/v1/...
    const m =
      /^\/(?:api\/v1|apis\/apps\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/(log))?$/.exec(p);
    const resource = m?.[2] as ResourceName | undefined;
    if (
      !m ||
      !resource ||
      !(resource in servedResources) ||
      (servedResources[resource].group === 'apps') !== p.startsWith('/apis/')
    ) {
      // `namespaces/NAME` has the same shape as a namespaced path with no resource.
      const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p);
      if (ns) return send(res, 200, namespaceObject(ns[1]!));
      return status(res, 404, 'NotFound', `the server could not find the requested resource (${p})`);
    }
    const [, namespace, , name, sub] = m;
    if (resource === 'namespaces') {
      const all = ['default', 'kube-system'].map(namespaceObject);
      return sendList(req, res, resource, all, url);
    }
    let items = await view.list(resource);
    if (namespace) items = items.filter((o) => o.metadata.namespace === namespace);
    if (name === undefined) return sendList(req, res, resource, items, url);
    const obj = items.find((o) => o.metadata.name === name);
    if (!obj)
      return status(res, 404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
    if (sub === 'log') {
      if (resource !== 'pods') return status(res, 404, 'NotFound', `${p} not found`);
      const container = url.searchParams.get('container') ?? undefined;
      const previous = url.searchParams.get('previous') === 'true';
      const file = await view.logFile(namespace ?? 'default', name, container, previous);
      if (typeof file !== 'string')
        return status(res, file.status, file.status === 404 ? 'NotFound' : 'BadRequest', file.message);
      const q: LogQuery = {
        timestamps: url.searchParams.get('timestamps') === 'true',
        ...(url.searchParams.get('sinceTime') ? { sinceTime: url.searchParams.get('sinceTime')! } : {}),
        ...(num(url.searchParams.get('sinceSeconds')) !== undefined
          ? { sinceSeconds: num(url.searchParams.get('sinceSeconds'))! }
          : {}),
        ...(num(url.searchParams.get('tailLines')) !== undefined
          ? { tailLines: num(url.searchParams.get('tailLines'))! }
          : {}),
        ...(num(url.searchParams.get('limitBytes')) !== undefined
          ? { limitBytes: num(url.searchParams.get('limitBytes'))! }
          : {}),
      };
      if (url.searchParams.get('follow') !== 'true') return send(res, 200, await readPodLog(file, q));
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      // A previous instance has ended by definition: its log is sent whole and the stream ends.
      const ended = (): boolean =>
        previous || (view.logEnded?.(namespace ?? 'default', name, container, file) ?? true);
      await followPodLog(file, q, res, ended, gone.signal);
      res.end();
      return;
    }
    if ((req.headers.accept ?? '').includes('as=Table')) return send(res, 200, asTable(resource, [obj]));
    return send(res, 200, obj);
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        status(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
      else res.end();
    });
  });
}

function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: `ns-${name}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    status: { phase: 'Active' },
  };
}

function sendList(
  req: IncomingMessage,
  res: ServerResponse,
  resource: ResourceName,
  all: KubeObject[],
  url: URL,
): void {
  let items = all;
  const ls = url.searchParams.get('labelSelector');
  if (ls) {
    let reqs;
    try {
      reqs = parseLabelSelector(ls);
    } catch (err) {
      return status(res, 400, 'BadRequest', (err as Error).message);
    }
    items = items.filter((o) => matchesSelector(o.metadata.labels, reqs));
  }
  const fs = url.searchParams.get('fieldSelector');
  if (fs) items = items.filter((o) => matchesFieldSelector(o, fs));
  const limit = num(url.searchParams.get('limit'));
  if (limit !== undefined && limit > 0) items = items.slice(0, limit);
  if ((req.headers.accept ?? '').includes('as=Table')) return send(res, 200, asTable(resource, items));
  const r = servedResources[resource];
  send(res, 200, {
    kind: `${r.kind}List`,
    apiVersion: r.group ? `${r.group}/v1` : 'v1',
    metadata: { resourceVersion: String(Date.now()) },
    items: items.map((o) => ({ ...o, apiVersion: o.apiVersion, kind: o.kind })),
  });
}
