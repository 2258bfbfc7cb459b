import type { AnalyzerContext } from '../types.js';

// An `ip:port` (IPv6 in brackets): a pod's or a Service's address, not an upstream group's name.
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d+$/i;

function hostOf(address: string): string {
  return address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

/**
 * The pod at an address, from the series that pair an address with the pod the Kubernetes API
 * listed there (docs/bundle.md: `node` or `instance` beside `pod`, `replica` beside
 * `replica_pod`): by `ip:port`, else by the IP alone when one pod had it. An address two pods
 * had (a rollout that reused it) names none.
 */
async function podsByAddress(ctx: AnalyzerContext): Promise<(address: string) => string | undefined> {
  const exact = new Map<string, Set<string>>();
  const byHost = new Map<string, Set<string>>();
  const add = (m: Map<string, Set<string>>, k: string, pod: string): void => {
    const s = m.get(k);
    if (s) s.add(pod);
    else m.set(k, new Set([pod]));
  };
  for (const s of await ctx.data.series()) {
    for (const [k, v] of Object.entries(s.labels)) {
      const pod = k === 'replica' ? s.labels['replica_pod'] : s.labels['pod'];
      if (!pod || !ADDRESS.test(v)) continue;
      add(exact, v, pod);
      add(byHost, hostOf(v), pod);
    }
  }
  const one = (s: Set<string> | undefined): string | undefined =>
    s?.size === 1 ? (s.values().next().value as string) : undefined;
  return (address) => one(exact.get(address)) ?? one(byHost.get(hostOf(address)));
}

/**
 * Names the server behind each upstream address: its pod and the pod's component where the bundle
 * knows the address; else the component the logged group name (ingress-nginx's upstream name) or
 * a host name holds; else, for a bare address, the proxy's one dependency in the topology (the
 * chart's nginx passes to the shop's Service address); else the address itself.
 */
export async function upstreamNamer(
  ctx: AnalyzerContext,
  proxy: string,
): Promise<(address: string, group: string | undefined) => { pod?: string; service: string }> {
  const podAt = await podsByAddress(ctx);
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
