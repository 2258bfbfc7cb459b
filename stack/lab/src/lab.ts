import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HindsightError, errorMessage, type HelmRelease } from '@hindsight/core';
import { parse as parseYaml } from 'yaml';
import { loadChart, renderChart } from './helm.js';
import { newLabConfig, readLabConfig, writeLabConfig, type LabConfig } from './lab-config.js';
import { defaultChartDir, defaultLabDir, labPaths, type LabPaths } from './paths.js';
import { freePort } from './ports.js';
import { ReleaseStore, historyEntries, type HistoryEntry } from './release-store.js';
import { removeLabCgroups } from './runtime/cpu.js';
import type { LabPrometheusStatus } from './runtime/index.js';
import { CONTROL_PREFIX, controlHeaders } from './supervisor.js';
import { runTraffic, type TrafficOptions, type TrafficSummary } from './traffic.js';
import { mergeValues, parseSetValues, type Values } from './values.js';

/** Where and how a lab runs. Every field has a default, so `new Lab()` is the user's default lab. */
export interface LabOptions {
  /** State folder (default: $XDG_STATE_HOME/hindsight/lab or ~/.local/state/hindsight/lab). */
  dir?: string;
  /** The chart to render (default: stack/chart of this repository). Fixed at the first `up`. */
  chartDir?: string;
  /** Release name (default: shop). Fixed at the first `up`. */
  release?: string;
  /** Namespace the objects and records live in (default: default). */
  namespace?: string;
  /** Multiplies probe periods, back-offs and preStop sleeps (default 1; tests use less). Fixed at `up`. */
  timeScale?: number;
  /**
   * Traces the shop: the supervisor runs a trace receiver and the lab sets `shop.otel.endpoint` to it
   * (see LabStatus.tracesUrl). Off by default: the OpenTelemetry SDK adds about 40 MiB to each shop
   * pod's resident memory (about 200 -> 240 MiB under the traffic generator, against the chart's
   * 256Mi limit) and seconds to its start. Once on at an `up`, the lab keeps it.
   */
  tracing?: boolean;
  /**
   * Monitoring: the chart's exporter sidecars run and the supervisor runs a real Prometheus scraping
   * them and the shops by the chart's annotations or monitors (see LabStatus.prometheus). Off by
   * default: a lab nobody scrapes is spared Prometheus and 5 to 9 exporter processes (the sidecars
   * are left out of their pods, as when their binary is missing). Once on at an `up`, the lab keeps it.
   */
  monitoring?: boolean;
  /** Progress lines ("rendering revision 2", ...), for a CLI to print. */
  onProgress?: (message: string) => void;
}

/** Values for a revision, as `helm` takes them: files (`-f`), then `--set` pairs, then a tree. */
export interface ValuesInput {
  valueFiles?: string[];
  set?: string[];
  values?: Values;
}

/** Options of a rollout: `up`, `upgrade` and `rollback`. */
export interface RolloutOptions {
  /**
   * Aborting it (Ctrl-C) stops waiting for the rollout and stops the rollout itself, promptly;
   * the call then rejects with the signal's reason, and a revision it made is recorded `failed`, as
   * Helm records an interrupted upgrade. The pods started so far run on until `down` stops them.
   */
  signal?: AbortSignal;
}

/** One pod in `lab status`. */
export interface LabPodStatus {
  name: string;
  component: string;
  workload: string;
  ready: boolean;
  phase: string;
  restarts: number;
  ports: Record<string, number>;
  pids: number[];
  /** Containers the lab leaves out on this machine, with why (an exporter whose binary is missing). */
  leftOut?: string[];
}

