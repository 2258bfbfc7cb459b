// The lab's runtime: Kubernetes' parts, each in its own file, wired together here.
import type { ClusterView, KubeObject } from '../kube-api.js';
import { Cluster, type RuntimeOptions } from './cluster.js';
import { Controllers } from './controllers.js';
import type { CpuEnforcement } from './cpu.js';
import { Events } from './events.js';
import { join } from 'node:path';
import { errorMessage } from '@hindsight/core';
import { Kubelet } from './kubelet.js';
import { LabPrometheus, type LabPrometheusStatus } from './prometheus.js';
import { scrapeTargets } from './scrape-targets.js';
import { Services } from './services.js';
import { clusterView, snapshot } from './views.js';

export type { RuntimeOptions } from './cluster.js';
export type { LabPrometheusStatus } from './prometheus.js';
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
  private readonly prometheus: LabPrometheus;
  private prometheusStarted = false;
  private targetsTimer: NodeJS.Timeout | undefined;

  constructor(o: RuntimeOptions) {
    // Every change (a pod started, stopped, deleted) may move a scrape target: the targets file is
    // rewritten shortly after, as a Prometheus' service discovery follows the API server.
    this.cluster = new Cluster({
      ...o,
      onChange: () => {
        o.onChange?.();
        this.targetsTimer ??= setTimeout(() => void this.refreshTargets(), 200);
      },
    });
    // The lab's pace: scrapes every 10 s times the time scale (2 s for the tests' and the demo's 0.2,
    // the pace the demo samples Redis at; at 1 s, the scrapes of four shops and seven exporters took a
    // visible share of a loaded 2-core machine).
    this.prometheus = new LabPrometheus(
      join(o.paths.root, 'prometheus'),
      Math.max(1, Math.round(10 * o.timeScale)),
      o.log,
      () => o.onChange?.(),
    );
    if (!o.monitoring)
      this.prometheus.leaveOff('monitoring is off (`hindsight lab up --monitoring` runs it)');
    this.cluster.hostProcesses.push(() => this.prometheus.process);
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
      if (!this.prometheusStarted && this.cluster.o.monitoring) {
        // Started first, so it opens its TSDB while the pods start.
        this.prometheusStarted = true;
        await this.prometheus.start();
        this.kubelet.writePids();
      }
      this.cluster.load(manifest, revision);
      await this.services.sync();
      await c.reconcile(gen);
      await this.refreshTargets();
      await this.prometheus.waitReady();
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** Stops every pod, dependents first, and closes the Service proxies. */
  async shutdown(): Promise<void> {
    this.kubelet.stop();
    await this.controllers.deleteAll();
    clearTimeout(this.targetsTimer);
    await this.prometheus.stop();
    await this.services.close();
    this.kubelet.close();
  }

  /** A summary of every pod and Service, for `lab status` and the status file. */
  snapshot(): ReturnType<typeof snapshot> & { cpuLimits: CpuEnforcement; prometheus: LabPrometheusStatus } {
    return {
      ...snapshot(this.cluster, this.services),
      cpuLimits: this.kubelet.cpuEnforcement(),
      prometheus: this.prometheus.status(),
    };
  }

  /**
   * Writes the scrape targets of the pods that run now (see scrape-targets.ts). Never throws: it runs
   * from a timer, where a rejection would end the supervisor, and stale targets are only stale.
   */
  private async refreshTargets(): Promise<void> {
    clearTimeout(this.targetsTimer);
    this.targetsTimer = undefined;
    try {
      const { discovery, targets } = scrapeTargets(
        this.cluster.objects,
        this.cluster.pods.values(),
        this.cluster.o.namespace,
      );
      await this.prometheus.update(discovery, targets);
    } catch (err) {
      this.cluster.o.log(`cannot work out the scrape targets: ${errorMessage(err)}`);
    }
  }

  /** The read-only cluster the API server shows. */
  view(secrets: () => Promise<KubeObject[]>): ClusterView {
    return clusterView(this.cluster, this.events, secrets);
  }
}
