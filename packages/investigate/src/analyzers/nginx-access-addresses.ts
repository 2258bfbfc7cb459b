import type { Pod } from '@hindsight/core';
import type { AnalyzerContext } from '../types.js';

// An `ip:port` (IPv6 in brackets): a pod's or a Service's address, not an upstream group's name.
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d+$/i;

function hostOf(address: string): string {
  return address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

type Index = Map<string, Set<string>>;

function add(m: Index, k: string, pod: string): void {
  const s = m.get(k);
  if (s) s.add(pod);
  else m.set(k, new Set([pod]));
}

function one(s: Set<string> | undefined): string | undefined {
  return s?.size === 1 ? (s.values().next().value as string) : undefined;
}

// A loopback address is every host's own: it names no pod by itself, only with a port.
const LOOPBACK = /^(?:127\.|::1$)/;

/**
 * The pods the Kubernetes API listed at an address (pods.jsonl: a pod's IPs and its containers'
 * ports): by `ip:port`; by the IP alone when one pod had it and declares no port (ports are
 * informational, so a pod may listen on one it does not list), never a loopback IP. Pods on the host's
 * network share its IP, so only the port tells them apart.
 */
function podsByListing(pods: readonly Pod[]): (address: string) => string | undefined {
  const exact: Index = new Map();
  const byHost: Index = new Map();
  const portless = new Set<string>();
  for (const p of pods) {
    const ports = p.containers.flatMap((c) => c.ports ?? []);
    if (ports.length === 0) portless.add(p.name);
    for (const ip of p.ips ?? []) {
      add(byHost, ip.toLowerCase(), p.name);
      for (const port of ports) add(exact, `${ip.toLowerCase()}:${port.containerPort}`, p.name);
    }
  }
  return (address) => {
    const host = hostOf(address).toLowerCase();
    const port = /:(\d+)$/.exec(address)?.[1];
    const atPort = port === undefined ? undefined : one(exact.get(`${host}:${port}`));
    if (atPort) return atPort;
    const alone = LOOPBACK.test(host) ? undefined : one(byHost.get(host));
    return alone && portless.has(alone) ? alone : undefined;
  };
}

/**
 * The pod at an address, from the series that pair an address with the pod the Kubernetes API
 * listed there (docs/bundle.md: `node` or `instance` beside `pod`, `replica` beside
 * `replica_pod`): by `ip:port`, else by the IP alone when one pod had it. An address two pods
 * had (a rollout that reused it) names none.
 */
async function podsBySeries(ctx: AnalyzerContext): Promise<(address: string) => string | undefined> {
  const exact: Index = new Map();
  const byHost: Index = new Map();
  for (const s of await ctx.data.series()) {
    for (const [k, v] of Object.entries(s.labels)) {
      const pod = k === 'replica' ? s.labels['replica_pod'] : s.labels['pod'];
      if (!pod || !ADDRESS.test(v)) continue;
      add(exact, v, pod);
      add(byHost, hostOf(v), pod);
    }
  }
  return (address) => one(exact.get(address)) ?? one(byHost.get(hostOf(address)));
}

/**
 * Names the server behind each upstream address: its pod and the pod's component where the bundle
 * knows the address (the pods' own IPs and ports first, then the series that pair an address with a
 * pod); else the component the logged group name (ingress-nginx's upstream name) or
 * a host name holds; else, for a bare address, the proxy's one dependency in the topology (the
 * chart's nginx passes to the shop's Service address); else the address itself.
 */
export async function upstreamNamer(
  ctx: AnalyzerContext,
  proxy: string,
): Promise<(address: string, group: string | undefined) => { pod?: string; service: string }> {
  const listed = podsByListing(await ctx.data.pods());
  const seen = await podsBySeries(ctx);
  const podAt = (address: string): string | undefined => listed(address) ?? seen(address);
  const topology = await ctx.data.topology();
  const callees = topology.components.filter((c) => c.name === proxy).flatMap((c) => c.dependsOn);
  const only = new Set(callees).size === 1 ? callees[0] : undefined;
  return (address, group) => {
    const pod = podAt(address);
    if (pod) return { pod, service: ctx.data.componentOf(pod) };
    if (group) return { service: ctx.data.componentInName(group) ?? group };
    if (!ADDRESS.test(address)) return { service: ctx.data.componentInName(hostOf(address)) ?? address };
    return { service: only ?? address };
  };
}
