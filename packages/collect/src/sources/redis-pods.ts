// The pods behind Redis addresses, as the Kubernetes API lists them: how the redis source names each
// node (and each replica a master lists) by its pod rather than by ip:port.
import type { V1Pod } from '@kubernetes/client-node';
import type { SeriesSet } from '../series-set.js';
import { COMPONENT_LABEL } from '../labels.js';

/** The pod that runs a Redis node, as the Kubernetes API named it. */
export interface PodRef {
  name: string;
  component?: string;
}

/** `host:port` with an IPv6 host unbracketed, as INFO and CLIENT INFO write it (`::1:6379`). */
function bare(address: string): string {
  return address.replace(/^\[([^\]]*)\]/, '$1');
}

/**
 * The pod listening at each `ip:port`: the pod's IPs with each port its containers declare (a
 * hostNetwork pod has its node's IP and is told apart by port), and its node's IP with each host
 * port. A pod that has finished no longer holds its IP; one being deleted yields it to a live one.
 */
function podsByAddress(pods: V1Pod[]): Map<string, PodRef> {
  const out = new Map<string, PodRef>();
  const deleting = (p: V1Pod): number => (p.metadata?.deletionTimestamp ? 1 : 0);
  // Pods being deleted first, so that a live pod given the same address overwrites them.
  for (const p of [...pods].sort((a, b) => deleting(b) - deleting(a))) {
    const name = p.metadata?.name;
    const phase = p.status?.phase;
    if (!name || phase === 'Succeeded' || phase === 'Failed') continue;
    const component = p.metadata?.labels?.[COMPONENT_LABEL];
    const ref: PodRef = { name, ...(component ? { component } : {}) };
    const ips = new Set([p.status?.podIP, ...(p.status?.podIPs ?? []).map((i) => i.ip)]);
    for (const c of p.spec?.containers ?? []) {
      for (const port of c.ports ?? []) {
        for (const ip of ips) if (ip) out.set(`${ip}:${port.containerPort}`, ref);
        const hostIP = port.hostIP ?? p.status?.hostIP;
        if (port.hostPort && hostIP) out.set(`${hostIP}:${port.hostPort}`, ref);
      }
    }
  }
  return out;
}

// Listings a process whose address no pod holds may ask for before it is taken as not in a pod
// (a Redis given by --redis outside the cluster): a round's listing each, about 10 s at 2 s a round.
const UNNAMED_LISTINGS = 5;

/**
 * Names the pod behind each Redis address from the pods the Kubernetes API lists. The pods are
 * listed again only when a Redis process not seen before answers (a new address, or a new run_id
 * at a known one: a rolled pod that was given a freed address), and again in the next rounds while
 * no listing has its address (a replica whose process answered before the API showed its pod), at
 * most {@link UNNAMED_LISTINGS} times; so a steady watch lists them once. What a listing named
 * stays named when a later listing no longer has the pod (a replica scaled away before the end).
 */
export class PodNames {
  private index = new Map<string, PodRef>();
  private readonly seen = new Set<string>();
  private readonly unnamed = new Map<string, number>();

  constructor(private readonly list: () => Promise<V1Pod[]>) {}

  /**
   * Lists the pods again when one of `runs` is new, or not yet named: `run` is `address run_id`,
   * `at` the addresses the process may be named by (the address a connection arrived at, which
   * CLIENT INFO tells, and the one it was reached at).
   */
  async refresh(runs: Array<{ run: string; at: string[] }>): Promise<void> {
    const fresh = runs.filter((r) => !this.seen.has(r.run));
    if (fresh.length === 0) return;
    await this.relist();
    for (const { run, at } of fresh) {
      const tries = (this.unnamed.get(run) ?? 0) + 1;
      if (at.some((a) => this.at(a)) || tries >= UNNAMED_LISTINGS) {
        this.seen.add(run);
        this.unnamed.delete(run);
      } else this.unnamed.set(run, tries);
    }
  }

  /** Lists the pods; a pod listed now takes its addresses over from any listed before. */
  private async relist(): Promise<void> {
    this.index = new Map([...this.index, ...podsByAddress(await this.list())]);
  }

  at(address: string): PodRef | undefined {
    return this.index.get(bare(address));
  }

  /**
   * Names the pods of series sampled before their pod was listed (a replica whose process answered
   * before the API showed its pod), from one more listing at the end.
   */
  async nameLate(set: SeriesSet): Promise<void> {
    const late = (l: Record<string, string>) =>
      (l['pod'] === undefined && l['node'] !== undefined) ||
      (l['replica'] !== undefined && !l['replica_pod']);
    if (!set.some(late)) return;
    await this.relist();
    set.relabel((l) => {
      const pod = l['pod'] === undefined && l['node'] !== undefined ? this.at(l['node']) : undefined;
      const replicaPod = l['replica'] && !l['replica_pod'] ? this.at(l['replica']) : undefined;
      if (!pod && !replicaPod) return undefined;
      return {
        ...l,
        ...(pod ? { pod: pod.name, component: pod.component ?? l['component'] ?? 'redis' } : {}),
        ...(replicaPod ? { replica_pod: replicaPod.name } : {}),
      };
    });
  }
}
