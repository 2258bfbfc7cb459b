import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { collect, sources, type CollectResult, type ProgressEvent } from '@hindsight/collect';
import { HindsightError, seededRandom, type Manifest } from '@hindsight/core';
import type { Report } from '@hindsight/investigate';
import type { Lab } from '../lab.js';
import type { TrafficSecond, TrafficSummary } from '../traffic.js';
import type { Scenario } from './scenario.js';

/** One upgrade the runner made during an incident. */
export interface ScenarioChange {
  role: 'fault' | 'decoy';
  set: string[];
  /** The Helm revision it made. */
  revision: number;
  /** When the upgrade was started and when it was rolled out (RFC 3339). */
  startedAt: string;
  doneAt: string;
  /** Why the rollout failed, when it did (the revision is then `failed`, as Helm records it). */
  failed?: string;
}

/** What {@link runIncident} measured. */
export interface IncidentResult {
  /** From just before the first change (after `lab up`) to the end of traffic. */
  from: Date;
  to: Date;
  truth: TrafficSummary;
  changes: ScenarioChange[];
  /** The first second with a lost session, from the ground truth. */
  firstLostAt?: string;
  /** Per-second ground truth, as traffic reported it. */
  seconds: TrafficSecond[];
  /** Redis and PostgreSQL sampled during the incident, when `samples` was given. */
  samples?: CollectResult;
}

