// The lab's runtime: Kubernetes' parts, each in its own file, wired together here.
import type { ClusterView, KubeObject } from '../kube-api.js';
import { Cluster, type RuntimeOptions } from './cluster.js';
import { Controllers } from './controllers.js';
import type { CpuEnforcement } from './cpu.js';
import { Events } from './events.js';
import { Kubelet } from './kubelet.js';
import { Services } from './services.js';
import { clusterView, snapshot } from './views.js';

export type { RuntimeOptions } from './cluster.js';
export { parseManifest } from './cluster.js';
export { podTemplateHash } from './controllers.js';

/**
 * The lab's kubelet, controllers and kube-proxy: it reconciles local processes from rendered
 * objects (StatefulSets and Deployments become pods, ConfigMaps become files, Services become
 * loopback proxies over ready endpoints), runs probes, restarts crashed or unhealthy containers
 * with back-off, records events, and answers the read-only API through {@link LabRuntime.view}.
 */
export class LabRuntime {
  private readonly cluster: Cluster;
  private readonly events: Events;
  private readonly services: Services;
  private readonly kubelet: Kubelet;
  private readonly controllers: Controllers;

  constructor(o: RuntimeOptions) {
    this.cluster = new Cluster(o);
    this.events = new Events(o);
    this.services = new Services(this.cluster, () => this.kubelet.reloadConfigs());
    this.kubelet = new Kubelet(this.cluster, this.events, this.services);
    this.controllers = new Controllers(this.cluster, this.events, this.kubelet);
  }

  /** The revision applied last. */
  get revision(): number {
    return this.cluster.revision;
  }

  /**
   * Makes the running processes match `manifest` (the rendered revision `revision`): workloads in
   * dependency order (hindsight.dev/depends-on), each rolled or scaled and ready before the next.
   * Aborting `signal` stops the rollout where it is, promptly: the pods started so far run on, as
   * tracked as any (`shutdown` stops them), and the workloads not reached yet keep their pods.
   */
  async apply(manifest: string, revision: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const c = this.controllers;
    const gen = ++c.generation;
    const cancel = () => {
      if (c.generation === gen) ++c.generation;
    };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      this.cluster.load(manifest, revision);
      await this.services.sync();
      await c.reconcile(gen);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** Stops every pod, dependents first, and closes the Service proxies. */
  async shutdown(): Promise<void> {
    this.kubelet.stop();
    await this.controllers.deleteAll();
    await this.services.close();
    this.kubelet.close();
  }

  /** A summary of every pod and Service, for `lab status` and the status file. */
  snapshot(): ReturnType<typeof snapshot> & { cpuLimits: CpuEnforcement } {
    return { ...snapshot(this.cluster, this.services), cpuLimits: this.kubelet.cpuEnforcement() };
  }

  /** The read-only cluster the API server shows. */
  view(secrets: () => Promise<KubeObject[]>): ClusterView {
    return clusterView(this.cluster, this.events, secrets);
  }
}
