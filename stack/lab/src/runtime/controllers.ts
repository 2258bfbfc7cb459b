// The Deployment and StatefulSet controllers: pods named, labelled and rolled as Kubernetes'
// controllers make them, workloads in dependency order, each ready before the next.
import { createHash, randomBytes } from 'node:crypto';
import { HindsightError } from '@hindsight/core';
import type { Cluster } from './cluster.js';
import type { Events } from './events.js';
import type { Kubelet } from './kubelet.js';
import { podReady, sleep, type LabPod, type Workload } from './pod.js';

const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function safeString(bytes: Buffer, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HASH_ALPHABET[bytes[i]! % HASH_ALPHABET.length];
  return s;
}

/** The pod-template-hash of a Deployment's template (ten characters of Kubernetes' safe alphabet). */
export function podTemplateHash(template: unknown): string {
  return safeString(createHash('sha256').update(JSON.stringify(template)).digest(), 10);
}

/**
 * Workloads in the order they are rolled: by depth along hindsight.dev/depends-on (a component
 * after those it depends on), StatefulSets before Deployments, then by name.
 */
export function rolloutOrder(workloads: Workload[]): Workload[] {
  const comp = (w: Workload) => w.metadata.labels?.['app.kubernetes.io/component'] ?? w.metadata.name;
  const deps = (w: Workload) =>
    (w.metadata.annotations?.['hindsight.dev/depends-on'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== comp(w));
  const depth = new Map<string, number>();
  const rank = (c: string, seen: Set<string>): number => {
    if (depth.has(c)) return depth.get(c)!;
    if (seen.has(c)) return 0;
    seen.add(c);
    const ws = workloads.filter((w) => comp(w) === c);
    const d = Math.max(0, ...ws.flatMap((w) => deps(w).map((x) => rank(x, seen) + 1)));
    depth.set(c, d);
    return d;
  };
  return [...workloads].sort((a, b) => {
    const ra = rank(comp(a), new Set());
    const rb = rank(comp(b), new Set());
    if (ra !== rb) return ra - rb;
    if (a.kind !== b.kind) return a.kind === 'StatefulSet' ? -1 : 1;
    return a.metadata.name.localeCompare(b.metadata.name);
  });
}

/** The ReplicaSet and StatefulSet controllers of the lab. */
export class Controllers {
  /** Bumped by every rollout and by shutdown: a rollout of an older generation stops. */
  generation = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: Events,
    private readonly kubelet: Kubelet,
  ) {}

  /** Throws when the rollout of generation `gen` was stopped: cancelled, or the lab shutting down. */
  stillApplying(gen: number, what: string): void {
    if (gen !== this.generation)
      throw new HindsightError('HINDSIGHT_LAB', 'the rollout was stopped before it finished', what);
  }

  /** Rolls every workload of the loaded revision; pods of workloads no longer rendered are deleted. */
  async reconcile(gen: number): Promise<void> {
    const wanted = new Set(this.cluster.workloads.map((w) => `${w.kind}/${w.metadata.name}`));
    for (const pod of [...this.cluster.pods.values()]) {
      if (!wanted.has(`${pod.workload.kind}/${pod.workload.name}`)) await this.deletePod(pod);
    }
    for (const w of rolloutOrder(this.cluster.workloads)) {
      this.stillApplying(gen, `${w.kind} ${w.metadata.name}`);
      if (w.kind === 'StatefulSet') await this.reconcileStatefulSet(w);
      else await this.reconcileDeployment(w);
    }
  }

  private async createPod(w: Workload, hash: string, ordinal?: number): Promise<LabPod> {
    const tpl = w.spec.template;
    const name =
      ordinal !== undefined
        ? `${w.metadata.name}-${ordinal}`
        : `${w.metadata.name}-${hash}-${safeString(randomBytes(5), 5)}`;
    const labels: Record<string, string> = { ...(tpl.metadata.labels ?? {}) };
    if (w.kind === 'Deployment') labels['pod-template-hash'] = hash;
    else {
      labels['controller-revision-hash'] = `${w.metadata.name}-${hash}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      labels['apps.kubernetes.io/pod-index'] = String(ordinal);
    }
    const pod = await this.kubelet.createPod({
      name,
      workload: { kind: w.kind as 'Deployment' | 'StatefulSet', name: w.metadata.name },
      hash,
      ...(ordinal !== undefined ? { ordinal } : {}),
      labels,
      annotations: { ...(tpl.metadata.annotations ?? {}) },
      spec: tpl.spec,
      claims: (w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name),
    });
    const deployment = w.kind === 'Deployment';
    this.events.record(
      {
        kind: deployment ? 'ReplicaSet' : 'StatefulSet',
        name: deployment ? `${w.metadata.name}-${hash}` : w.metadata.name,
      },
      'Normal',
      'SuccessfulCreate',
      deployment ? `Created pod: ${name}` : `create Pod ${name} in StatefulSet ${w.metadata.name} successful`,
      deployment ? 'replicaset-controller' : 'statefulset-controller',
    );
    await this.kubelet.run(pod);
    return pod;
  }

  /** Deletes a pod: the kubelet stops it, its controller records the deletion. */
  async deletePod(pod: LabPod): Promise<void> {
    await this.kubelet.stopPod(pod);
    if (pod.workload.kind === 'StatefulSet') {
      this.events.record(
        { kind: 'StatefulSet', name: pod.workload.name },
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.name} in StatefulSet ${pod.workload.name} successful`,
        'statefulset-controller',
      );
    } else {
      this.events.record(
        { kind: 'ReplicaSet', name: `${pod.workload.name}-${pod.hash}` },
        'Normal',
        'SuccessfulDelete',
        `Deleted pod: ${pod.name}`,
        'replicaset-controller',
      );
    }
    this.kubelet.forget(pod);
  }

  /**
   * Waits for pods to be ready. A pod whose container restarted (a crash loop, a memory limit) fails
   * the wait after 120 s shortened with the time scale, down to 30 s; pods that are only slow (a
   * loaded machine) get 120 s whatever the scale, as a progress deadline would give them.
   */
  private async waitReady(pods: LabPod[], what: string): Promise<void> {
    const crashMs = Math.max(30_000, 120_000 * Math.min(1, this.cluster.o.timeScale));
    const slowMs = Math.max(crashMs, 120_000);
    const gen = this.generation;
    const started = Date.now();
    const restarted = (p: LabPod) => p.containers.some((c) => c.restartCount > 0);
    while (!pods.every((p) => podReady(p) || p.deleting)) {
      this.stillApplying(gen, what);
      const waited = Date.now() - started;
      const timeoutMs = pods.some((p) => !podReady(p) && restarted(p)) ? crashMs : slowMs;
      if (waited > timeoutMs) {
        const notReady = pods.filter((p) => !podReady(p)).map((p) => p.name);
        throw new HindsightError(
          'HINDSIGHT_LAB',
          `pods not ready after ${timeoutMs / 1000}s: ${notReady.join(', ')}`,
          what,
        );
      }
      await sleep(100);
    }
  }

  private async reconcileStatefulSet(w: Workload): Promise<void> {
    const n = w.spec.replicas ?? 1;
    const hash = podTemplateHash(w.spec.template);
    const what = `StatefulSet ${w.metadata.name}`;
    const podsOf = () => this.cluster.podsOf(w);
    // Scale down first, highest ordinal first.
    for (const p of [...podsOf()].sort((a, b) => b.ordinal! - a.ordinal!)) {
      if (p.ordinal! >= n) await this.deletePod(p);
    }
    // As the StatefulSet controller: missing pods first (all at once under Parallel, else one by
    // one), then the rolling update from the highest ordinal down, each ready before the next.
    const existing = new Map(podsOf().map((p) => [p.ordinal!, p]));
    const missing = [...Array(n).keys()].filter((i) => !existing.has(i));
    if (w.spec.podManagementPolicy === 'Parallel') {
      const created = await Promise.all(missing.map((i) => this.createPod(w, hash, i)));
      await this.waitReady(created, what);
    } else {
      for (const i of missing) await this.waitReady([await this.createPod(w, hash, i)], what);
    }
    for (const p of [...podsOf()].sort((a, b) => b.ordinal! - a.ordinal!)) {
      if (p.hash === hash) continue;
      await this.deletePod(p);
      const fresh = await this.createPod(w, hash, p.ordinal);
      await this.waitReady([fresh], what);
    }
    await this.waitReady(podsOf(), what);
  }

  private async reconcileDeployment(w: Workload): Promise<void> {
    const n = w.spec.replicas ?? 1;
    const hash = podTemplateHash(w.spec.template);
    const what = `Deployment ${w.metadata.name}`;
    const rs = `${w.metadata.name}-${hash}`;
    const current = () => this.cluster.podsOf(w).filter((p) => p.hash === hash);
    const old = () =>
      this.cluster
        .podsOf(w)
        .filter((p) => p.hash !== hash)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    if (old().length > 0 || current().length !== n) {
      this.events.record(
        { kind: 'Deployment', name: w.metadata.name },
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${current().length < n ? 'up' : 'down'} replica set ${rs} to ${n}`,
        'deployment-controller',
      );
    }
    if (old().length === 0 && current().length < n) {
      const missing = n - current().length;
      const created: LabPod[] = [];
      for (let i = 0; i < missing; i++) created.push(await this.createPod(w, hash));
      await this.waitReady(created, what);
    }
    // Rolling update as the defaults make it for a few pods (maxSurge 25% rounds up to 1,
    // maxUnavailable 25% down to 0): a new pod ready before an old one goes.
    while (current().length < n || old().length > 0) {
      if (current().length < n) await this.waitReady([await this.createPod(w, hash)], what);
      const o = old()[0];
      if (o) await this.deletePod(o);
    }
    for (const extra of current().slice(n)) await this.deletePod(extra);
  }

  /** Stops every pod, dependents first. */
  async deleteAll(): Promise<void> {
    ++this.generation;
    const order = rolloutOrder(this.cluster.workloads).reverse();
    const groups = new Map<string, LabPod[]>();
    for (const pod of this.cluster.pods.values()) {
      const key = `${pod.workload.kind}/${pod.workload.name}`;
      groups.set(key, [...(groups.get(key) ?? []), pod]);
    }
    for (const w of order) {
      const key = `${w.kind}/${w.metadata.name}`;
      await Promise.all((groups.get(key) ?? []).map((p) => this.deletePod(p)));
    }
    await Promise.all([...this.cluster.pods.values()].map((p) => this.deletePod(p)));
  }
}
