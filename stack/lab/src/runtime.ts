import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { Socket, connect } from 'node:net';
import { join } from 'node:path';
import { HindsightError, errorMessage } from '@hindsight/core';
import { parseAllDocuments } from 'yaml';
import type { ClusterView, KubeObject, ResourceName } from './kube-api.js';
import { matchesSelector } from './label-selector.js';
import type { LabPaths } from './paths.js';
import { PodLogWriter } from './pod-log.js';
import { freePort } from './ports.js';
import {
  parseQuantity,
  processSpec,
  probeCommand,
  type ContainerSpec,
  type PodContext,
  type ProbeSpec,
  type ProcessSpec,
} from './programs.js';
import { ServiceProxy, type Endpoint } from './service-proxy.js';

/** Settings of a running lab. */
export interface RuntimeOptions {
  paths: LabPaths;
  namespace: string;
  /** Multiplies probe periods and delays, back-offs and grace periods (1 = as rendered). */
  timeScale: number;
  shopEntry: string;
  /** The supervisor's own log. */
  log: (msg: string) => void;
  /** Called after any change, so the status file can be rewritten. */
  onChange?: () => void;
}

type ContainerStateJson =
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

interface Container {
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

interface LabPod {
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
  deleting: boolean;
}

interface PodSpec {
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

interface Workload extends KubeObject {
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

function now(): string {
  return new Date().toISOString();
}

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Parses a rendered manifest into objects (comments and empty documents dropped). */
export function parseManifest(manifest: string): KubeObject[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object' && typeof o.kind === 'string');
}

/**
 * The lab's kubelet, controllers and kube-proxy in one: it reconciles local processes from rendered
 * objects (StatefulSets and Deployments become pods, ConfigMaps become files, Services become
 * loopback proxies over ready endpoints), runs probes, restarts crashed or unhealthy containers
 * with back-off, records events, and answers the read-only API through {@link LabRuntime.view}.
 */
export class LabRuntime {
  private readonly pods = new Map<string, LabPod>();
  private readonly proxies = new Map<string, ServiceProxy>();
  private readonly events: KubeObject[] = [];
  private objects: KubeObject[] = [];
  private configMaps = new Map<string, Record<string, string>>();
  private secrets = new Map<string, Record<string, string>>();
  private services: KubeObject[] = [];
  private workloads: Workload[] = [];
  private generation = 0;
  private readonly memoryWatch: NodeJS.Timeout;
  /** Set on a container killed for its memory limit, so its exit reads OOMKilled. */
  private readonly oomKilled = new WeakSet<Container>();
  revision = 0;

  constructor(private readonly o: RuntimeOptions) {
    // The container memory limit, as the cgroup enforces it: a process whose resident memory goes
    // past resources.limits.memory is killed (SIGKILL, exit 137, reason OOMKilled). Read from
    // /proc/PID/statm of the container's main process every 500 ms.
    this.memoryWatch = setInterval(() => this.enforceMemoryLimits(), 500);
    this.memoryWatch.unref();
    try {
      for (const line of readFileSync(o.paths.events, 'utf8').split('\n')) {
        if (!line) continue;
        const ev = JSON.parse(line) as KubeObject;
        const i = this.events.findIndex((e) => e.metadata.name === ev.metadata.name);
        if (i >= 0) this.events[i] = ev;
        else this.events.push(ev);
      }
    } catch {
      /* no events yet */
    }
  }

  private enforceMemoryLimits(): void {
    for (const pod of this.pods.values()) {
      for (const c of pod.containers) {
        const limit = parseQuantity(c.spec.resources?.limits?.memory);
        const pid = c.child?.pid;
        if (limit === undefined || pid === undefined || c.child?.exitCode !== null || c.stopping) continue;
        let rss: number;
        try {
          rss = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
        } catch {
          continue;
        }
        if (rss > limit) {
          this.o.log(
            `${pod.name}/${c.spec.name}: ${rss} bytes resident, over its limit of ${limit}: OOMKilled`,
          );
          this.oomKilled.add(c);
          killGroup(pid, 'SIGKILL');
        }
      }
    }
  }

  private ms(seconds: number): number {
    return Math.max(50, seconds * 1000 * this.o.timeScale);
  }

  // ---------------------------------------------------------------- events

