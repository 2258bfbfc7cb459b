// Services, as kube-proxy and the endpoints controller make them: one loopback proxy per Service
// port (headless Services have none), sending connections to the ready pods its selector matches.
import type { KubeObject } from '../kube-api.js';
import { matchesSelector } from '../label-selector.js';
import { freePort } from '../ports.js';
import { ServiceProxy, type Endpoint } from '../service-proxy.js';
import type { Cluster } from './cluster.js';
import { podReady } from './pod.js';

/** The lab's Service proxies and their endpoints. */
export class Services {
  private readonly proxies = new Map<string, ServiceProxy>();
  private refreshing = Promise.resolve();

  /**
   * @param afterEndpoints runs after each change of endpoints, in order: configs that list them
   * (nginx's upstreams) are rewritten and reloaded there.
   */
  constructor(
    private readonly cluster: Cluster,
    private readonly afterEndpoints: () => Promise<void>,
  ) {}

  /** The ready endpoints of Service `svc` port `port`: pods not deleting, ready, matching its selector. */
  endpointsOf(svc: KubeObject, port: number): Endpoint[] {
    const spec = svc.spec as {
      selector?: Record<string, string>;
      ports?: { port: number; targetPort?: number | string }[];
    };
    const sp = spec.ports?.find((p) => p.port === port);
    if (!sp || !spec.selector) return [];
    const sel = Object.entries(spec.selector).map(([key, value]) => ({ op: 'eq' as const, key, value }));
    const out: Endpoint[] = [];
    for (const pod of this.cluster.pods.values()) {
      if (pod.deleting || !podReady(pod) || !matchesSelector(pod.labels, sel)) continue;
      const target = sp.targetPort ?? sp.port;
      const cport = typeof target === 'number' ? target : pod.portNames.get(target);
      const local = cport === undefined ? undefined : pod.ports.get(cport);
      if (local !== undefined) out.push({ pod: pod.name, port: local });
    }
    return out;
  }

  /** The ready endpoints of the Service named `name`, port `port`. */
  endpointsByName(name: string, port: number): Endpoint[] {
    const svc = this.cluster.services.find((s) => s.metadata.name === name);
    return svc ? this.endpointsOf(svc, port) : [];
  }

  /** The local port of Service `name` port `port`, if the lab runs a proxy for it. */
  localPort(name: string, port: number): number | undefined {
    return this.proxies.get(`${name}:${port}`)?.localPort;
  }

  /** Every proxy the lab runs. */
  list(): ServiceProxy[] {
    return [...this.proxies.values()];
  }

  /** Opens a proxy for each Service port of the revision, closes the ones no longer rendered. */
  async sync(): Promise<void> {
    const wanted = new Set<string>();
    for (const svc of this.cluster.services) {
      const spec = svc.spec as { clusterIP?: string; ports?: { port: number }[] };
      if (spec.clusterIP === 'None') continue;
      for (const p of spec.ports ?? []) {
        const key = `${svc.metadata.name}:${p.port}`;
        wanted.add(key);
        if (!this.proxies.has(key)) {
          const proxy = new ServiceProxy(svc.metadata.name, p.port, await freePort());
          await proxy.listen();
          this.proxies.set(key, proxy);
        }
      }
    }
    for (const [key, proxy] of this.proxies) {
      if (!wanted.has(key)) {
        await proxy.close();
        this.proxies.delete(key);
      }
    }
    await this.changed();
  }

  /** Recomputes every Service's endpoints, then lets configs that list them reload. */
  changed(): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      for (const [key, proxy] of this.proxies) {
        const name = key.slice(0, key.lastIndexOf(':'));
        proxy.setEndpoints(this.endpointsByName(name, proxy.servicePort));
      }
      await this.afterEndpoints();
    });
    return this.refreshing;
  }

  /** Closes every proxy. */
  async close(): Promise<void> {
    for (const proxy of this.proxies.values()) await proxy.close();
    this.proxies.clear();
  }
}
