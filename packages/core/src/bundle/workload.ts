// Which workload owns a pod: the one rule every writer of `Pod.workload` calls (collect from the
// Kubernetes API, the support-bundle importer from its recorded objects, the rca importer from pod
// names alone). Plain data in, a string out, no Node imports: the browser build can use it too.

/** The fields of a pod's metadata the rule reads, as the Kubernetes API or a support bundle holds them. */
export interface PodOwnership {
  /** `metadata.ownerReferences`: read defensively, since a support bundle may hold anything here. */
  ownerReferences?: unknown;
  /** `metadata.labels`: only `pod-template-hash` is read. */
  labels?: unknown;
}

/** A workload as Kubernetes names it: its kind (Deployment, StatefulSet, ...) and its name. */
export interface WorkloadRef {
  kind: string;
  name: string;
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The workload that owns a pod, from its owner references: the controlling owner (else the first),
 * and for a ReplicaSet named `<deployment>-<pod-template-hash>` the Deployment above it. Undefined
 * for a pod that no controller owns.
 */
export function podOwner(meta: PodOwnership | undefined): WorkloadRef | undefined {
  const refs = Array.isArray(meta?.ownerReferences) ? (meta.ownerReferences as unknown[]) : [];
  const owners = refs.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
  const owner = owners.find((o) => o['controller'] === true) ?? owners[0];
  const kind = text(owner?.['kind']);
  const name = text(owner?.['name']);
  if (!owner || !name) return undefined;
  const labels = meta?.labels;
  const hash =
    typeof labels === 'object' && labels !== null
      ? text((labels as Record<string, unknown>)['pod-template-hash'])
      : undefined;
  // A Deployment's pods belong to a ReplicaSet named <deployment>-<pod-template-hash>
  // (kubernetes.io/docs/concepts/workloads/controllers/deployment); the Deployment is the workload.
  if (kind === 'ReplicaSet' && hash && name.endsWith(`-${hash}`))
    return { kind: 'Deployment', name: name.slice(0, -hash.length - 1) };
  return { kind: kind ?? 'unknown', name };
}

/**
 * A pod's `Pod.workload` as a bundle records it: the owning workload's name, without its kind
 * (`shop-nginx`, not `Deployment/shop-nginx`). The bare name is what the investigator matches on:
 * log groups are `<workload>/<container>`, a workload's kube-state-metrics series name it bare, and
 * a pod that pods.jsonl does not list falls back to {@link workloadOfPodName}, which cannot know
 * the kind.
 */
export function podWorkload(meta: PodOwnership | undefined): string | undefined {
  return podOwner(meta)?.name;
}

// Kubernetes naming conventions, not any application's names: a Deployment's pod is
// `<deployment>-<pod-template-hash>-<5 random>` and a StatefulSet's is `<statefulset>-<ordinal>`
// (kubernetes.io/docs/concepts/workloads).
const DEPLOYMENT_POD = /^(.+)-[a-z0-9]{6,10}-[a-z0-9]{5}$/;
const STATEFULSET_POD = /^(.+)-\d+$/;

/**
 * The workload a pod belongs to, guessed from its name alone when nothing records its owner (a
 * dataset that lists pod names): the name without a Deployment's or StatefulSet's suffix, or the
 * name itself.
 */
export function workloadOfPodName(pod: string): string {
  return (DEPLOYMENT_POD.exec(pod) ?? STATEFULSET_POD.exec(pod))?.[1] ?? pod;
}

/** Whether a name has the shape of a Deployment's or StatefulSet's pod. */
export function looksLikePodName(name: string): boolean {
  return DEPLOYMENT_POD.test(name) || STATEFULSET_POD.test(name);
}