/** Timing of an incident. Offsets are measured from the start of traffic. */
export interface IncidentOptions {
  /** Traffic before the first change (ms). */
  warmMs: number;
  /** Mean gap between two changes (ms); with `seed` each gap is drawn in [0.5, 1.5] x this. */
  spacingMs: number;
  /** Traffic after the last change is rolled out (ms). */
  tailMs: number;
  /** Seed of the gaps; without it every gap is `spacingMs`. */
  seed?: number;
  users?: number;
  /** The per-second ground truth file (default: the lab's traffic folder). */
  out?: string;
  /** A folder where Redis and PostgreSQL samples are written during the incident ({@link sampleLab}). */
  samples?: string;
  signal?: AbortSignal;
  /** Told of each phase ("decoy revision 2: shop.logLevel=debug"). */
  onPhase?: (message: string) => void;
  onSecond?: (second: TrafficSecond) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The order of the upgrades: decoys before, the fault, decoys after. */
export function changePlan(
  scenario: Scenario,
  before: number = scenario.decoysBefore ?? Math.floor(scenario.decoys.length / 2),
): Array<{ role: 'fault' | 'decoy'; set: string[] }> {
  return [
    ...scenario.decoys.slice(0, before).map((set) => ({ role: 'decoy' as const, set })),
    { role: 'fault' as const, set: scenario.fault },
    ...scenario.decoys.slice(before).map((set) => ({ role: 'decoy' as const, set })),
  ];
}

/**
 * Drives traffic through a running lab while it makes the scenario's upgrades (decoys before, the
 * fault, decoys after), then lets traffic run on for `tailMs`. Upgrades run one after another, as
 * a team's deploys do; a gap is counted from the end of the previous rollout.
 */
export async function runIncident(lab: Lab, scenario: Scenario, o: IncidentOptions): Promise<IncidentResult> {
  const rand = o.seed === undefined ? () => 0.5 : seededRandom(o.seed);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const seconds: TrafficSecond[] = [];
  const sampling = o.samples ? await sampleLab(lab, { output: o.samples }) : undefined;
  const from = new Date(Date.now() - 1000);
  const traffic = lab.traffic({
    users: scenario.users ?? 20,
    // Bounded by the lab at one hour; the run stops it once the tail has passed.
    durationMs: 3_600_000,
    signal: stop.signal,
    ...(o.out ? { out: o.out } : {}),
    onSecond: (s) => {
      seconds.push(s);
      o.onSecond?.(s);
    },
  });
  const changes: ScenarioChange[] = [];
  try {
    await sleep(o.warmMs, stop.signal);
    // With a seed and no fixed split, how many decoys go first is drawn too, so the fault is not
    // always the same revision (a ranker could otherwise score well by position alone).
    const before =
      scenario.decoysBefore ??
      (o.seed === undefined
        ? Math.floor(scenario.decoys.length / 2)
        : Math.floor(rand() * (scenario.decoys.length + 1)));
    for (const step of changePlan(scenario, before)) {
      if (stop.signal.aborted) break;
      const startedAt = new Date().toISOString();
      o.onPhase?.(`${step.role === 'fault' ? 'the fault' : 'a decoy'}: ${step.set.join(' ')}`);
      let revision: number;
      let failed: string | undefined;
      try {
        revision = (await lab.upgrade({ set: step.set, signal: stop.signal })).version;
      } catch (err) {
        // Interrupted mid-rollout: the incident ends here, as it does between two upgrades.
        if (stop.signal.aborted) break;
        // A failed rollout is part of some faults (a master OOMKilled at start): Helm keeps the
        // revision as `failed` and the pods run on, so the incident goes on too.
        if (!(err instanceof HindsightError)) throw err;
        failed = err.message;
        o.onPhase?.(`the upgrade failed: ${err.message}`);
        revision = (await lab.history()).at(-1)?.revision ?? 0;
      }
      changes.push({
        role: step.role,
        set: step.set,
        revision,
        startedAt,
        doneAt: new Date().toISOString(),
        ...(failed ? { failed } : {}),
      });
      await sleep(o.spacingMs * (o.seed === undefined ? 1 : 0.5 + rand()), stop.signal);
    }
    await sleep(Math.max(0, o.tailMs - o.spacingMs), stop.signal);
  } catch (err) {
    stop.abort();
    await Promise.allSettled([traffic, sampling?.stop()]);
    throw err;
  } finally {
    stop.abort();
    o.signal?.removeEventListener('abort', onAbort);
  }
  const truth = await traffic;
  const samples = await sampling?.stop();
  return {
    ...(samples ? { samples } : {}),
    from,
    to: new Date(),
    truth,
    changes,
    seconds,
    ...(firstLost(seconds) ? { firstLostAt: firstLost(seconds) } : {}),
  };
}

function firstLost(seconds: TrafficSecond[]): string | undefined {
  return seconds.find((s) => s.sessionsLost > 0 || s.checkoutsStuck > 0)?.t;
}

/** Traffic alone for `durationMs`: the ground truth after a fix. */
export async function measureTraffic(
  lab: Lab,
  o: {
    durationMs: number;
    users?: number;
    /** The per-second ground truth file (default: the lab's traffic folder). */
    out?: string;
    signal?: AbortSignal;
    onSecond?: (s: TrafficSecond) => void;
  },
): Promise<TrafficSummary> {
  return lab.traffic({
    users: o.users ?? 20,
    durationMs: o.durationMs,
    ...(o.out ? { out: o.out } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onSecond ? { onSecond: o.onSecond } : {}),
  });
}

interface LabEndpoints {
  kubeconfig: string;
  namespace: string;
  redis: string;
  postgres: string;
  /** The lab's trace receiver, which answers Tempo's query API. */
  tempo?: string;
  /** The lab's Prometheus and its scrape interval (s), when it runs. */
  prometheus?: { url: string; intervalSeconds: number };
}

/** The lab's kubeconfig, and its Redis master and PostgreSQL URLs with the passwords read from the release's Secret, as a user would. */
async function endpoints(lab: Lab): Promise<LabEndpoints> {
  const s = await lab.status();
  if (!s.running)
    throw new HindsightError('HINDSIGHT_LAB', 'the lab is not running: nothing to collect', s.dir);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(s.kubeconfig);
  const secret = await kc
    .makeApiClient(k8s.CoreV1Api)
    .readNamespacedSecret({ name: `${s.release}-shop`, namespace: s.namespace });
  const pgPassword = Buffer.from(secret.data?.['postgres-password'] ?? '', 'base64').toString('utf8');
  const redisPassword = Buffer.from(secret.data?.['redis-password'] ?? '', 'base64').toString('utf8');
  const port = (name: string): number => {
    const svc = s.services.find((x) => x.name === name);
    if (!svc) throw new HindsightError('HINDSIGHT_LAB', `no Service ${name} in the lab`, s.dir);
    return svc.localPort;
  };
  const auth = redisPassword ? `:${encodeURIComponent(redisPassword)}@` : '';
  return {
    kubeconfig: s.kubeconfig,
    namespace: s.namespace,
    redis: `redis://${auth}127.0.0.1:${port(`${s.release}-redis-master`)}`,
    postgres: `postgres://shop:${encodeURIComponent(pgPassword)}@127.0.0.1:${port(`${s.release}-postgresql`)}/shop`,
    ...(s.tracesUrl ? { tempo: s.tracesUrl } : {}),
    ...(s.prometheus?.url
      ? { prometheus: { url: s.prometheus.url, intervalSeconds: s.prometheus.scrapeIntervalSeconds } }
      : {}),
  };
}

/** The sources {@link sampleLab} runs: those that keep no history of their own. */
const SAMPLED = new Set(['redis', 'postgres']);

/** Redis and PostgreSQL sampled while an incident runs; {@link LabSampling.stop} ends it. */
export interface LabSampling {
  /** The bundle the samples go to. */
  output: string;
  /** Ends the sampling and resolves when the bundle is written. */
  stop(): Promise<CollectResult>;
}

/**
 * Starts sampling the lab's Redis nodes (the master and the replicas it lists, found again every
 * round) and PostgreSQL every `intervalMs` into a bundle of their own, until stopped. Why: Redis
 * and PostgreSQL keep no history, so a collection after the incident holds one sample of each;
 * a team with Prometheus would have the series, and this stands in for it. {@link collectLab}
 * merges the samples into its bundle.
 */
export async function sampleLab(
  lab: Lab,
  o: { output: string; intervalMs?: number; toolVersion?: string },
): Promise<LabSampling> {
  const e = await endpoints(lab);
  const stop = new AbortController();
  const from = new Date(Date.now() - 1000);
  const run = collect({
    output: o.output,
    overwrite: true,
    window: { from, to: new Date(from.getTime() + 3_600_000) },
    // The kubeconfig only names each Redis node's pod (shop-redis-replica-1, not 127.0.0.1:port):
    // the cluster itself is read once, after the incident, by collectLab.
    sources: sources.filter((s) => SAMPLED.has(s.name)),
    kubeconfig: e.kubeconfig,
    namespace: e.namespace,
    redis: [e.redis],
    postgres: e.postgres,
    watchMs: 3_600_000,
    intervalMs: o.intervalMs ?? 2000,
    signal: stop.signal,
    ...(o.toolVersion ? { toolVersion: o.toolVersion } : {}),
  });
  return {
    output: o.output,
    stop: async () => {
      stop.abort();
      return run;
    },
  };
}

/**
 * Collects a bundle from a running lab as a user would: its kubeconfig (pods, logs, events, Helm
 * history, the nginx access log from the nginx pod), the Redis master (replicas found from it) and
 * PostgreSQL with the password read from the release's Secret, and the shop's spans from the lab's
 * trace receiver through its Tempo API (when the lab runs one), and what the lab's Prometheus
 * scraped over the window (the shop's /metrics and the exporters beside Redis, PostgreSQL and nginx),
 * as a team with Prometheus would (every series it holds: up to 20,000). With `samples` (a bundle from {@link sampleLab}), Redis and
 * PostgreSQL come from those samples instead of one sample now; with `stores: false` collect reads
 * neither itself, and only Prometheus tells of them.
 */
export async function collectLab(
  lab: Lab,
  o: {
    output: string;
    from: Date;
    to?: Date;
    samples?: CollectResult;
    signal?: AbortSignal;
    onProgress?: (e: ProgressEvent) => void;
    toolVersion?: string;
    /** false: Redis and PostgreSQL are not read by collect (no sample now, `samples` ignored). */
    stores?: boolean;
  },
): Promise<CollectResult> {
  const e = await endpoints(lab);
  const stores = o.stores ?? true;
  const samples = stores ? o.samples : undefined;
  const result = await collect({
    output: o.output,
    overwrite: true,
    window: { from: o.from, to: o.to ?? new Date() },
    kubeconfig: e.kubeconfig,
    namespace: e.namespace,
    ...(samples || !stores ? {} : { redis: [e.redis], postgres: e.postgres }),
    ...(e.tempo ? { tempo: e.tempo } : {}),
    // At the samples' pace (2 s) or the scrapes', whichever is slower. The story's 13 pods gave 3,257
    // series over a 2-minute incident (480 Redis latency percentiles, 476 request histogram series,
    // 297 keyspace gauges...), past the default limit of 2,000, which would leave Redis out; over 9
    // minutes with rolled pods, more than 5,000, and at 5,000 the PostgreSQL family (read after
    // Redis) was left out whole. The lab's Prometheus is small: every series it holds is read.
    ...(e.prometheus
      ? {
          prometheus: e.prometheus.url,
          prometheusStep: Math.max(2, e.prometheus.intervalSeconds),
          prometheusMaxSeries: 20_000,
        }
      : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.toolVersion ? { toolVersion: o.toolVersion } : {}),
  });
  if (!samples) return result;
  const manifest = await mergeSamples(result.bundlePath, samples);
  return { ...result, manifest, warnings: [...result.warnings, ...samples.warnings] };
}

/**
 * Copies the series files of a samples bundle into a bundle and lists their sources in its
 * manifest. A source the sampling stopped on purpose (`interrupted`) with samples is `ok`: the
 * stop is the end of the watch, not a loss.
 */
async function mergeSamples(bundle: string, samples: CollectResult): Promise<Manifest> {
  const from = join(samples.bundlePath, 'series');
  await mkdir(join(bundle, 'series'), { recursive: true });
  for (const f of await readdir(from).catch(() => [] as string[]))
    await copyFile(join(from, f), join(bundle, 'series', f));
  const path = join(bundle, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  for (const s of samples.manifest.sources) {
    const stopped = s.status === 'partial' && s.error === 'interrupted' && (s.items ?? 0) > 0;
    manifest.sources.push(stopped ? { name: s.name, status: 'ok', items: s.items ?? 0 } : s);
  }
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** What {@link applyFix} did. */
export interface AppliedFix {
  /** `upgrade --set ...` (the values restored) or `rollback N`. */
  action: string;
  revision: number;
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Applies the top hypothesis' next step to the lab: when it is a Helm change whose previous values
 * are all known, those values are restored by an upgrade (later, unrelated revisions stay); when a
 * value was new in that revision (no previous value to restore), the release is rolled back to the
 * revision before it. Returns undefined when the top hypothesis is not a Helm change. Aborting
 * `signal` stops the rollout (see the lab's `RolloutOptions`).
 */
export async function applyFix(
  lab: Lab,
  report: Report,
  signal?: AbortSignal,
): Promise<AppliedFix | undefined> {
  const top = report.hypotheses[0];
  if (!top || top.cause.type !== 'change' || top.cause.kind !== 'helm') return undefined;
  const diff = top.cause.diff;
  if (diff.length > 0 && diff.every((d) => d.from !== undefined && typeof d.from !== 'object')) {
    const set = diff.map((d) => `${d.path}=${show(d.from)}`);
    const r = await lab.upgrade({ set, signal });
    return { action: `upgrade --set ${set.join(' --set ')}`, revision: r.version };
  }
  const prev = top.cause.fromRevision ?? (top.cause.revision ?? 1) - 1;
  const r = await lab.rollback(prev, { signal });
  return { action: `rollback ${prev}`, revision: r.version };
}
