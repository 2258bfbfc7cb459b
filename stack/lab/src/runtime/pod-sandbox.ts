// A pod's sandbox, as the kubelet makes it before any container starts: its folder, a local port
// per container port (every lab pod shares the host's network), its volumes and mounts.
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../ports.js';
import { missingProgram, type PodContext } from '../programs/index.js';
import type { Cluster } from './cluster.js';
import { nowSeconds, type LabPod } from './pod.js';
import type { Services } from './services.js';

/** What a controller asks the kubelet to run. */
export interface PodRequest {
  name: string;
  workload: LabPod['workload'];
  hash: string;
  ordinal?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: LabPod['spec'];
  /** The StatefulSet's volumeClaimTemplates: folders that outlive the pod. */
  claims: string[];
}

/**
 * Makes a pod: its folder, a local port per container port, its volumes (ConfigMaps and Secrets
 * as files, emptyDirs as folders of the pod, claims as folders that outlive it, named as
 * Kubernetes names PVCs: CLAIM-POD).
 */
export async function podSandbox(req: PodRequest, cluster: Cluster, services: Services): Promise<LabPod> {
  const o = cluster.o;
  const { name, spec } = req;
  const dir = join(o.paths.pods, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const ports = new Map<number, number>();
  const portNames = new Map<string, number>();
  for (const c of spec.containers) {
    for (const p of c.ports ?? []) {
      ports.set(p.containerPort, await freePort());
      if (p.name) portNames.set(p.name, p.containerPort);
    }
  }
  const annotations: Record<string, string> = { ...req.annotations };
  annotations['lab.hindsight.dev/ports'] = JSON.stringify(Object.fromEntries(ports));
  const volumeDirs = new Map<string, string>();
  for (const v of spec.volumes ?? []) {
    const vdir = join(dir, 'volumes', v.name);
    await mkdir(vdir, { recursive: true });
    const data = v.configMap
      ? cluster.configMaps.get(v.configMap.name)
      : v.secret
        ? cluster.secrets.get(v.secret.secretName)
        : undefined;
    for (const [k, text] of Object.entries(data ?? {})) await writeFile(join(vdir, k), text);
    volumeDirs.set(v.name, vdir);
  }
  for (const claim of new Set(req.claims)) {
    const vdir = join(o.paths.volumes, `${claim}-${name}`);
    await mkdir(vdir, { recursive: true });
    volumeDirs.set(claim, vdir);
  }
  const mounts: PodContext['mounts'] = [];
  for (const c of spec.containers) {
    for (const m of c.volumeMounts ?? []) {
      const base = volumeDirs.get(m.name);
      if (!base) continue;
      mounts.push({ mountPath: m.mountPath, local: m.subPath ? join(base, m.subPath) : base });
    }
  }
  mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
  mounts.push({ mountPath: '/', local: dir });
  const ctx: PodContext = {
    pod: name,
    namespace: o.namespace,
    mounts,
    ports,
    portNames,
    serviceLocalPort: (svc, port) => services.localPort(svc, port),
    serviceNames: () => cluster.services.map((s) => s.metadata.name),
    serviceEndpoints: (svc, port) => services.endpointsByName(svc, port),
    secretValue: (n, k) => cluster.secrets.get(n)?.[k],
    configMapValue: (n, k) => cluster.configMaps.get(n)?.[k],
    shopEntry: o.shopEntry,
  };
  // A container the lab does not run (an exporter sidecar without monitoring, or whose binary is not
  // installed) is left out, so that the pod and its rollout go on without it; the kubelet says so in
  // the pod's events.
  const leftOut: NonNullable<LabPod['leftOut']> = [];
  const runnable = spec.containers.filter((c) => {
    const why = missingProgram(c, cluster.o.monitoring);
    if (why) leftOut.push({ container: c.name, why });
    return why === undefined;
  });
  const pod: LabPod = {
    name,
    uid: randomUUID(),
    workload: req.workload,
    hash: req.hash,
    ...(req.ordinal !== undefined ? { ordinal: req.ordinal } : {}),
    labels: req.labels,
    annotations,
    spec,
    createdAt: nowSeconds(),
    ports,
    portNames,
    ctx,
    ...(leftOut.length > 0 ? { leftOut } : {}),
    containers: runnable.map((s) => ({
      spec: s,
      restartCount: 0,
      ready: false,
      initialised: false,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
      timers: [],
      generation: 0,
      stopping: false,
    })),
    deleting: false,
  };
  return pod;
}