  private event(
    obj: { kind: string; name: string; uid?: string },
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component = 'kubelet',
  ): void {
    const t = now();
    const existing = this.events.find(
      (e) =>
        (e.involvedObject as { name: string }).name === obj.name &&
        e.reason === reason &&
        e.message === message,
    );
    let ev: KubeObject;
    if (existing) {
      existing.count = (existing.count as number) + 1;
      existing.lastTimestamp = t;
      existing.metadata.resourceVersion = String(Date.now());
      ev = existing;
    } else {
      ev = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${obj.name}.${randomBytes(8).toString('hex')}`,
          namespace: this.o.namespace,
          uid: randomUUID(),
          creationTimestamp: t.replace(/\.\d+Z$/, 'Z'),
          resourceVersion: String(Date.now()),
        },
        involvedObject: {
          kind: obj.kind,
          name: obj.name,
          namespace: this.o.namespace,
          apiVersion: obj.kind === 'Pod' ? 'v1' : 'apps/v1',
          ...(obj.uid ? { uid: obj.uid } : {}),
        },
        reason,
        message,
        source: { component, ...(component === 'kubelet' ? { host: 'lab' } : {}) },
        firstTimestamp: t,
        lastTimestamp: t,
        eventTime: null,
        count: 1,
        type,
        reportingComponent: component,
        reportingInstance: component === 'kubelet' ? 'lab' : '',
      };
      this.events.push(ev);
    }
    try {
      appendFileSync(this.o.paths.events, `${JSON.stringify(ev)}\n`);
    } catch {
      /* the state folder went away (down --purge racing): the in-memory copy stays */
    }
    this.o.onChange?.();
  }

  private podEvent(pod: LabPod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.event({ kind: 'Pod', name: pod.name, uid: pod.uid }, type, reason, message);
  }

  // ---------------------------------------------------------------- services

  private endpointsOf(svc: KubeObject, port: number): Endpoint[] {
    const spec = svc.spec as {
      selector?: Record<string, string>;
      ports?: { port: number; targetPort?: number | string }[];
    };
    const sp = spec.ports?.find((p) => p.port === port);
    if (!sp || !spec.selector) return [];
    const sel = Object.entries(spec.selector).map(([key, value]) => ({ op: 'eq' as const, key, value }));
    const out: Endpoint[] = [];
    for (const pod of this.pods.values()) {
      if (pod.deleting || !this.podReady(pod) || !matchesSelector(pod.labels, sel)) continue;
      const target = sp.targetPort ?? sp.port;
      const cport = typeof target === 'number' ? target : pod.portNames.get(target);
      const local = cport === undefined ? undefined : pod.ports.get(cport);
      if (local !== undefined) out.push({ pod: pod.name, port: local });
    }
    return out;
  }

  private async syncServices(): Promise<void> {
    const wanted = new Set<string>();
    for (const svc of this.services) {
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
    await this.endpointsChanged();
  }

  private refreshing = Promise.resolve();

  /** Recomputes every Service's endpoints and lets configs that list them (nginx) reload. */
  private endpointsChanged(): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      for (const [key, proxy] of this.proxies) {
        const svc = this.services.find((s) => s.metadata.name === key.slice(0, key.lastIndexOf(':')));
        proxy.setEndpoints(svc ? this.endpointsOf(svc, proxy.servicePort) : []);
      }
      for (const pod of this.pods.values()) {
        for (const c of pod.containers) {
          if (!c.proc?.refresh || !c.child || c.child.exitCode !== null) continue;
          try {
            if (await c.proc.refresh()) killGroupLeader(c.child.pid, 'SIGHUP');
          } catch (err) {
            this.o.log(`refresh of ${pod.name}/${c.spec.name} failed: ${errorMessage(err)}`);
          }
        }
      }
      this.o.onChange?.();
    });
    return this.refreshing;
  }

  // ---------------------------------------------------------------- pods

  private podReady(pod: LabPod): boolean {
    return pod.containers.length > 0 && pod.containers.every((c) => c.ready);
  }

  private async createPod(w: Workload, hash: string, ordinal?: number): Promise<LabPod> {
    const tpl = w.spec.template;
    const name =
      ordinal !== undefined
        ? `${w.metadata.name}-${ordinal}`
        : `${w.metadata.name}-${hash}-${safeString(randomBytes(5), 5)}`;
    const dir = join(this.o.paths.pods, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const labels: Record<string, string> = { ...(tpl.metadata.labels ?? {}) };
    if (w.kind === 'Deployment') labels['pod-template-hash'] = hash;
    else {
      labels['controller-revision-hash'] = `${w.metadata.name}-${hash}`;
      labels['statefulset.kubernetes.io/pod-name'] = name;
      labels['apps.kubernetes.io/pod-index'] = String(ordinal);
    }
    const ports = new Map<number, number>();
    const portNames = new Map<string, number>();
    for (const c of tpl.spec.containers) {
      for (const p of c.ports ?? []) {
        ports.set(p.containerPort, await freePort());
        if (p.name) portNames.set(p.name, p.containerPort);
      }
    }
    const annotations: Record<string, string> = { ...(tpl.metadata.annotations ?? {}) };
    annotations['lab.hindsight.dev/ports'] = JSON.stringify(Object.fromEntries(ports));
    // Volumes: ConfigMaps and Secrets become files, emptyDirs folders of the pod, claims folders that
    // outlive it (named as Kubernetes names PVCs: CLAIM-POD).
    const volumeDirs = new Map<string, string>();
    const claims = new Set((w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name));
    for (const v of tpl.spec.volumes ?? []) {
      const vdir = join(dir, 'volumes', v.name);
      await mkdir(vdir, { recursive: true });
      const data = v.configMap
        ? this.configMaps.get(v.configMap.name)
        : v.secret
          ? this.secrets.get(v.secret.secretName)
          : undefined;
      for (const [k, text] of Object.entries(data ?? {})) await writeFile(join(vdir, k), text);
      volumeDirs.set(v.name, vdir);
    }
    for (const claim of claims) {
      const vdir = join(this.o.paths.volumes, `${claim}-${name}`);
      await mkdir(vdir, { recursive: true });
      volumeDirs.set(claim, vdir);
    }
    const mounts: PodContext['mounts'] = [];
    for (const c of tpl.spec.containers) {
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
      namespace: this.o.namespace,
      mounts,
      ports,
      portNames,
      serviceLocalPort: (svc, port) => this.proxies.get(`${svc}:${port}`)?.localPort,
      serviceNames: () => this.services.map((s) => s.metadata.name),
      serviceEndpoints: (svcName, port) => {
        const svc = this.services.find((s) => s.metadata.name === svcName);
        return svc ? this.endpointsOf(svc, port) : [];
      },
      secretValue: (n, k) => this.secrets.get(n)?.[k],
      configMapValue: (n, k) => this.configMaps.get(n)?.[k],
      shopEntry: this.o.shopEntry,
    };
    const pod: LabPod = {
      name,
      uid: randomUUID(),
      workload: { kind: w.kind as 'Deployment' | 'StatefulSet', name: w.metadata.name },
      hash,
      ...(ordinal !== undefined ? { ordinal } : {}),
      labels,
      annotations,
      spec: tpl.spec,
      createdAt: now().replace(/\.\d+Z$/, 'Z'),
      ports,
      portNames,
      ctx,
      containers: tpl.spec.containers.map((spec) => ({
        spec,
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
    this.pods.set(name, pod);
    const owner = w.kind === 'Deployment' ? 'ReplicaSet' : 'StatefulSet';
    const ownerName = w.kind === 'Deployment' ? `${w.metadata.name}-${hash}` : w.metadata.name;
    this.event(
      { kind: owner, name: ownerName },
      'Normal',
      'SuccessfulCreate',
      w.kind === 'Deployment'
        ? `Created pod: ${name}`
        : `create Pod ${name} in StatefulSet ${w.metadata.name} successful`,
      w.kind === 'Deployment' ? 'replicaset-controller' : 'statefulset-controller',
    );
    this.podEvent(pod, 'Normal', 'Scheduled', `Successfully assigned ${this.o.namespace}/${name} to lab`);
    for (const c of pod.containers) await this.startContainer(pod, c);
    return pod;
  }

  private writePids(): void {
    const procs: { pod: string; container: string; pid: number; command: string }[] = [];
    for (const pod of this.pods.values()) {
      for (const c of pod.containers) {
        if (c.child?.pid !== undefined && c.child.exitCode === null && c.child.signalCode === null) {
          procs.push({
            pod: pod.name,
            container: c.spec.name,
            pid: c.child.pid,
            command: c.proc?.command ?? '',
          });
        }
      }
    }
    try {
      const text = JSON.stringify({ supervisor: process.pid, processes: procs }, null, 2);
      // Synchronous, so that a crash right after a spawn still leaves the pid for `down`.
      writeFileSyncSafe(this.o.paths.pids, text);
    } catch (err) {
      this.o.log(`cannot write pids: ${errorMessage(err)}`);
    }
  }

  private async startContainer(pod: LabPod, c: Container): Promise<void> {
    if (pod.deleting) return;
    const gen = ++c.generation;
    c.stopping = false;
    c.ready = false;
    c.initialised = false;
    try {
      c.proc = processSpec(pod.ctx, c.spec);
      await c.proc.prepare?.();
    } catch (err) {
      c.state = { waiting: { reason: 'CreateContainerConfigError', message: errorMessage(err) } };
      this.podEvent(pod, 'Warning', 'Failed', `Error: ${errorMessage(err)}`);
      this.o.log(`${pod.name}/${c.spec.name}: ${errorMessage(err)}`);
      return;
    }
    const logDir = join(this.o.paths.logs, pod.name, c.spec.name);
    await mkdir(logDir, { recursive: true });
    await c.log?.close();
    c.log = new PodLogWriter(join(logDir, `${c.restartCount}.log`));
    if (c.restartCount === 0)
      this.podEvent(pod, 'Normal', 'Pulled', `Container image "${c.spec.image}" already present on machine`);
    const proc = c.proc;
    // stdout and stderr are FIFOs, not the socketpairs Node's 'pipe' makes: programs that open
    // /dev/stdout (nginx's access_log) get ENXIO on a socket, and a container's stdout is a pipe.
    const out = await fifoPair(join(this.o.paths.pods, pod.name, `.${c.spec.name}.stdout`));
    const err = await fifoPair(join(this.o.paths.pods, pod.name, `.${c.spec.name}.stderr`));
    let child: ChildProcess;
    try {
      child = spawn(proc.command, proc.args, {
        cwd: proc.cwd,
        env: {
          PATH: `/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
          LANG: 'C.UTF-8',
          HOME: proc.cwd,
          ...proc.env,
        },
        detached: true,
        stdio: ['ignore', out.writeFd, err.writeFd],
        ...(proc.uid !== undefined ? { uid: proc.uid, gid: proc.gid } : {}),
      });
    } finally {
      closeSync(out.writeFd);
      closeSync(err.writeFd);
    }
    c.child = child;
    c.log.attach(out.reader);
    c.log.attach(err.reader);
    c.startedAt = now();
    c.state = { running: { startedAt: c.startedAt.replace(/\.\d+Z$/, 'Z') } };
    this.podEvent(pod, 'Normal', 'Created', `Created container ${c.spec.name}`);
    this.podEvent(pod, 'Normal', 'Started', `Started container ${c.spec.name}`);
    let resolveExit!: () => void;
    c.exited = new Promise((r) => (resolveExit = r));
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      this.onExit(pod, c, gen, code, signal);
      resolveExit();
    };
    child.once('error', (err) => {
      c.log?.line(`lab: cannot start ${proc.command}: ${err.message}`);
      if (child.pid === undefined) onExit(127, null);
    });
    child.once('exit', onExit);
    this.writePids();
    if (proc.afterStart) {
      void this.afterStart(pod, c, gen);
    } else c.initialised = true;
    this.scheduleProbe(pod, c, gen, 'readiness', c.spec.readinessProbe);
    this.scheduleProbe(pod, c, gen, 'liveness', c.spec.livenessProbe);
    this.o.onChange?.();
  }

  private async afterStart(pod: LabPod, c: Container, gen: number): Promise<void> {
    const port = c.spec.ports?.[0] ? pod.ports.get(c.spec.ports[0].containerPort) : undefined;
    for (let i = 0; i < 600 && c.generation === gen && !c.stopping; i++) {
      try {
        if (port !== undefined) await tcpCheck(port, 1000);
        await c.proc!.afterStart!();
        c.initialised = true;
        return;
      } catch {
        await sleep(200);
      }
    }
  }

  private scheduleProbe(
    pod: LabPod,
    c: Container,
    gen: number,
    kind: 'readiness' | 'liveness',
    probe: ProbeSpec | undefined,
  ): void {
    if (!probe) {
      if (kind === 'readiness') {
        const wait = () => {
          if (c.generation !== gen || c.stopping) return;
          if (c.initialised) {
            c.ready = true;
            void this.endpointsChanged();
          } else c.timers.push(setTimeout(wait, 100));
        };
        wait();
      }
      return;
    }
    let fails = 0;
    let oks = 0;
    const tick = async () => {
      if (c.generation !== gen || c.stopping || pod.deleting) return;
      const result = await this.runProbe(pod, c, probe);
      if (c.generation !== gen || c.stopping || pod.deleting) return;
      if (result === true) {
        fails = 0;
        oks++;
        if (kind === 'readiness' && !c.ready && c.initialised && oks >= (probe.successThreshold ?? 1)) {
          c.ready = true;
          await this.endpointsChanged();
        }
      } else {
        oks = 0;
        fails++;
        const label = kind === 'readiness' ? 'Readiness' : 'Liveness';
        this.podEvent(pod, 'Warning', 'Unhealthy', `${label} probe failed: ${result}`);
        if (fails >= (probe.failureThreshold ?? 3)) {
          if (kind === 'readiness' && c.ready) {
            c.ready = false;
            await this.endpointsChanged();
          }
          if (kind === 'liveness') {
            this.podEvent(
              pod,
              'Normal',
              'Killing',
              `Container ${c.spec.name} failed liveness probe, will be restarted`,
            );
            fails = 0;
            void this.killContainer(pod, c);
            return;
          }
        }
      }
      c.timers.push(setTimeout(() => void tick(), this.ms(probe.periodSeconds ?? 10)));
    };
    // The initial delay is not scaled: it is how long a program needs to start, whatever the lab's pace.
    c.timers.push(setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000));
  }

  /** true, or the failure message the kubelet would give. */
  private runProbe(pod: LabPod, c: Container, probe: ProbeSpec): Promise<true | string> {
    const timeout = (probe.timeoutSeconds ?? 1) * 1000;
    const portOf = (p: number | string) => {
      const cport = typeof p === 'number' ? p : pod.portNames.get(p);
      return cport === undefined ? undefined : pod.ports.get(cport);
    };
    if (probe.httpGet) {
      const port = portOf(probe.httpGet.port);
      const path = probe.httpGet.path ?? '/';
      return new Promise((resolve) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, timeout, headers: { 'user-agent': 'kube-probe/1.34' } },
          (res) => {
            res.resume();
            const code = res.statusCode ?? 0;
            resolve(code >= 200 && code < 400 ? true : `HTTP probe failed with statuscode: ${code}`);
          },
        );
        req.on('timeout', () => {
          req.destroy();
          resolve(
            `Get "http://127.0.0.1:${port}${path}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
          );
        });
        req.on('error', (err) => resolve(`Get "http://127.0.0.1:${port}${path}": ${err.message}`));
        req.end();
      });
    }
    if (probe.tcpSocket) {
      const port = portOf(probe.tcpSocket.port);
      return tcpCheck(port ?? 0, timeout).then(
        () => true as const,
        (err: Error) => `dial tcp 127.0.0.1:${port}: ${err.message}`,
      );
    }
    if (probe.exec) {
      const cmd = probeCommand(pod.ctx, probe.exec.command);
      return new Promise((resolve) => {
        let out = '';
        const child = spawn(cmd[0]!, cmd.slice(1), {
          env: { PATH: '/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin', ...safeEnv(c) },
          stdio: ['ignore', 'pipe', 'pipe'],
          timeout,
        });
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('error', (err) => resolve(err.message));
        child.on('close', (code) =>
          resolve(code === 0 ? true : out.trim() || `command terminated with exit code ${code ?? 'signal'}`),
        );
      });
    }
    return Promise.resolve(true);
  }

  private onExit(
    pod: LabPod,
    c: Container,
    gen: number,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    if (c.generation !== gen) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    const wasReady = c.ready;
    c.ready = false;
    // Children of the container (nginx workers, postgres backends) go with it, as with a cgroup.
    killGroup(c.child?.pid, 'SIGKILL');
    const finishedAt = now().replace(/\.\d+Z$/, 'Z');
    const signum = signal
      ? ((
          { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGQUIT: 3, SIGHUP: 1, SIGSEGV: 11, SIGABRT: 6 } as Record<
            string,
            number
          >
        )[signal] ?? 0)
      : 0;
    const exitCode = code ?? 128 + signum;
    const terminated: ContainerStateJson = {
      terminated: {
        exitCode,
        ...(signum ? { signal: signum } : {}),
        reason: this.oomKilled.has(c) ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
        ...(c.startedAt ? { startedAt: c.startedAt.replace(/\.\d+Z$/, 'Z') } : {}),
        finishedAt,
        containerID: `lab://${c.child?.pid ?? 0}`,
      },
    };
    this.writePids();
    if (wasReady) void this.endpointsChanged();
    if (c.stopping || pod.deleting) {
      c.state = terminated;
      this.o.onChange?.();
      return;
    }
    this.oomKilled.delete(c);
    this.o.log(`${pod.name}/${c.spec.name} exited (${signal ?? code}); restarting`);
    // The kubelet records no event for an exit itself; the lab does, so that a crash shows in
    // `kubectl get events` even before the back-off starts (lab-specific reason ContainerDied).
    const why = (terminated as { terminated: { reason: string } }).terminated.reason;
    this.podEvent(
      pod,
      'Warning',
      'ContainerDied',
      `Container ${c.spec.name} exited with code ${exitCode} (${why}); restarting`,
    );
    c.lastState = terminated;
    c.restartCount++;
    // The kubelet's back-off: 10 s doubling to 5 min; the first restart is immediate.
    const delay = c.restartCount <= 1 ? 0 : this.ms(Math.min(10 * 2 ** (c.restartCount - 2), 300));
    if (delay > 0) {
      c.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.spec.name} pod=${pod.name}`,
        },
      };
      this.podEvent(
        pod,
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${c.spec.name} in pod ${pod.name}`,
      );
    } else c.state = { waiting: { reason: 'ContainerCreating' } };
    this.o.onChange?.();
    c.timers.push(setTimeout(() => void this.startContainer(pod, c), delay));
  }

  /** Stops a container's process: its STOPSIGNAL, then SIGKILL after the grace period. */
  private async killContainer(pod: LabPod, c: Container): Promise<void> {
    const child = c.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    killGroupLeader(child.pid, c.proc?.stopSignal ?? 'SIGTERM');
    const grace = this.ms(pod.spec.terminationGracePeriodSeconds ?? 30);
    const timer = setTimeout(() => {
      this.o.log(
        `${pod.name}/${c.spec.name} still running ${grace} ms after ${c.proc?.stopSignal ?? 'SIGTERM'}: SIGKILL`,
      );
      killGroup(child.pid, 'SIGKILL');
    }, grace);
    await c.exited;
    clearTimeout(timer);
  }

  /** Deletes a pod: out of the endpoints first, then its containers are stopped. */
  private async deletePod(pod: LabPod): Promise<void> {
    pod.deleting = true;
    for (const c of pod.containers) c.ready = false;
    await this.endpointsChanged();
    await Promise.all(
      pod.containers.map(async (c) => {
        c.stopping = true;
        if (c.child && c.child.exitCode === null && c.child.signalCode === null) {
          this.podEvent(pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
        }
        for (const t of c.timers) clearTimeout(t);
        c.timers = [];
        await this.killContainer(pod, c);
        await c.log?.close();
      }),
    );
    if (pod.workload.kind === 'StatefulSet') {
      this.event(
        { kind: 'StatefulSet', name: pod.workload.name },
        'Normal',
        'SuccessfulDelete',
        `delete Pod ${pod.name} in StatefulSet ${pod.workload.name} successful`,
        'statefulset-controller',
      );
    } else {
      this.event(
        { kind: 'ReplicaSet', name: `${pod.workload.name}-${pod.hash}` },
        'Normal',
        'SuccessfulDelete',
        `Deleted pod: ${pod.name}`,
        'replicaset-controller',
      );
    }
    this.pods.delete(pod.name);
    this.writePids();
    this.o.onChange?.();
  }

  /** Waits for pods to be ready: 120 s, shortened with the time scale down to 30 s. */
  private async waitReady(
    pods: LabPod[],
    what: string,
    timeoutMs = Math.max(30_000, 120_000 * Math.min(1, this.o.timeScale)),
  ): Promise<void> {
    const gen = this.generation;
    const until = Date.now() + timeoutMs;
    while (!pods.every((p) => this.podReady(p) || p.deleting)) {
      this.stillApplying(gen, what);
      if (Date.now() > until) {
        const notReady = pods.filter((p) => !this.podReady(p)).map((p) => p.name);
        throw new HindsightError(
          'HINDSIGHT_LAB',
          `pods not ready after ${timeoutMs / 1000}s: ${notReady.join(', ')}`,
          what,
        );
      }
      await sleep(100);
    }
  }

  // ---------------------------------------------------------------- reconcile

  private ordered(workloads: Workload[]): Workload[] {
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

  private podsOf(w: { kind: string; metadata: { name: string } }): LabPod[] {
    return [...this.pods.values()].filter(
      (p) => p.workload.kind === w.kind && p.workload.name === w.metadata.name && !p.deleting,
    );
  }

  /** Throws when the rollout of generation `gen` was stopped: cancelled, or the lab shutting down. */
  private stillApplying(gen: number, what: string): void {
    if (gen !== this.generation)
      throw new HindsightError('HINDSIGHT_LAB', 'the rollout was stopped before it finished', what);
  }

  /**
   * Makes the running processes match `manifest` (the rendered revision `revision`): workloads in
   * dependency order (hindsight.dev/depends-on), each rolled or scaled and ready before the next.
   * Aborting `signal` stops the rollout where it is, promptly: the pods started so far run on, as
   * tracked as any (`shutdown` stops them), and the workloads not reached yet keep their pods.
   */
  async apply(manifest: string, revision: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const gen = ++this.generation;
    const cancel = () => {
      if (this.generation === gen) ++this.generation;
    };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      await this.rollout(manifest, revision, gen);
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  private async rollout(manifest: string, revision: number, gen: number): Promise<void> {
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
    await this.syncServices();
    const wanted = new Set(this.workloads.map((w) => `${w.kind}/${w.metadata.name}`));
    for (const pod of [...this.pods.values()]) {
      if (!wanted.has(`${pod.workload.kind}/${pod.workload.name}`)) await this.deletePod(pod);
    }
    for (const w of this.ordered(this.workloads)) {
      this.stillApplying(gen, `${w.kind} ${w.metadata.name}`);
      if (w.kind === 'StatefulSet') await this.reconcileStatefulSet(w);
      else await this.reconcileDeployment(w);
    }
  }

  private async reconcileStatefulSet(w: Workload): Promise<void> {
    const n = w.spec.replicas ?? 1;
    const hash = podTemplateHash(w.spec.template);
    const what = `StatefulSet ${w.metadata.name}`;
    const byOrdinal = () => new Map(this.podsOf(w).map((p) => [p.ordinal!, p]));
    // Scale down first, highest ordinal first.
    for (const p of [...this.podsOf(w)].sort((a, b) => b.ordinal! - a.ordinal!)) {
      if (p.ordinal! >= n) await this.deletePod(p);
    }
    // As the StatefulSet controller: missing pods first (all at once under Parallel, else one by
    // one), then the rolling update from the highest ordinal down, each ready before the next.
    const existing = byOrdinal();
    const missing = [...Array(n).keys()].filter((i) => !existing.has(i));
    if (w.spec.podManagementPolicy === 'Parallel') {
      const created = await Promise.all(missing.map((i) => this.createPod(w, hash, i)));
      await this.waitReady(created, what);
    } else {
      for (const i of missing) await this.waitReady([await this.createPod(w, hash, i)], what);
    }
    for (const p of [...this.podsOf(w)].sort((a, b) => b.ordinal! - a.ordinal!)) {
      if (p.hash === hash) continue;
      await this.deletePod(p);
      const fresh = await this.createPod(w, hash, p.ordinal);
      await this.waitReady([fresh], what);
    }
    await this.waitReady(this.podsOf(w), what);
  }

  private async reconcileDeployment(w: Workload): Promise<void> {
    const n = w.spec.replicas ?? 1;
    const hash = podTemplateHash(w.spec.template);
    const what = `Deployment ${w.metadata.name}`;
    const rs = `${w.metadata.name}-${hash}`;
    const current = () => this.podsOf(w).filter((p) => p.hash === hash);
    const old = () =>
      this.podsOf(w)
        .filter((p) => p.hash !== hash)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    if (old().length > 0 || current().length !== n) {
      this.event(
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

  /** Stops every pod, dependents first, and closes the Service proxies. */
  async shutdown(): Promise<void> {
    ++this.generation;
    clearInterval(this.memoryWatch);
    const order = this.ordered(this.workloads).reverse();
    const groups = new Map<string, LabPod[]>();
    for (const pod of this.pods.values()) {
      const key = `${pod.workload.kind}/${pod.workload.name}`;
      groups.set(key, [...(groups.get(key) ?? []), pod]);
    }
    const done = new Set<string>();
    for (const w of order) {
      const key = `${w.kind}/${w.metadata.name}`;
      done.add(key);
      await Promise.all((groups.get(key) ?? []).map((p) => this.deletePod(p)));
    }
    await Promise.all([...this.pods.values()].map((p) => this.deletePod(p)));
    for (const proxy of this.proxies.values()) await proxy.close();
    this.proxies.clear();
  }

  // ---------------------------------------------------------------- views

  private podJson(pod: LabPod): KubeObject {
    const ready = this.podReady(pod);
    const containersReady = ready;
    const t = pod.createdAt;
    const phase = pod.containers.some((c) => 'running' in c.state) ? 'Running' : 'Pending';
    const condition = (type: string, status: boolean) => ({
      type,
      status: status ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: t,
    });
    const ownerKind = pod.workload.kind === 'Deployment' ? 'ReplicaSet' : 'StatefulSet';
    const ownerName =
      pod.workload.kind === 'Deployment' ? `${pod.workload.name}-${pod.hash}` : pod.workload.name;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace: this.o.namespace,
        uid: pod.uid,
        resourceVersion: String(Date.now()),
        creationTimestamp: pod.createdAt,
        labels: pod.labels,
        annotations: pod.annotations,
        ...(pod.deleting
          ? { deletionTimestamp: now().replace(/\.\d+Z$/, 'Z'), deletionGracePeriodSeconds: 30 }
          : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: ownerKind,
            name: ownerName,
            uid: `${ownerName}-uid`,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      // Every lab pod shares the machine's network, as a hostNetwork pod does: its podIP is the
      // host's and its containers listen on the ports the lab gave them, so podIP:containerPort
      // is where a client (hindsight naming a Redis node's pod) really reaches it.
      spec: {
        ...pod.spec,
        containers: pod.spec.containers.map((c) => ({
          ...c,
          ...(c.ports
            ? {
                ports: c.ports.map((p) => ({
                  ...p,
                  containerPort: pod.ports.get(p.containerPort) ?? p.containerPort,
                })),
              }
            : {}),
        })),
        hostNetwork: true,
        nodeName: 'lab',
        restartPolicy: 'Always',
      },
      status: {
        phase,
        conditions: [
          condition('PodReadyToStartContainers', true),
          condition('Initialized', true),
          condition('Ready', ready),
          condition('ContainersReady', containersReady),
          condition('PodScheduled', true),
        ],
        hostIP: '127.0.0.1',
        podIP: '127.0.0.1',
        podIPs: [{ ip: '127.0.0.1' }],
        startTime: pod.createdAt,
        qosClass: 'Burstable',
        containerStatuses: pod.containers.map((c) => ({
          name: c.spec.name,
          image: c.spec.image,
          imageID: `lab://${c.proc?.command ?? ''}`,
          containerID: `lab://${c.child?.pid ?? 0}`,
          ready: c.ready,
          started: 'running' in c.state,
          restartCount: c.restartCount,
          state: c.state,
          lastState: c.lastState,
        })),
      },
    };
  }

  private workloadJson(w: Workload): KubeObject {
    const pods = this.podsOf(w);
    const hash = podTemplateHash(w.spec.template);
    const ready = pods.filter((p) => this.podReady(p)).length;
    return {
      ...w,
      metadata: {
        ...w.metadata,
        namespace: this.o.namespace,
        generation: this.revision,
        uid: `${w.metadata.name}-uid`,
        creationTimestamp: w.metadata.creationTimestamp ?? now().replace(/\.\d+Z$/, 'Z'),
        annotations: {
          ...(w.metadata.annotations ?? {}),
          ...(w.kind === 'Deployment' ? { 'deployment.kubernetes.io/revision': String(this.revision) } : {}),
        },
      },
      status: {
        observedGeneration: this.revision,
        replicas: pods.length,
        readyReplicas: ready,
        availableReplicas: ready,
        updatedReplicas: pods.filter((p) => p.hash === hash).length,
        ...(w.kind === 'StatefulSet'
          ? {
              currentReplicas: pods.length,
              currentRevision: `${w.metadata.name}-${hash}`,
              updateRevision: `${w.metadata.name}-${hash}`,
            }
          : {}),
      },
    };
  }

  /** A summary of every pod and Service, for `lab status` and the status file. */
  snapshot() {
    return {
      revision: this.revision,
      pods: [...this.pods.values()].map((p) => ({
        name: p.name,
        component: p.labels['app.kubernetes.io/component'] ?? '',
        workload: `${p.workload.kind}/${p.workload.name}`,
        ready: this.podReady(p),
        phase: p.deleting
          ? 'Terminating'
          : p.containers.some((c) => 'running' in c.state)
            ? 'Running'
            : 'Pending',
        restarts: p.containers.reduce((a, c) => a + c.restartCount, 0),
        ports: Object.fromEntries(p.ports),
        pids: p.containers.map((c) => c.child?.pid).filter((x): x is number => x !== undefined && c0(p, x)),
      })),
      services: [...this.proxies.values()].map((s) => ({
        name: s.service,
        port: s.servicePort,
        localPort: s.localPort,
        endpoints: s.getEndpoints().map((e) => e.pod),
      })),
    };
  }

  /** The read-only cluster the API server shows. */
  view(secrets: () => Promise<KubeObject[]>): ClusterView {
    return {
      list: async (resource: ResourceName) => {
        switch (resource) {
          case 'pods':
            return [...this.pods.values()].map((p) => this.podJson(p));
          case 'events':
            return this.events;
          case 'secrets':
            return [...this.objects.filter((o) => o.kind === 'Secret'), ...(await secrets())];
          case 'services':
          case 'configmaps':
            return this.objects.filter((o) => o.kind.toLowerCase() === resource.slice(0, -1));
          case 'deployments':
          case 'statefulsets':
            return this.workloads
              .filter((w) => w.kind.toLowerCase() === resource.slice(0, -1))
              .map((w) => this.workloadJson(w));
          default:
            return [];
        }
      },
      logFile: async (_ns, podName, container, previous) => {
        const pod = this.pods.get(podName);
        const c = container ? pod?.containers.find((x) => x.spec.name === container) : pod?.containers[0];
        if (!pod || !c)
          return { status: 404, message: `container ${container ?? ''} is not valid for pod ${podName}` };
        if (previous) {
          if (c.restartCount === 0)
            return {
              status: 400,
              message: `previous terminated container "${c.spec.name}" in pod "${podName}" not found`,
            };
          return join(this.o.paths.logs, podName, c.spec.name, `${c.restartCount - 1}.log`);
        }
        return join(this.o.paths.logs, podName, c.spec.name, `${c.restartCount}.log`);
      },
      // The file's instance is done once its writer says so, or once another instance (a restart)
      // or none (the pod deleted, the container waiting to start) writes the container's log.
      logEnded: (_ns, podName, container, file) => {
        const pod = this.pods.get(podName);
        const c = container ? pod?.containers.find((x) => x.spec.name === container) : pod?.containers[0];
        return !c?.log || c.log.file !== file || c.log.ended;
      },
    };
  }
}

function c0(p: LabPod, pid: number): boolean {
  return p.containers.some(
    (c) => c.child?.pid === pid && c.child.exitCode === null && c.child.signalCode === null,
  );
}

function killGroupLeader(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

function safeEnv(c: Container): Record<string, string> {
  return c.proc?.env ?? {};
}

function tcpCheck(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('i/o timeout'));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.end();
      resolve();
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(err.message.includes('ECONNREFUSED') ? 'connect: connection refused' : err.message));
    });
  });
}

function writeFileSyncSafe(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A FIFO opened for reading (non-blocking, as a stream) and for writing (the fd a child inherits). */
async function fifoPair(path: string): Promise<{ reader: Socket; writeFd: number }> {
  if (!existsSync(path)) execFileSync('mkfifo', ['-m', '0666', path]);
  const readFd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  const writeFd = openSync(path, fsConstants.O_WRONLY);
  const reader = new Socket({ fd: readFd, readable: true, writable: false });
  return { reader, writeFd };
}
