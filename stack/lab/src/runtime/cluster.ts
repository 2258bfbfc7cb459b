// What the lab's parts share, as the API server's store is shared by Kubernetes' parts: the
// objects of the applied revision and the pods that run.
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../kube-api.js';
import type { LabPaths } from '../paths.js';
import type { LabPod, Workload } from './pod.js';

/** Settings of a running lab. */
export interface RuntimeOptions {
  paths: LabPaths;
  namespace: string;
  /** Multiplies probe periods, back-offs and preStop sleeps (1 = as rendered); not start delays or grace periods. */
  timeScale: number;
  shopEntry: string;
  /** Runs the exporter sidecars and the lab's Prometheus (LabConfig.monitoring). */
  monitoring: boolean;
  /** The supervisor's own log. */
  log: (msg: string) => void;
  /** Called after any change, so the status file can be rewritten. */
  onChange?: () => void;
}

/** Parses a rendered manifest into objects (comments and empty documents dropped). */
export function parseManifest(manifest: string): KubeObject[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && typeof o.kind === 'string');
}

/** The applied objects and the running pods. */
export class Cluster {
  readonly pods = new Map<string, LabPod>();
  objects: KubeObject[] = [];
  configMaps = new Map<string, Record<string, string>>();
  secrets = new Map<string, Record<string, string>>();
  services: KubeObject[] = [];
  workloads: Workload[] = [];
  revision = 0;
  /** Processes the lab runs beside the pods (its Prometheus), for the pids file `lab down` reads. */
  readonly hostProcesses: Array<() => { pid: number; command: string } | undefined> = [];

  constructor(readonly o: RuntimeOptions) {}

  /** A duration of the chart (seconds) as the lab runs it: scaled, never under 50 ms. */
  ms(seconds: number): number {
    return Math.max(50, seconds * 1000 * this.o.timeScale);
  }

  /** Takes the objects of a rendered revision, in the lab's namespace; Secrets decoded. */
  load(manifest: string, revision: number): void {
    this.objects = parseManifest(manifest).map((o) => ({
      ...o,
      metadata: { ...o.metadata, namespace: this.o.namespace },
    }));
    this.configMaps = new Map(
      this.objects
        .filter((o) => o.kind === 'ConfigMap')
        .map((o) => [o.metadata.name, { ...((o.data as Record<string, string>) ?? {}) }]),
    );
    this.secrets = new Map(
      this.objects
        .filter((o) => o.kind === 'Secret')
        .map((o) => {
          const data: Record<string, string> = {};
          for (const [k, v] of Object.entries((o.data as Record<string, string>) ?? {}))
            data[k] = Buffer.from(v ?? '', 'base64').toString('utf8');
          for (const [k, v] of Object.entries((o.stringData as Record<string, string>) ?? {})) data[k] = v;
          return [o.metadata.name, data];
        }),
    );
    this.services = this.objects.filter((o) => o.kind === 'Service');
    this.workloads = this.objects.filter(
      (o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet',
    );
    this.revision = revision;
  }

  /** The pods of a workload that are not being deleted. */
  podsOf(w: { kind: string; metadata: { name: string } }): LabPod[] {
    return [...this.pods.values()].filter(
      (p) => p.workload.kind === w.kind && p.workload.name === w.metadata.name && !p.deleting,
    );
  }
}
