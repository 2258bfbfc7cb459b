import { podWorkload } from '@hindsight/core';
import { parseTimeCell } from '../time.js';

// The parts of Kubernetes objects the importer reads, as the API returns them. Every field is
// optional and may hold anything: a support bundle is input, and one of a hostile or broken origin
// may put a number where a string belongs. Readers go through the guards below, and each record
// made is checked against the bundle schema before it is written (see records.ts).

/** Object metadata. */
export interface ObjectMeta {
  name?: unknown;
  namespace?: unknown;
  uid?: unknown;
  labels?: Record<string, unknown> | null;
  annotations?: Record<string, unknown> | null;
  ownerReferences?: Array<{ kind?: unknown; name?: unknown }> | null;
  creationTimestamp?: unknown;
}

/** A container's termination. */
export interface Terminated {
  reason?: unknown;
  exitCode?: unknown;
  startedAt?: unknown;
  finishedAt?: unknown;
}

/** One entry of a pod's status.containerStatuses. */
export interface ContainerStatus {
  name?: unknown;
  image?: unknown;
  ready?: unknown;
  restartCount?: unknown;
  state?: { running?: { startedAt?: unknown }; terminated?: Terminated; waiting?: { reason?: unknown } };
  lastState?: { terminated?: Terminated };
}

/** A Pod. */
export interface K8sPod {
  metadata?: ObjectMeta;
  spec?: { nodeName?: unknown; containers?: unknown };
  status?: { phase?: unknown; startTime?: unknown; containerStatuses?: unknown };
}

/** An Event (core/v1 or events.k8s.io/v1 as troubleshoot writes them). */
export interface K8sEvent {
  metadata?: ObjectMeta;
  involvedObject?: { kind?: unknown; name?: unknown; namespace?: unknown };
  reason?: unknown;
  message?: unknown;
  type?: unknown;
  count?: unknown;
  firstTimestamp?: unknown;
  lastTimestamp?: unknown;
  eventTime?: unknown;
  series?: { lastObservedTime?: unknown } | null;
}

/** A Deployment or a ReplicaSet. */
export interface K8sWorkload {
  metadata?: ObjectMeta;
  spec?: { replicas?: unknown; template?: { metadata?: ObjectMeta; spec?: unknown } };
  status?: { replicas?: unknown; readyReplicas?: unknown };
}

/** A string, or undefined for anything else. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list as given, or undefined when it is not one. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Unix milliseconds of a time field, or NaN when it is absent or not a time in 2000-2100. */
export function time(s: unknown): number {
  return typeof s === 'string' && s.length > 0 ? parseTimeCell(s) : Number.NaN;
}

/** The objects of a Kubernetes list (`{items: [...]}`) or of a bare array; anything else is dropped. */
export function items<T>(value: unknown): Array<{ item: T; index: number }> {
  const all = Array.isArray(value) ? value : isObject(value) ? list(value['items']) : [];
  const out: Array<{ item: T; index: number }> = [];
  all.forEach((item, index) => {
    if (isObject(item)) out.push({ item: item as T, index });
  });
  return out;
}

// Labels that name an application, most specific first (kubernetes.io/docs/concepts/overview/
// working-with-objects/common-labels; `k8s-app` is what kube-system add-ons such as CoreDNS use).
const COMPONENT_LABELS = ['app.kubernetes.io/name', 'app', 'k8s-app', 'name', 'app.kubernetes.io/instance'];

/** The component of a pod: an application label, else its workload, else its name. */
export function componentOf(meta: ObjectMeta, workload: string | undefined): string {
  for (const l of COMPONENT_LABELS) {
    const v = str(meta.labels?.[l]);
    if (v) return v;
  }
  return workload ?? str(meta.name) ?? 'unknown';
}

/** The workload that owns a pod, by core's rule for `Pod.workload` (shared with collect). */
export function workloadOf(meta: ObjectMeta): string | undefined {
  return podWorkload(meta);
}