/** What `lab status` reports. */
export interface LabStatus {
  dir: string;
  running: boolean;
  release: string;
  namespace: string;
  revision: number;
  supervisorPid?: number;
  apiUrl?: string;
  kubeconfig: string;
  nginxUrl?: string;
  /**
   * The lab's trace receiver: the shop exports its spans there (OTLP/HTTP, `shop.otel.endpoint`),
   * and it answers Tempo's query API, so `hindsight collect --tempo URL` reads them.
   */
  tracesUrl?: string;
  applying?: number;
  lastError?: string;
  pods: LabPodStatus[];
  services: { name: string; port: number; localPort: number; endpoints: string[] }[];
  /**
   * The lab's Prometheus (its `url` for `hindsight collect --prometheus`), scraping what the revision's
   * ServiceMonitors/PodMonitors or prometheus.io annotations name; `error` when it does not run.
   */
  prometheus?: LabPrometheusStatus;
  /** Whether CPU limits (resources.limits.cpu) are enforced on this machine, and how or why not. */
  cpuLimits?: { enforced: boolean; how: string };
}

// The built entry, from src/ (tests) or dist/ alike: the supervisor runs as plain Node.
const supervisorEntry = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'supervisor-main.js');

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A lab: the chart's release run as local processes, driven like Helm. Used by the `hindsight lab`
 * commands and, from code, by `hindsight demo` and the fault scenarios. Every method returns a
 * value or throws a HindsightError (HINDSIGHT_LAB) naming what failed.
 */
export class Lab {
  readonly paths: LabPaths;
  private readonly opts: LabOptions;

  constructor(opts: LabOptions = {}) {
    this.opts = opts;
    this.paths = labPaths(opts.dir ?? defaultLabDir());
  }

  private progress(msg: string): void {
    this.opts.onProgress?.(msg);
  }

  private async config(): Promise<LabConfig> {
    const c = await readLabConfig(this.paths.config);
    if (!c)
      throw new HindsightError('HINDSIGHT_LAB', 'no lab here: run `hindsight lab up` first', this.paths.root);
    return c;
  }

  private store(c: LabConfig): ReleaseStore {
    return new ReleaseStore(this.paths.releases, c.namespace);
  }

  /** The supervisor's status file, if it is alive. */
  private liveStatus(): (LabStatus & { apiPort: number }) | undefined {
    try {
      const s = JSON.parse(readFileSync(this.paths.status, 'utf8')) as LabStatus & { apiPort: number };
      return alive(s.supervisorPid) && s.apiPort ? s : undefined;
    } catch {
      return undefined;
    }
  }

  private async control<T>(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<T> {
    const s = this.liveStatus();
    if (!s)
      throw new HindsightError(
        'HINDSIGHT_LAB',
        'the lab is not running: run `hindsight lab up`',
        this.paths.root,
      );
    const url = `http://127.0.0.1:${s.apiPort}${CONTROL_PREFIX}${path}`;
    try {
      const limit = AbortSignal.timeout(15 * 60_000);
      const res = await fetch(url, {
        method,
        headers: controlHeaders(this.paths) ?? {},
        signal: signal ? AbortSignal.any([limit, signal]) : limit,
      });
      return (await res.json()) as T;
    } catch (err) {
      // Aborting closes the connection, which tells the supervisor to stop the rollout.
      if (signal?.aborted) throw signal.reason;
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `the lab supervisor did not answer: ${errorMessage(err)}`,
        url,
      );
    }
  }

