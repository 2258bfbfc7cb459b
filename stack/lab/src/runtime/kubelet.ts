// The lab's kubelet: a pod's volumes, ports and containers as local processes; starts, stops
// (STOPSIGNAL, then SIGKILL after the grace period), restarts with back-off, the memory limit as
// the cgroup enforces it, and the pids file `lab down` reads.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  constants as fsConstants,
  existsSync,
  openSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { errorMessage } from '@hindsight/core';
import { PodLogWriter } from '../pod-log.js';
import { processSpec } from '../programs/index.js';
import type { Cluster } from './cluster.js';
import type { Events } from './events.js';
import {
  killGroup,
  killGroupLeader,
  now,
  nowSeconds,
  running,
  sleep,
  toSeconds,
  type Container,
  type ContainerStateJson,
  type LabPod,
} from './pod.js';
import { podSandbox, type PodRequest } from './pod-sandbox.js';
import { Prober, tcpCheck } from './probes.js';
import { ResourceLimits } from './resources.js';
import type { Services } from './services.js';

const SIGNALS: Record<string, number> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGHUP: 1,
  SIGSEGV: 11,
  SIGABRT: 6,
};

/** The lab's kubelet. */
export class Kubelet {
  private readonly prober: Prober;
  private readonly limits: ResourceLimits;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: Events,
    private readonly services: Services,
  ) {
    this.prober = new Prober(cluster, events, services, (pod, c) => this.killContainer(pod, c));
    this.limits = new ResourceLimits(cluster);
  }

  private get o() {
    return this.cluster.o;
  }

  /** Stops watching resources (the lab is shutting down). */
  stop(): void {
    this.limits.stop();
  }

  /** Rewrites the configs that list endpoints (nginx's upstreams) and reloads those that changed. */
  async reloadConfigs(): Promise<void> {
    for (const pod of this.cluster.pods.values()) {
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
  }

  /** Makes and registers a pod (its sandbox); its containers start with {@link run}. */
  async createPod(req: PodRequest): Promise<LabPod> {
    const pod = await podSandbox(req, this.cluster, this.services);
    this.cluster.pods.set(pod.name, pod);
    return pod;
  }

  /** Schedules the pod on the lab's one node and starts its containers. */
  async run(pod: LabPod): Promise<void> {
    this.events.pod(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${this.o.namespace}/${pod.name} to lab`,
    );
    for (const c of pod.containers) await this.startContainer(pod, c);
  }

  private writePids(): void {
    const procs: { pod: string; container: string; pid: number; command: string }[] = [];
    for (const pod of this.cluster.pods.values()) {
      for (const c of pod.containers) {
        if (running(c)) {
          procs.push({
            pod: pod.name,
            container: c.spec.name,
            pid: c.child!.pid!,
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
      this.events.pod(pod, 'Warning', 'Failed', `Error: ${errorMessage(err)}`);
      this.o.log(`${pod.name}/${c.spec.name}: ${errorMessage(err)}`);
      return;
    }
    const logDir = join(this.o.paths.logs, pod.name, c.spec.name);
    await mkdir(logDir, { recursive: true });
    await c.log?.close();
    c.log = new PodLogWriter(join(logDir, `${c.restartCount}.log`));
    if (c.restartCount === 0)
      this.events.pod(
        pod,
        'Normal',
        'Pulled',
        `Container image "${c.spec.image}" already present on machine`,
      );
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
    c.state = { running: { startedAt: toSeconds(c.startedAt) } };
    this.events.pod(pod, 'Normal', 'Created', `Created container ${c.spec.name}`);
    this.events.pod(pod, 'Normal', 'Started', `Started container ${c.spec.name}`);
    let resolveExit!: () => void;
    c.exited = new Promise((r) => (resolveExit = r));
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      this.onExit(pod, c, gen, code, signal);
      resolveExit();
    };
    child.once('error', (e) => {
      c.log?.line(`lab: cannot start ${proc.command}: ${e.message}`);
      if (child.pid === undefined) onExit(127, null);
    });
    child.once('exit', onExit);
    this.writePids();
    if (proc.afterStart) {
      void this.afterStart(pod, c, gen);
    } else c.initialised = true;
    this.prober.start(pod, c, gen);
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
    const signum = signal ? (SIGNALS[signal] ?? 0) : 0;
    const exitCode = code ?? 128 + signum;
    const oomKilled = this.limits.takeOomKilled(c);
    const reason = oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const terminated: ContainerStateJson = {
      terminated: {
        exitCode,
        ...(signum ? { signal: signum } : {}),
        reason,
        ...(c.startedAt ? { startedAt: toSeconds(c.startedAt) } : {}),
        finishedAt: nowSeconds(),
        containerID: `lab://${c.child?.pid ?? 0}`,
      },
    };
    this.writePids();
    if (wasReady) void this.services.changed();
    if (c.stopping || pod.deleting) {
      c.state = terminated;
      this.o.onChange?.();
      return;
    }
    this.o.log(`${pod.name}/${c.spec.name} exited (${signal ?? code}); restarting`);
    // The kubelet records no event for an exit itself; the lab does, so that a crash shows in
    // `kubectl get events` even before the back-off starts (lab-specific reason ContainerDied).
    this.events.pod(
      pod,
      'Warning',
      'ContainerDied',
      `Container ${c.spec.name} exited with code ${exitCode} (${reason}); restarting`,
    );
    c.lastState = terminated;
    c.restartCount++;
    // The kubelet's back-off: 10 s doubling to 5 min; the first restart is immediate.
    const delay = c.restartCount <= 1 ? 0 : this.cluster.ms(Math.min(10 * 2 ** (c.restartCount - 2), 300));
    if (delay > 0) {
      c.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.spec.name} pod=${pod.name}`,
        },
      };
      this.events.pod(
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
    const grace = this.cluster.ms(pod.spec.terminationGracePeriodSeconds ?? 30);
    const timer = setTimeout(() => {
      this.o.log(
        `${pod.name}/${c.spec.name} still running ${grace} ms after ${c.proc?.stopSignal ?? 'SIGTERM'}: SIGKILL`,
      );
      killGroup(child.pid, 'SIGKILL');
    }, grace);
    await c.exited;
    clearTimeout(timer);
  }

  /** Stops a pod being deleted: out of the endpoints first, then its containers are stopped. */
  async stopPod(pod: LabPod): Promise<void> {
    pod.deleting = true;
    for (const c of pod.containers) c.ready = false;
    await this.services.changed();
    await Promise.all(
      pod.containers.map(async (c) => {
        c.stopping = true;
        if (running(c)) this.events.pod(pod, 'Normal', 'Killing', `Stopping container ${c.spec.name}`);
        for (const t of c.timers) clearTimeout(t);
        c.timers = [];
        await this.killContainer(pod, c);
        await c.log?.close();
      }),
    );
  }

  /** Forgets a stopped pod. */
  forget(pod: LabPod): void {
    this.cluster.pods.delete(pod.name);
    this.writePids();
    this.o.onChange?.();
  }
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
