// What every program shares: the parts of a container spec the lab reads, the pod's context, the
// process a container becomes, and the rewriting of names, ports and paths to the lab's.
import { join } from 'node:path';
import { HindsightError } from '@hindsight/core';
import type { Endpoint } from '../service-proxy.js';

/** The parts of a Kubernetes container spec the lab reads. */
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
      fieldRef?: { fieldPath: string };
    };
  }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  resources?: {
    limits?: { memory?: string | number; cpu?: string | number };
    requests?: { memory?: string | number; cpu?: string | number };
  };
  lifecycle?: { preStop?: LifecycleHandler };
}

/** Bytes of a Kubernetes quantity (`256Mi`, `1G`, `128974848`, `129e6`); undefined when unreadable. */
export function parseQuantity(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (m[2] ? mult[m[2]]! : 1));
}

/** A container lifecycle hook (preStop): a sleep, a command, or an HTTP GET. */
export interface LifecycleHandler {
  sleep?: { seconds: number };
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string };
}

/** A Kubernetes probe. */
export interface ProbeSpec {
  httpGet?: { path?: string; port: number | string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** What a container needs from its pod and the lab to become a local process. */
export interface PodContext {
  pod: string;
  namespace: string;
  /** mountPath -> local path, longest first. */
  mounts: { mountPath: string; local: string }[];
  /** containerPort -> local port of this pod. */
  ports: Map<number, number>;
  /** port name -> containerPort. */
  portNames: Map<string, number>;
  /** The local port of Service `name` port `port`, if the lab runs it. */
  serviceLocalPort(name: string, port: number): number | undefined;
  /** Every Service name, to rewrite host names. */
  serviceNames(): string[];
  /** Ready endpoints of Service `name` port `port`. */
  serviceEndpoints(name: string, port: number): Endpoint[];
  secretValue(name: string, key: string): string | undefined;
  configMapValue(name: string, key: string): string | undefined;
  shopEntry: string;
}

/** A container as a local process. */
export interface ProcessSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  uid?: number;
  gid?: number;
  /** The image's STOPSIGNAL (postgres: SIGINT, nginx: SIGQUIT), as the kubelet sends it. */
  stopSignal: NodeJS.Signals;
  /** Runs before each start (initdb, config files). */
  prepare?: () => Promise<void>;
  /** Runs once the process accepts connections (postgres: create the database the entrypoint would). */
  afterStart?: () => Promise<void>;
  /** Rewrites config from the current endpoints; true when the process must reload (SIGHUP). */
  refresh?: () => Promise<boolean>;
}

/**
 * A local program that stands in for an image: one file per image, listed in `programs` (index.ts).
 */
export interface Program {
  /** The image's name, without registry path or tag (`redis`, `bitnami/redis:7` -> `redis`). */
  matches(image: string): boolean;
  /**
   * Why this machine cannot run it (a binary not installed), or undefined. A container whose program
   * is missing is left out of its pod, said in the pod's events and `lab status`, and the pod runs on.
   */
  missing?(): string | undefined;
  /** An exporter: it runs only in a lab with monitoring (LabConfig.monitoring), else it is left out. */
  monitoring?: boolean;
  /** The process of container `c`, given its resolved env and working folder. */
  process(ctx: PodContext, c: ContainerSpec, env: Record<string, string>, cwd: string): ProcessSpec;
}

/** Maps a container path through the pod's mounts to the local path. */
export function mapPath(ctx: PodContext, p: string): string {
  for (const m of ctx.mounts) {
    if (p === m.mountPath) return m.local;
    if (p.startsWith(`${m.mountPath}/`)) return join(m.local, p.slice(m.mountPath.length + 1));
  }
  return p;
}

/** Rewrites `svc:port` and `svc port` to the Service's local address, and container paths to local ones. */
export function rewriteText(ctx: PodContext, text: string): string {
  let out = text;
  for (const svc of ctx.serviceNames()) {
    const re = new RegExp(
      `\\b${svc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\.[a-z0-9.-]*)?:(\\d+)\\b`,
      'g',
    );
    out = out.replace(re, (whole, port: string) => {
      const local = ctx.serviceLocalPort(svc, Number(port));
      return local === undefined ? whole : `127.0.0.1:${local}`;
    });
  }
  return out;
}

/** An image reference's name, without registry path, tag or digest. */
export function imageName(image: string): string {
  const noTag = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  return noTag.split('/').at(-1) ?? noTag;
}
/** The env of a container: values resolved (Secrets, ConfigMaps, fields), Service names pointed at the lab. */
export function containerEnv(ctx: PodContext, c: ContainerSpec): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const e of c.env ?? []) {
    let v: string | undefined = e.value;
    const from = e.valueFrom;
    if (from?.secretKeyRef) v = ctx.secretValue(from.secretKeyRef.name, from.secretKeyRef.key);
    else if (from?.configMapKeyRef)
      v = ctx.configMapValue(from.configMapKeyRef.name, from.configMapKeyRef.key);
    else if (from?.fieldRef) {
      const f = from.fieldRef.fieldPath;
      v =
        f === 'metadata.name'
          ? ctx.pod
          : f === 'metadata.namespace'
            ? ctx.namespace
            : f.startsWith('status.')
              ? '127.0.0.1'
              : 'lab';
    }
    if (v === undefined) {
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `env ${e.name} refers to a missing Secret or ConfigMap key`,
        `pod ${ctx.pod} container ${c.name}`,
      );
    }
    raw[e.name] = v;
  }
  const services = new Set(ctx.serviceNames());
  const out: Record<string, string> = {};
  for (const [k, v0] of Object.entries(raw)) {
    let v = rewriteText(ctx, v0);
    if (services.has(v)) v = '127.0.0.1';
    else if (v === '0.0.0.0' || v === '::') v = '127.0.0.1';
    else if (v.startsWith('/')) v = mapPath(ctx, v);
    out[k] = v;
  }
  // A *PORT beside a *HOST that names a Service is that Service's port (PGHOST/PGPORT); a PORT
  // equal to one of the container's ports is the pod's own listen port.
  for (const [k, v] of Object.entries(raw)) {
    if (!/PORT$/.test(k) || !/^\d+$/.test(v)) continue;
    const host = raw[k.replace(/PORT$/, 'HOST')];
    const svcPort =
      host !== undefined && services.has(host) ? ctx.serviceLocalPort(host, Number(v)) : undefined;
    if (svcPort !== undefined) out[k] = String(svcPort);
    else if (ctx.ports.has(Number(v))) out[k] = String(ctx.ports.get(Number(v)));
  }
  return out;
}

/** Rewrites `svc port` argument pairs (redis --replicaof HOST PORT) and container paths. */ export function rewriteArgs(
  ctx: PodContext,
  args: string[],
): string[] {
  const services = new Set(ctx.serviceNames());
  const out = args.map((a) => (a.startsWith('/') ? mapPath(ctx, a) : rewriteText(ctx, a)));
  for (let i = 0; i + 1 < out.length; i++) {
    if (services.has(out[i]!) && /^\d+$/.test(out[i + 1]!)) {
      const local = ctx.serviceLocalPort(out[i]!, Number(out[i + 1]));
      if (local !== undefined) {
        out[i] = '127.0.0.1';
        out[i + 1] = String(local);
      }
    }
  }
  return out;
}

/** The local port of the container's first port. */
export function localPortOf(ctx: PodContext, c: ContainerSpec): number {
  const p = c.ports?.[0]?.containerPort;
  const local = p === undefined ? undefined : ctx.ports.get(p);
  if (local === undefined)
    throw new HindsightError(
      'HINDSIGHT_LAB',
      'container declares no port',
      `pod ${ctx.pod} container ${c.name}`,
    );
  return local;
}
