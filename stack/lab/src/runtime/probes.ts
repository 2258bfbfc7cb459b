// Probes, as the kubelet's prober runs them: readiness moves a container in and out of its
// Services' endpoints, liveness restarts it; httpGet, tcpSocket and exec, with the kubelet's
// own failure messages.
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { probeCommand, type ProbeSpec } from '../programs/index.js';
import type { Cluster } from './cluster.js';
import type { Events } from './events.js';
import type { Container, LabPod } from './pod.js';
import type { Services } from './services.js';

/** Connects to a loopback port within `timeoutMs`; rejects with the kubelet's wording. */
export function tcpCheck(port: number, timeoutMs: number): Promise<void> {
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

/** Runs one probe of a container: true, or the failure message the kubelet would give. */
export function runProbe(pod: LabPod, c: Container, probe: ProbeSpec): Promise<true | string> {
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
        env: { PATH: '/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin', ...(c.proc?.env ?? {}) },
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

/** The prober of the lab's kubelet. */
export class Prober {
  /** @param restart stops a container that failed its liveness probe (the kubelet then restarts it). */
  constructor(
    private readonly cluster: Cluster,
    private readonly events: Events,
    private readonly services: Services,
    private readonly restart: (pod: LabPod, c: Container) => Promise<void>,
  ) {}

  /** Starts the readiness and liveness probes of start `gen` of a container. */
  start(pod: LabPod, c: Container, gen: number): void {
    this.schedule(pod, c, gen, 'readiness', c.spec.readinessProbe);
    this.schedule(pod, c, gen, 'liveness', c.spec.livenessProbe);
  }

  private schedule(
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
            void this.services.changed();
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
      const result = await runProbe(pod, c, probe);
      if (c.generation !== gen || c.stopping || pod.deleting) return;
      if (result === true) {
        fails = 0;
        oks++;
        if (kind === 'readiness' && !c.ready && c.initialised && oks >= (probe.successThreshold ?? 1)) {
          c.ready = true;
          await this.services.changed();
        }
      } else {
        oks = 0;
        fails++;
        const label = kind === 'readiness' ? 'Readiness' : 'Liveness';
        this.events.pod(pod, 'Warning', 'Unhealthy', `${label} probe failed: ${result}`);
        if (fails >= (probe.failureThreshold ?? 3)) {
          if (kind === 'readiness' && c.ready) {
            c.ready = false;
            await this.services.changed();
          }
          if (kind === 'liveness') {
            this.events.pod(
              pod,
              'Normal',
              'Killing',
              `Container ${c.spec.name} failed liveness probe, will be restarted`,
            );
            fails = 0;
            void this.restart(pod, c);
            return;
          }
        }
      }
      c.timers.push(setTimeout(() => void tick(), this.cluster.ms(probe.periodSeconds ?? 10)));
    };
    // The initial delay is not scaled: it is how long a program needs to start, whatever the lab's pace.
    c.timers.push(setTimeout(() => void tick(), (probe.initialDelaySeconds ?? 0) * 1000));
  }
}
