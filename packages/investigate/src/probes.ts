// Which requests are the kubelet's probes rather than users', from the HTTP probes pods.jsonl records
// per container (docs/bundle.md, Pods). Plain data in, plain data out.
import type { Pod } from '@hindsight/core';

/**
 * The path of a request, a route or a route label: `GET /healthz?full=1`, `/healthz` and
 * `http://10.1.2.3:8080/healthz` are all `/healthz`.
 */
function pathOf(request: string): string {
  const last = request.trim().split(' ').pop() ?? '';
  const noQuery = last.split(/[?#]/)[0] ?? '';
  const url = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(noQuery);
  return url ? (url[1] ?? '/') : noQuery;
}

/**
 * A probe on `/` says nothing about a request for `/`: it is where users land too, and only the
 * user agent (`kube-probe/...`), which the bundle's request records do not keep, could tell them apart.
 */
function telling(path: string): boolean {
  return path.startsWith('/') && path !== '/';
}

function probesOf(pods: Pod | readonly Pod[]): Array<{ path: string; port?: number }> {
  const list: readonly Pod[] = Array.isArray(pods) ? pods : [pods as Pod];
  return list.flatMap((p) =>
    p.containers.flatMap((c) =>
      (c.probes ?? [])
        .map((pr) => ({ path: pathOf(pr.path), ...(pr.port !== undefined ? { port: pr.port } : {}) }))
        .filter((pr) => telling(pr.path)),
    ),
  );
}

/**
 * The paths the kubelet probes over HTTP (liveness, readiness and startup `httpGet`) on these pods:
 * pass one pod for its own, or all of a component's for theirs. A probe on `/` is left out (see
 * `isProbeRequest`). Empty for bundles collected before pods recorded their probes.
 */
export function probeRoutes(pods: readonly Pod[]): Set<string> {
  return new Set(probesOf(pods).map((p) => p.path));
}

/**
 * Whether a request for `request` (a path, or a route such as `GET /healthz`; the query is ignored)
 * on `pod` (or on any of `pods`, when a series names a component rather than a pod) is a probe the
 * kubelet sends: its path is one of their HTTP probes' and, when `port` is known, on that probe's
 * port; a route that names its method, a GET. A request for `/` never is, as users ask for it too.
 */
export function isProbeRequest(
  pod: Pod | readonly Pod[] | undefined,
  request: string,
  port?: number,
): boolean {
  if (pod === undefined) return false;
  // The kubelet's httpGet probes are GETs: a route that names another method is a user's.
  const words = request.trim().split(' ');
  if (words.length > 1 && words[0]?.toUpperCase() !== 'GET') return false;
  const path = pathOf(request);
  if (!telling(path)) return false;
  return probesOf(pod).some(
    (p) => p.path === path && (port === undefined || p.port === undefined || p.port === port),
  );
}
