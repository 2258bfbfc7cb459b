// The lab's Prometheus: Debian's `prometheus` binary on a free loopback port, its config, targets and
// TSDB in the lab's state folder, scraping what the rendered objects ask to be scraped
// (scrape-targets.ts), as a cluster's Prometheus does through its service discovery.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '@hindsight/core';
import { freePort } from '../ports.js';
import { killGroup, sleep } from './pod.js';
import type { ScrapeDiscovery, ScrapeTarget } from './scrape-targets.js';

/** The Prometheus binary the lab runs (Debian's package `prometheus`, installed by scripts/setup.sh). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
/** How long the lab waits for Prometheus to be ready: it opens its TSDB and WAL first, slow on a loaded machine. */
export const PROMETHEUS_READY_MS = 60_000;

/** What `lab status` shows of the lab's Prometheus. */
export interface LabPrometheusStatus {
  /** False in a lab without monitoring (LabConfig.monitoring): no Prometheus, no exporter sidecars. */
  enabled: boolean;
  /** Its HTTP API (`hindsight collect --prometheus URL`), when it runs. */
  url?: string;
  ready: boolean;
  scrapeIntervalSeconds: number;
  /** Where its targets came from: the ServiceMonitors/PodMonitors, the prometheus.io annotations, or none. */
  discovery: ScrapeDiscovery;
  targets: number;
  /** Why it does not run (the binary missing, or it exited), when it does not. */
  error?: string;
}

/** The lab's Prometheus process and the file its service discovery reads. */
export class LabPrometheus {
  private child?: ChildProcess;
  private port = 0;
  private isReady = false;
  private error?: string;
  private lastTargets = '';
  private discovery: ScrapeDiscovery = 'none';
  private count = 0;
  private stopping = false;
  private off = false;
  /** Writes of the targets file, one after another (they share its temporary file). */
  private writing = Promise.resolve();

  constructor(
    private readonly dir: string,
    readonly scrapeIntervalSeconds: number,
    private readonly log: (msg: string) => void,
    private readonly onChange: () => void,
  ) {}

  private get targetsFile(): string {
    return join(this.dir, 'targets.json');
  }

  /** The running process, for the pids file `lab down` reads. */
  get process(): { pid: number; command: string } | undefined {
    const pid = this.child?.pid;
    return pid !== undefined && this.child?.exitCode === null ? { pid, command: PROMETHEUS_BIN } : undefined;
  }

  /** Says why it does not run when the lab runs without monitoring. */
  leaveOff(why: string): void {
    this.off = true;
    this.error = why;
  }

  /** Starts Prometheus (it becomes ready on its own; see {@link waitReady}); a missing binary is said, not thrown. */
  async start(): Promise<void> {
    try {
      accessSync(PROMETHEUS_BIN, constants.X_OK);
    } catch {
      this.error = `${PROMETHEUS_BIN} is not installed (apt-get install prometheus, or scripts/setup.sh): the lab runs without Prometheus`;
      this.log(this.error);
      return;
    }
    await mkdir(join(this.dir, 'data'), { recursive: true });
    await this.writeTargets([]);
    const interval = `${this.scrapeIntervalSeconds}s`;
    // One job over a file the lab rewrites as pods come and go (file_sd: Prometheus watches it), the
    // target labels (job, namespace, pod, container, __metrics_path__) set by the lab's discovery.
    const config = [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'scrape_configs:',
      '  - job_name: lab',
      '    file_sd_configs:',
      `      - files: [${JSON.stringify(this.targetsFile)}]`,
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'prometheus.yml'), config);
    this.port = await freePort();
    const logFd = openSync(join(this.dir, 'prometheus.log'), 'a');
    try {
      this.child = spawn(
        PROMETHEUS_BIN,
        [
          `--config.file=${join(this.dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(this.dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${this.port}`,
          '--storage.tsdb.retention.time=7d',
        ],
        { cwd: this.dir, detached: true, stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const child = this.child;
    child.once('error', (e) => {
      this.error = `cannot start ${PROMETHEUS_BIN}: ${e.message}`;
    });
    child.once('exit', (code, signal) => {
      this.isReady = false;
      if (!this.stopping) {
        this.error = `prometheus exited (${signal ?? code}); see ${join(this.dir, 'prometheus.log')}`;
        this.log(this.error);
      }
      this.onChange();
    });
    this.log(`prometheus ${child.pid ?? '?'} on 127.0.0.1:${this.port}, scraping every ${interval}`);
    this.onChange();
  }

  /**
   * Waits until Prometheus answers /-/ready, at most `ms` (it opens its TSDB and WAL first: on a
   * loaded 2-core machine that took over 10 s). False when it did not, or does not run.
   */
  async waitReady(ms = PROMETHEUS_READY_MS): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.isReady && this.child && this.child.exitCode === null && Date.now() < until) {
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/-/ready`, {
          signal: AbortSignal.timeout(2000),
        });
        await res.arrayBuffer();
        if (res.ok) {
          this.isReady = true;
          this.onChange();
          break;
        }
      } catch {
        /* not listening yet */
      }
      await sleep(200);
    }
    if (!this.isReady && this.child && this.child.exitCode === null)
      this.log(`prometheus not ready after ${Math.round(ms / 1000)} s; the lab goes on`);
    return this.isReady;
  }

  /** Rewrites the targets file when the targets changed (atomically: Prometheus watches it). */
  async update(discovery: ScrapeDiscovery, targets: ScrapeTarget[]): Promise<void> {
    this.discovery = discovery;
    this.count = targets.length;
    if (!this.child) return;
    this.writing = this.writing
      .then(() => this.writeTargets(targets))
      .catch((err: unknown) => this.log(`cannot write prometheus targets: ${errorMessage(err)}`));
    await this.writing;
  }

  private async writeTargets(targets: ScrapeTarget[]): Promise<void> {
    const groups = targets.map((t) => ({
      targets: [t.address],
      labels: { ...t.labels, __metrics_path__: t.path },
    }));
    const text = `${JSON.stringify(groups, null, 2)}\n`;
    if (text === this.lastTargets) return;
    const tmp = `${this.targetsFile}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.targetsFile);
    this.lastTargets = text;
  }

  status(): LabPrometheusStatus {
    const runs = this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
    return {
      enabled: !this.off,
      ...(runs ? { url: `http://127.0.0.1:${this.port}` } : {}),
      ready: runs && this.isReady,
      scrapeIntervalSeconds: this.scrapeIntervalSeconds,
      discovery: this.discovery,
      targets: this.count,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Stops Prometheus: SIGTERM (it flushes its head block), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.stopping = true;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