  private async readValues(input: ValuesInput): Promise<Values> {
    let v: Values = {};
    for (const f of input.valueFiles ?? []) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (err) {
        throw new HindsightError('HINDSIGHT_USAGE', `cannot read values file: ${errorMessage(err)}`, f);
      }
      v = mergeValues(v, (parseYaml(text) ?? {}) as Values);
    }
    try {
      v = mergeValues(v, parseSetValues(input.set ?? []));
    } catch (err) {
      throw new HindsightError('HINDSIGHT_USAGE', errorMessage(err), '--set');
    }
    return mergeValues(v, input.values ?? {});
  }

  private async startSupervisor(): Promise<void> {
    if (this.liveStatus()) return;
    await rm(this.paths.status, { force: true });
    const fd = openSync(this.paths.supervisorLog, 'a');
    const child = spawn(process.execPath, [supervisorEntry, this.paths.root], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: this.paths.root,
    });
    closeSync(fd);
    child.unref();
    for (let i = 0; i < 300; i++) {
      const s = this.liveStatus();
      if (s && s.supervisorPid === child.pid) return;
      if (child.exitCode !== null || !alive(child.pid)) break;
      await sleep(50);
    }
    let tail = '';
    try {
      tail = readFileSync(this.paths.supervisorLog, 'utf8').trim().split('\n').slice(-5).join(' | ');
    } catch {
      /* no log */
    }
    throw new HindsightError(
      'HINDSIGHT_LAB',
      `the lab supervisor did not start: ${tail}`,
      this.paths.supervisorLog,
    );
  }

  /** Renders, records (pending), applies, then marks the revision deployed or failed. */
  private async deploy(
    c: LabConfig,
    kind: 'install' | 'upgrade' | 'rollback',
    config: Values,
    description: string,
    from?: HelmRelease,
    signal?: AbortSignal,
  ): Promise<HelmRelease> {
    signal?.throwIfAborted();
    const store = this.store(c);
    const prev = await store.latest(c.release);
    const version = (prev?.version ?? 0) + 1;
    let manifest: string;
    let chart: HelmRelease['chart'];
    if (from) {
      manifest = from.manifest;
      chart = from.chart;
    } else {
      this.progress(`rendering ${c.release} revision ${version} with helm template`);
      const [rendered, loaded] = await Promise.all([
        renderChart({ chartDir: c.chartDir, release: c.release, namespace: c.namespace, values: config }),
        loadChart(c.chartDir),
      ]);
      manifest = rendered.manifest;
      chart = {
        metadata: loaded.metadata,
        lock: null,
        templates: loaded.templates,
        values: loaded.values,
        ...(loaded.schema ? { schema: loaded.schema } : {}),
        files: loaded.files,
      };
    }
    const t = new Date().toISOString();
    const first = (await store.history(c.release))[0];
    const release: HelmRelease = {
      name: c.release,
      info: {
        first_deployed: first?.info.first_deployed ?? t,
        last_deployed: t,
        deleted: '',
        description,
        status: `pending-${kind}`,
      },
      chart,
      config,
      manifest,
      version,
      namespace: c.namespace,
    };
    signal?.throwIfAborted();
    await store.create(release);
    // Not cut short: a supervisor left starting would have no status file for `down` to find it by.
    await this.startSupervisor();
    let r: { ok: boolean; error?: string };
    try {
      signal?.throwIfAborted();
      this.progress(`applying revision ${version}`);
      r = await this.control('POST', `/apply?revision=${version}`, signal);
    } catch (err) {
      if (!signal?.aborted) throw err;
      await store.update({
        ...release,
        info: { ...release.info, status: 'failed', description: `${kind} failed: interrupted` },
      });
      throw err;
    }
    if (!r.ok) {
      await store.update({
        ...release,
        info: { ...release.info, status: 'failed', description: `${kind} failed: ${r.error ?? ''}` },
      });
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `revision ${version} failed: ${r.error ?? 'unknown error'}`,
        `release ${c.release} revision ${version}`,
      );
    }
    return store.setStatus(c.release, version, 'deployed');
  }

  /**
   * Starts the lab: renders the chart with the values (revision 1 on a new state folder), starts
   * the supervisor and waits until every pod is ready. On a folder with history and no values,
   * runs the deployed revision again; with values, makes a new revision from them.
   */
  async up(input: ValuesInput & RolloutOptions = {}): Promise<LabStatus> {
    const { signal } = input;
    await mkdir(this.paths.root, { recursive: true });
    let c = await readLabConfig(this.paths.config);
    if (!c) {
      c = newLabConfig({
        release: this.opts.release ?? 'shop',
        namespace: this.opts.namespace ?? 'default',
        chartDir: resolve(this.opts.chartDir ?? defaultChartDir),
        timeScale: this.opts.timeScale ?? 1,
      });
      await writeLabConfig(this.paths.config, c);
    }
    if (this.opts.tracing && c.tracesPort === undefined) {
      c = { ...c, tracesPort: await freePort() };
      await writeLabConfig(this.paths.config, c);
    }
    if (this.opts.monitoring && !c.monitoring) {
      c = { ...c, monitoring: true };
      await writeLabConfig(this.paths.config, c);
    }
    if (this.liveStatus())
      throw new HindsightError(
        'HINDSIGHT_LAB',
        'the lab is already running: use `hindsight lab upgrade`',
        this.paths.root,
      );
    const user = await this.readValues(input);
    const history = await this.store(c).history(c.release);
    const deployed = history.filter((r) => r.info.status === 'deployed').at(-1);
    const given =
      (input.valueFiles?.length ?? 0) + (input.set?.length ?? 0) + Object.keys(input.values ?? {}).length > 0;
    if (deployed && !given) {
      signal?.throwIfAborted();
      await this.startSupervisor();
      signal?.throwIfAborted();
      this.progress(`starting revision ${deployed.version} again`);
      const r = await this.control<{ ok: boolean; error?: string }>(
        'POST',
        `/apply?revision=${deployed.version}`,
        signal,
      );
      if (!r.ok)
        throw new HindsightError(
          'HINDSIGHT_LAB',
          `revision ${deployed.version} failed: ${r.error ?? ''}`,
          `release ${c.release}`,
        );
    } else {
      const config = mergeValues(this.labValues(c), user);
      await this.deploy(
        c,
        history.length ? 'upgrade' : 'install',
        config,
        history.length ? 'Upgrade complete' : 'Install complete',
        undefined,
        signal,
      );
    }
    return this.status();
  }

  /**
   * Values the lab supplies: what the chart would otherwise generate at random on every render, and
   * the endpoint the shop exports its spans to.
   */
  private labValues(c: LabConfig): Values {
    return {
      shop: {
        sessionSecret: c.secrets.sessionSecret,
        // The shop's spans go to the lab's own receiver (see LabStatus.tracesUrl).
        ...(c.tracesPort !== undefined ? { otel: { endpoint: `http://127.0.0.1:${c.tracesPort}` } } : {}),
      },
      postgresql: { auth: { password: c.secrets.postgresPassword } },
    };
  }

  /**
   * Makes the next revision and rolls the processes to it. Values are merged onto the deployed
   * revision's (as `helm upgrade --reuse-values`), so faults and fixes accumulate as a team's
   * upgrades do; `resetValues` starts again from the chart's defaults.
   */
  async upgrade(input: ValuesInput & RolloutOptions & { resetValues?: boolean } = {}): Promise<HelmRelease> {
    const c = await this.config();
    const store = this.store(c);
    const deployed = (await store.history(c.release)).filter((r) => r.info.status === 'deployed').at(-1);
    const base = input.resetValues || !deployed ? this.labValues(c) : (deployed.config ?? {});
    const config = mergeValues(base, await this.readValues(input));
    return this.deploy(c, 'upgrade', config, 'Upgrade complete', undefined, input.signal);
  }

  /** Rolls back to `revision` (default: the one before the latest) as a new revision, like `helm rollback`. */
  async rollback(revision?: number, options: RolloutOptions = {}): Promise<HelmRelease> {
    const c = await this.config();
    const history = await this.store(c).history(c.release);
    const latest = history.at(-1);
    const target = revision ?? (latest ? latest.version - 1 : 0);
    const from = history.find((r) => r.version === target);
    if (!from)
      throw new HindsightError(
        'HINDSIGHT_LAB',
        `release ${c.release} has no revision ${target}`,
        this.paths.releases,
      );
    return this.deploy(c, 'rollback', from.config ?? {}, `Rollback to ${target}`, from, options.signal);
  }

  /** Every revision, decoded, oldest first. */
  async releases(): Promise<HelmRelease[]> {
    const c = await this.config();
    return this.store(c).history(c.release);
  }

  /** `helm history`: one line per revision. */
  async history(): Promise<HistoryEntry[]> {
    return historyEntries(await this.releases());
  }

  /** Processes, ports, revision and health; `running` false when the supervisor is down. */
  async status(): Promise<LabStatus> {
    const c = await this.config();
    const base = {
      dir: this.paths.root,
      release: c.release,
      namespace: c.namespace,
      kubeconfig: this.paths.kubeconfig,
    };
    const live = this.liveStatus();
    if (!live) {
      const latest = (await this.store(c).history(c.release))
        .filter((r) => r.info.status === 'deployed')
        .at(-1);
      return { ...base, running: false, revision: latest?.version ?? 0, pods: [], services: [] };
    }
    const s = await this.control<LabStatus>('GET', '/status');
    return { ...s, ...base, running: true };
  }

  /**
   * Drives user flows through the lab's nginx (see {@link runTraffic}); the per-second ground truth
   * goes to `out` (default: traffic/TIMESTAMP.jsonl in the state folder) and the summary beside it.
   */
  async traffic(o: Omit<TrafficOptions, 'baseUrl' | 'out'> & { out?: string }): Promise<TrafficSummary> {
    const s = await this.status();
    if (!s.running || !s.nginxUrl)
      throw new HindsightError(
        'HINDSIGHT_LAB',
        'the lab is not running: run `hindsight lab up`',
        this.paths.root,
      );
    const out = o.out ?? join(this.paths.traffic, `${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
    return runTraffic({ ...o, baseUrl: s.nginxUrl, out });
  }

  /**
   * Stops every process the lab started, by pid: asks the supervisor to stop its pods (each with its
   * stop signal and grace period), then kills by process group whatever pids.json still lists.
   * Keeps the state folder unless `purge`.
   */
  async down(options: { purge?: boolean } = {}): Promise<{ stopped: boolean; killed: number }> {
    let stopped = false;
    const live = this.liveStatus();
    if (live) {
      try {
        await this.control('POST', '/shutdown');
        stopped = true;
      } catch {
        stopped = false;
      }
      for (let i = 0; i < 200 && alive(live.supervisorPid); i++) await sleep(50);
    }
    let killed = 0;
    let pids: { supervisor?: number; processes?: { pid: number; command: string }[] } = {};
    try {
      pids = JSON.parse(readFileSync(this.paths.pids, 'utf8')) as typeof pids;
    } catch {
      pids = {};
    }
    const victims = [...(pids.processes ?? [])];
    if (pids.supervisor) victims.push({ pid: pids.supervisor, command: process.execPath });
    for (const p of victims) {
      if (!alive(p.pid)) continue;
      // Only a pid that still runs the program the lab started: a recycled pid is someone else's.
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (p.command && !cmdline.includes(p.command.split('/').at(-1)!)) continue;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          continue;
        }
      }
      killed++;
    }
    for (let i = 0; i < 100 && victims.some((p) => alive(p.pid)); i++) await sleep(50);
    await rm(this.paths.pids, { force: true });
    // The CPU cgroups a supervisor that did not shut down cleanly left behind.
    removeLabCgroups(this.paths.root);
    if (options.purge) {
      // Data kept outside the folder (postgres as root, see programs/postgres.ts) goes with it.
      for (const target of await linkedOutside(this.paths.volumes))
        await rm(dirname(target), { recursive: true, force: true });
      await rm(this.paths.root, { recursive: true, force: true });
    } else if (existsSync(this.paths.status)) await rm(this.paths.status, { force: true });
    return { stopped, killed };
  }
}

async function linkedOutside(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    let inner: string[] = [];
    try {
      inner = await readdir(join(dir, e));
    } catch {
      continue;
    }
    for (const f of inner) {
      try {
        const target = await readlink(join(dir, e, f));
        if (target.startsWith('/var/tmp/hindsight-lab-')) out.push(target);
      } catch {
        /* not a link */
      }
    }
  }
  return out;
}
