// The lab's pods and containers as the kubelet holds them, and the small rules every part reads.
import type { ChildProcess } from 'node:child_process';
import type { KubeObject } from '../kube-api.js';
import type { PodLogWriter } from '../pod-log.js';
import type { ContainerSpec, PodContext, ProcessSpec } from '../programs/index.js';

/** A container's state, as `status.containerStatuses[].state` shows it. */
export type ContainerStateJson =
  | { running: { startedAt: string } }
  | { waiting: { reason: string; message?: string } }
  | {
      terminated: {
        exitCode: number;
        signal?: number;
        reason: string;
        startedAt?: string;
        finishedAt: string;
        containerID?: string;
      };
    };

/** A container of a lab pod: its spec, its process and what the kubelet knows of it. */
export interface Container {
  spec: ContainerSpec;
  proc?: ProcessSpec;
  restartCount: number;
  ready: boolean;
  /** afterStart done (postgres has its database): readiness waits for it. */
  initialised: boolean;
  state: ContainerStateJson;
  lastState: ContainerStateJson | Record<string, never>;
  child?: ChildProcess;
  startedAt?: string;
  log?: PodLogWriter;
  timers: NodeJS.Timeout[];
  /** Bumped on every start: probes and restarts of an older start do nothing. */
  generation: number;
  stopping: boolean;
  exited?: Promise<void>;
}

/** The spec of a pod template, as the lab reads it. */
export interface PodSpec {
  containers: ContainerSpec[];
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
    emptyDir?: unknown;
    persistentVolumeClaim?: { claimName: string };
  }[];
  terminationGracePeriodSeconds?: number;
  [k: string]: unknown;
}

/** A pod the lab runs. */
export interface LabPod {
  name: string;
  uid: string;
  workload: { kind: 'Deployment' | 'StatefulSet'; name: string };
  hash: string;
  ordinal?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  createdAt: string;
  ports: Map<number, number>;
  portNames: Map<string, number>;
  ctx: PodContext;
  containers: Container[];
  /** Containers of the spec the lab does not run here, and why (see Program.missing). */
  leftOut?: { container: string; why: string }[];
  deleting: boolean;
}

/** A Deployment or StatefulSet, as rendered. */
export interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    podManagementPolicy?: string;
    template: {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    [k: string]: unknown;
  };
}

/** A pod is ready when it has containers and every one is ready. */
export function podReady(pod: LabPod): boolean {
  return pod.containers.length > 0 && pod.containers.every((c) => c.ready);
}

/** True while the container's process runs. */
export function running(c: Container): boolean {
  return c.child !== undefined && c.child.exitCode === null && c.child.signalCode === null;
}

export function now(): string {
  return new Date().toISOString();
}

/** Now to the second, as Kubernetes writes creation and finish times. */
export function nowSeconds(): string {
  return toSeconds(now());
}

export function toSeconds(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Signals the process group of `pid` (a container and its children), else the process alone. */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Signals the container's main process only (nginx's master reloads on SIGHUP; its workers must not). */
export function killGroupLeader(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}
