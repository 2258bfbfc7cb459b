// The lab's kubelet: a pod's volumes, ports and containers as local processes; starts, stops
// (STOPSIGNAL, then SIGKILL after the grace period), restarts with back-off, the memory limit as
// the cgroup enforces it, and the pids file `lab down` reads.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
import { probeCommand, processSpec, type LifecycleHandler } from '../programs/index.js';
import type { Cluster } from './cluster.js';
import { CpuLimits, parseCpu, type CpuEnforcement } from './cpu.js';
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
  private readonly cpu: CpuLimits;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: Events,
    private readonly services: Services,
  ) {
    this.prober = new Prober(cluster, events, services, (pod, c) => this.killContainer(pod, c));
    this.limits = new ResourceLimits(cluster);
    this.cpu = new CpuLimits(cluster.o.paths.root, cluster.o.log);
  }

  /** Whether CPU limits are enforced here, and how. */
  cpuEnforcement(): CpuEnforcement {
    return this.cpu.enforcement();
  }

  /** Removes what the kubelet made outside the state folder (the CPU cgroups), once every pod is gone. */
  close(): void {
    this.cpu.close();
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
    for (const l of pod.leftOut ?? []) {
      this.events.pod(pod, 'Warning', 'Failed', `Container ${l.container} left out by the lab: ${l.why}`);
      this.o.log(`${pod.name}/${l.container} left out: ${l.why}`);
    }
    for (const c of pod.containers) await this.startContainer(pod, c);
  }

  /** Writes the pids file: every container's process and the lab's own (see Cluster.hostProcesses). */
  writePids(): void {
    const procs: { pod: string; container: string; pid: number; command: string }[] = [];
    for (const host of this.cluster.hostProcesses) {
      const p = host();
      if (p) procs.push({ pod: '', container: '', ...p });
    }
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
    if (child.pid !== undefined) {
      this.cpu.attach(cgroupId(pod, c), child.pid, parseCpu(c.spec.resources?.limits?.cpu));
    }
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

  /**
   * Stops a container's process as the kubelet does: the preStop hook, then its STOPSIGNAL, then
   * SIGKILL once the grace period (counted from the start, preStop included) is over. A preStop still
   * running at the end of the grace period is cut and the container gets 2 s more, once.
   */
  private async killContainer(pod: LabPod, c: Container): Promise<void> {
    const child = c.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    // The grace period is not scaled: it bounds how long a program takes to stop (the shop drains 3 s,
    // then finishes its requests), whatever the lab's pace; scaled to 6 s at 0.2, a loaded machine's
    // slow checkout was SIGKILLed mid-request (a 502 and a 500 in a benign rollout).
    const grace = (pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const deadline = Date.now() + grace;
    const preStop = c.spec.lifecycle?.preStop;
    let extra = 0;
    if (preStop) {
      const done = await Promise.race([
        this.runPreStop(pod, c, preStop).then(() => true),
        c.exited!.then(() => true),
        sleep(grace).then(() => false),
      ]);
      if (!done) {
        extra = 2000;
        this.events.pod(
          pod,
          'Warning',
          'FailedPreStopHook',
          `PreStopHook for container ${c.spec.name} did not finish in the grace period`,
        );
      }
    }
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroupLeader(child.pid, c.proc?.stopSignal ?? 'SIGTERM');
    const left = Math.max(0, deadline - Date.now()) + extra;
    const timer = setTimeout(() => {
      this.o.log(
        `${pod.name}/${c.spec.name} still running ${grace + extra} ms after it was told to stop: SIGKILL`,
      );
      killGroup(child.pid, 'SIGKILL');
    }, left);
    await c.exited;
    clearTimeout(timer);
  }

  /** Runs a preStop hook: a sleep (times the lab's time scale), a command, or an HTTP GET. */
  private async runPreStop(pod: LabPod, c: Container, h: LifecycleHandler): Promise<void> {
    try {
      if (h.sleep) await sleep(this.cluster.ms(h.sleep.seconds));
      else if (h.exec) await runCommand(probeCommand(pod.ctx, h.exec.command), c.proc?.env ?? {});
      else if (h.httpGet) {
        const cport = typeof h.httpGet.port === 'number' ? h.httpGet.port : pod.portNames.get(h.httpGet.port);
        const port = cport === undefined ? undefined : pod.ports.get(cport);
        await fetch(`http://127.0.0.1:${port}${h.httpGet.path ?? '/'}`).then((r) => r.arrayBuffer());
      }
    } catch (err) {
      this.events.pod(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${errorMessage(err)}`);
    }
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
        this.cpu.release(cgroupId(pod, c));
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

/** The cgroup of a container: one per pod and container, kept across restarts. */
function cgroupId(pod: LabPod, c: Container): string {
  return `${pod.name}.${c.spec.name}`;
}

/** Runs a hook's command; rejects with its output when it fails. */
function runCommand(cmd: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd[0]!,
      cmd.slice(1),
      { env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${stderr || stdout || err.message}`.trim())) : resolve(),
    );
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
