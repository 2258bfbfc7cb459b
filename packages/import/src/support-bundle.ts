import { createReadStream } from 'node:fs';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  BundleWriter,
  HindsightError,
  decodeRelease,
  diffValues,
  errorMessage,
  isArchivePath,
  unpackBundle,
  type BundleEvent,
  type Change,
  type HelmRelease,
  type Pod,
  type Warning,
} from '@hindsight/core';
import { importWarning } from './csv.js';
import type { ImportResult } from './rca-dataset.js';
import { findLineTime, parseTimeCell } from './time.js';

/** Options for {@link importSupportBundle}. */
export interface SupportBundleOptions {
  /** Write into a folder that already holds files. */
  overwrite?: boolean;
  signal?: AbortSignal;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
}

/* The parts of Kubernetes objects read here, as the API returns them (all optional: bundles differ). */
interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  ownerReferences?: Array<{ kind?: string; name?: string }> | null;
  creationTimestamp?: string | null;
}
interface Terminated {
  reason?: string;
  exitCode?: number;
  startedAt?: string | null;
  finishedAt?: string | null;
}
interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { running?: { startedAt?: string | null }; terminated?: Terminated; waiting?: { reason?: string } };
  lastState?: { terminated?: Terminated };
}
interface K8sPod {
  metadata?: ObjectMeta;
  spec?: { nodeName?: string; containers?: Array<{ name: string; image?: string }> };
  status?: { phase?: string; startTime?: string | null; containerStatuses?: ContainerStatus[] | null };
}
interface K8sEvent {
  metadata?: ObjectMeta;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number | null;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { lastObservedTime?: string } | null;
}
interface K8sWorkload {
  metadata?: ObjectMeta;
  spec?: { replicas?: number; template?: { metadata?: ObjectMeta; spec?: Record<string, unknown> } };
  status?: { replicas?: number; readyReplicas?: number };
}

// Labels that name an application, most specific first (kubernetes.io/docs/concepts/overview/
// working-with-objects/common-labels; `k8s-app` is what kube-system add-ons such as CoreDNS use).
const COMPONENT_LABELS = ['app.kubernetes.io/name', 'app', 'k8s-app', 'name', 'app.kubernetes.io/instance'];
/** The namespace given to logs of troubleshoot's run collectors, which name no namespace. */
export const COLLECTOR_NAMESPACE = 'troubleshoot-collectors';
const RELEASE_RECORD = /^sh\.helm\.release\.v1\.(.+)\.v(\d+)$/;
// JSON files bigger than this are not searched for Helm records (none of the kinds that hold them
// comes near it; the largest file of the two sample bundles is 100 KB).
const MAX_JSON_SCAN = 32 * 1024 * 1024;

function time(s: string | null | undefined): number {
  return s ? parseTimeCell(s) : Number.NaN;
}

function items<T>(list: unknown): T[] {
  if (Array.isArray(list)) return list as T[];
  const it = (list as { items?: unknown } | null)?.items;
  return Array.isArray(it) ? (it as T[]) : [];
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** The component of a pod: an application label, else its workload, else its name. */
function componentOf(meta: ObjectMeta, workload: string | undefined): string {
  for (const l of COMPONENT_LABELS) {
    const v = meta.labels?.[l];
    if (v) return v;
  }
  return workload ?? meta.name ?? 'unknown';
}

function workloadOf(meta: ObjectMeta): string | undefined {
  const owner = meta.ownerReferences?.[0];
  if (!owner?.name) return undefined;
  const hash = meta.labels?.['pod-template-hash'];
  // A ReplicaSet is named `<deployment>-<pod-template-hash>`: the workload is the Deployment.
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`))
    return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}

/** Finds the folder that holds `cluster-resources/` (the top folder's name differs by version). */
async function findRoot(dir: string): Promise<string> {
  const here = await readdir(dir).catch(() => [] as string[]);
  if (here.includes('cluster-resources')) return dir;
  for (const name of here) {
    const sub = path.join(dir, name);
    if ((await stat(sub)).isDirectory() && (await readdir(sub)).includes('cluster-resources')) return sub;
  }
  throw new HindsightError(
    'HINDSIGHT_IMPORT',
    'not a troubleshoot support bundle: no cluster-resources/ folder',
    dir,
  );
}

/** A container log file of the support bundle and the times that bound its instance. */
interface LogFile {
  file: string;
  rel: string;
  namespace: string;
  pod: string;
  container: string;
  previous: boolean;
  /** When the instance started (running.startedAt, or lastState.terminated.startedAt for previous). */
  start: number;
}

/**
 * Streams a log with the time of each line: its own timestamp where it has one, else the time of
 * the line before it (a stack trace or a multi-line message belongs to the line that began it),
 * else, before any timestamped line, the time the container instance started.
 */
async function* timedLines(
  log: LogFile,
  fallback: number,
): AsyncGenerator<{ time: number; text: string; derived: boolean }> {
  let last = Number.isNaN(log.start) ? fallback : log.start;
  const rl = createInterface({
    input: createReadStream(log.file, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  for await (const raw of rl) {
    if (raw.trim().length === 0) continue;
    const found = findLineTime(raw, last);
    if (Number.isNaN(found.time)) {
      yield { time: last, text: raw, derived: true };
    } else {
      last = found.time;
      yield { time: found.time, text: found.text, derived: false };
    }
  }
}

function normalizeTemplate(t: K8sWorkload['spec']): unknown {
  const spec = { ...(t?.template?.spec ?? {}) } as Record<string, unknown>;
  // Containers are a list keyed by name: diff them as `containers.<name>.image`, not as one blob.
  for (const key of ['containers', 'initContainers']) {
    const list = spec[key];
    if (Array.isArray(list)) {
      spec[key] = Object.fromEntries(list.map((c: { name?: string }) => [c.name ?? '?', c]));
    }
  }
  const labels = { ...(t?.template?.metadata?.labels ?? {}) };
  delete labels['pod-template-hash'];
  return { labels, annotations: t?.template?.metadata?.annotations ?? {}, spec };
}

/** Rollouts: each Deployment revision after the first, from its ReplicaSets' pod templates. */
function rollouts(replicaSets: K8sWorkload[]): Change[] {
  const byDeployment = new Map<string, Array<{ rev: number; rs: K8sWorkload }>>();
  for (const rs of replicaSets) {
    const m = rs.metadata ?? {};
    const owner = m.ownerReferences?.find((o) => o.kind === 'Deployment');
    const rev = Number(m.annotations?.['deployment.kubernetes.io/revision']);
    if (!owner?.name || !Number.isInteger(rev)) continue;
    const key = `${m.namespace ?? ''}/${owner.name}`;
    const list = byDeployment.get(key) ?? [];
    list.push({ rev, rs });
    byDeployment.set(key, list);
  }
  const out: Change[] = [];
  for (const [key, list] of byDeployment) {
    list.sort((a, b) => a.rev - b.rev);
    const [namespace, name] = key.split('/') as [string, string];
    for (let i = 1; i < list.length; i += 1) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      const t = time(cur.rs.metadata?.creationTimestamp);
      if (Number.isNaN(t)) continue;
      const diff = diffValues(normalizeTemplate(prev.rs.spec), normalizeTemplate(cur.rs.spec));
      const images = diff.some((d) => /\.image$/.test(d.path));
      out.push({
        id: `deployment/${namespace}/${name}/${cur.rev}`,
        time: new Date(t).toISOString(),
        kind: images ? 'image' : 'deployment',
        target: `deployment/${name}`,
        namespace,
        fromRevision: prev.rev,
        toRevision: cur.rev,
        components: [name],
        message: `rollout of deployment ${name}: revision ${prev.rev} -> ${cur.rev}`,
        diff,
      });
    }
  }
  return out;
}

/** Helm release records (Secrets or ConfigMaps named sh.helm.release.v1.NAME.vREV) anywhere in JSON. */
function findReleaseRecords(
  value: unknown,
  where: string,
  out: Map<string, { data: string; where: string }>,
): void {
  if (Array.isArray(value)) {
    for (const v of value) findReleaseRecords(v, where, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  const meta = o['metadata'] as ObjectMeta | undefined;
  const data = o['data'] as Record<string, unknown> | undefined;
  if (meta?.name && RELEASE_RECORD.test(meta.name) && typeof data?.['release'] === 'string') {
    out.set(`${meta.namespace ?? ''}/${meta.name}`, {
      data: data['release'],
      where: `${where} ${meta.name}`,
    });
    return;
  }
  // troubleshoot's `secrets` collector: {namespace, name, key, value} (value only with includeValue).
  if (
    typeof o['name'] === 'string' &&
    RELEASE_RECORD.test(o['name']) &&
    o['key'] === 'release' &&
    typeof o['value'] === 'string'
  ) {
    out.set(`${String(o['namespace'] ?? '')}/${o['name']}`, {
      data: o['value'],
      where: `${where} ${o['name']}`,
    });
    return;
  }
  for (const v of Object.values(o)) if (typeof v === 'object') findReleaseRecords(v, where, out);
}

function helmChanges(releases: HelmRelease[]): Change[] {
  const groups = new Map<string, HelmRelease[]>();
  for (const r of releases) {
    const key = `${r.namespace}/${r.name}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: Change[] = [];
  for (const list of groups.values()) {
    list.sort((a, b) => a.version - b.version);
    for (let i = 1; i < list.length; i += 1) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      const t = time(cur.info.last_deployed ?? cur.info.first_deployed);
      if (Number.isNaN(t)) continue;
      const pc = prev.chart.metadata;
      const cc = cur.chart.metadata;
      const chartNote =
        pc.version !== cc.version ? `; chart ${pc.name}-${pc.version} -> ${cc.name}-${cc.version}` : '';
      out.push({
        id: `helm/${cur.namespace}/${cur.name}/${cur.version}`,
        time: new Date(t).toISOString(),
        kind: 'helm',
        target: `release/${cur.name}`,
        namespace: cur.namespace,
        release: cur.name,
        fromRevision: prev.version,
        toRevision: cur.version,
        message: `${cur.info.description ?? 'upgrade'}${chartNote}`,
        diff: diffValues(prev.config ?? {}, cur.config ?? {}),
      });
    }
  }
  return out;
}

/**
 * Imports a Replicated troubleshoot support bundle (a .tar.gz or its unpacked folder) into a
 * hindsight bundle: pods with their components, restarts and last terminations; events (and a
 * `ContainerTerminated` event per container's last termination); current and previous container
 * logs, each line timed by its own timestamp where it has one (lines without are timed from the
 * line before, or the container's start, and counted in a warning); Deployment rollouts from
 * ReplicaSet history and Helm release upgrades (values diffs) as changes. The window is the data's.
 */
export async function importSupportBundle(
  input: string,
  out: string,
  options: SupportBundleOptions = {},
): Promise<ImportResult> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new HindsightError('HINDSIGHT_USAGE', 'support bundle not found', input);
  let temp: string | undefined;
  if (info.isFile()) {
    if (!isArchivePath(input))
      throw new HindsightError('HINDSIGHT_USAGE', 'a support bundle is a .tar.gz file or its folder', input);
    // Symlinks in the archive (all-logs/, run-*/) are unpacked as links and never followed:
    // they point at files the bundle also holds as regular files.
    temp = await unpackBundle(input).catch((err: unknown) => {
      // core's advice (re-run collect) is for hindsight's own bundles.
      if (!(err instanceof HindsightError) || err.code !== 'HINDSIGHT_BUNDLE_ARCHIVE') throw err;
      throw new HindsightError(
        'HINDSIGHT_BUNDLE_ARCHIVE',
        `cannot unpack the support bundle, it may be truncated (${errorMessage(err.cause ?? err)}); copy or download it again`,
        input,
        { cause: err },
      );
    });
  }
  try {
    return await importFromFolder(await findRoot(temp ?? input), out, options);
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

async function importFromFolder(
  root: string,
  out: string,
  options: SupportBundleOptions,
): Promise<ImportResult> {
  const warnings: Warning[] = [];
  const warn = (rel: string, message: string, line?: number): void => {
    warnings.push(importWarning(rel, line, message));
  };
  const cr = path.join(root, 'cluster-resources');
  const rel = (f: string): string => path.relative(root, f);
  const jsonList = async <T>(sub: string): Promise<T[]> => {
    const all: T[] = [];
    const dir = path.join(cr, sub);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
    for (const n of names) {
      try {
        all.push(...items<T>(await readJson(path.join(dir, n))));
      } catch (err) {
        warn(rel(path.join(dir, n)), `not valid JSON, skipped: ${errorMessage(err)}`);
      }
    }
    return all;
  };

  // Pods, and what their containers' instances tell about time.
  const k8sPods = await jsonList<K8sPod>('pods');
  const pods: Pod[] = [];
  const podComponent = new Map<string, string>();
  const starts = new Map<string, { current: number; previous: number }>();
  const transitions: BundleEvent[] = [];
  for (const p of k8sPods) {
    const meta = p.metadata ?? {};
    if (!meta.name) continue;
    const namespace = meta.namespace ?? 'default';
    const workload = workloadOf(meta);
    const component = componentOf(meta, workload);
    podComponent.set(`${namespace}/${meta.name}`, component);
    const images = new Map((p.spec?.containers ?? []).map((c) => [c.name, c.image]));
    const statuses = p.status?.containerStatuses ?? [];
    const containers: Pod['containers'] = statuses.map((s) => {
      const lt = s.lastState?.terminated;
      const image = s.image ?? images.get(s.name);
      starts.set(`${namespace}/${meta.name}/${s.name}`, {
        current: time(s.state?.running?.startedAt ?? s.state?.terminated?.startedAt),
        previous: time(lt?.startedAt),
      });
      if (lt && !Number.isNaN(time(lt.finishedAt))) {
        transitions.push({
          time: new Date(time(lt.finishedAt)).toISOString(),
          object: { kind: 'Pod', name: meta.name as string, namespace },
          reason: 'ContainerTerminated',
          message: `container ${s.name} terminated: ${lt.reason ?? 'unknown reason'}, exit code ${lt.exitCode ?? '?'}; ${s.restartCount ?? 0} restarts in all`,
          type: (lt.exitCode ?? 0) === 0 ? 'Normal' : 'Warning',
          count: 1,
          component,
        });
      }
      return {
        name: s.name,
        ...(image ? { image } : {}),
        ...(s.ready === undefined ? {} : { ready: s.ready }),
        restartCount: s.restartCount ?? 0,
        ...(lt
          ? {
              lastTermination: {
                ...(lt.reason ? { reason: lt.reason } : {}),
                ...(lt.exitCode === undefined ? {} : { exitCode: lt.exitCode }),
                ...(lt.finishedAt ? { finishedAt: lt.finishedAt } : {}),
              },
            }
          : {}),
      };
    });
    for (const c of p.spec?.containers ?? []) {
      if (!containers.some((x) => x.name === c.name))
        containers.push({ name: c.name, ...(c.image ? { image: c.image } : {}), restartCount: 0 });
    }
    pods.push({
      namespace,
      name: meta.name,
      component,
      ...(workload ? { workload } : {}),
      labels: meta.labels ?? {},
      ...(p.status?.phase ? { phase: p.status.phase } : {}),
      ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
      ...(p.status?.startTime ? { startTime: p.status.startTime } : {}),
      containers,
    });
  }

  // Events: the per-namespace lists, and the event files of run collectors, once each.
  const events: BundleEvent[] = [];
  const seen = new Set<string>();
  const eventFiles = [
    ...(await listFiles(path.join(cr, 'events'))),
    ...(await listFiles(root)).filter((f) => /-events\.json$/.test(f) && !f.startsWith(cr)),
  ];
  for (const f of eventFiles) {
    let list: K8sEvent[];
    try {
      list = items<K8sEvent>(await readJson(f));
    } catch (err) {
      warn(rel(f), `not valid JSON, skipped: ${errorMessage(err)}`);
      continue;
    }
    list.forEach((e, i) => {
      const obj = e.involvedObject ?? {};
      const t = [
        e.lastTimestamp,
        e.series?.lastObservedTime,
        e.eventTime,
        e.firstTimestamp,
        e.metadata?.creationTimestamp,
      ]
        .map(time)
        .find((x) => !Number.isNaN(x));
      const key = e.metadata?.uid ?? `${obj.kind}/${obj.namespace}/${obj.name}/${e.reason}/${t}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (t === undefined) {
        warn(rel(f), `event ${i} (${e.reason ?? '?'} on ${obj.name ?? '?'}) has no time; skipped`);
        return;
      }
      const namespace = obj.namespace ?? e.metadata?.namespace;
      const component = obj.kind === 'Pod' ? podComponent.get(`${namespace}/${obj.name}`) : undefined;
      events.push({
        time: new Date(t).toISOString(),
        object: { kind: obj.kind ?? 'Unknown', name: obj.name ?? '', ...(namespace ? { namespace } : {}) },
        reason: e.reason ?? '',
        message: e.message ?? '',
        type: e.type === 'Warning' ? 'Warning' : 'Normal',
        count: Math.max(1, e.count ?? 1),
        ...(component ? { component } : {}),
      });
    });
  }
  events.push(...transitions);
  events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));

  // Changes: Deployment rollouts and Helm upgrades.
  const deployments = await jsonList<K8sWorkload>('deployments');
  const changes = rollouts(await jsonList<K8sWorkload>('replicasets'));
  const records = new Map<string, { data: string; where: string }>();
  for (const f of await listFiles(root)) {
    if (!f.endsWith('.json') || f.includes(`${path.sep}logs${path.sep}`)) continue;
    if ((await stat(f)).size > MAX_JSON_SCAN) continue;
    const text = await readFile(f, 'utf8');
    if (!text.includes('sh.helm.release.v1.')) continue;
    try {
      findReleaseRecords(JSON.parse(text), rel(f), records);
    } catch (err) {
      warn(rel(f), `not valid JSON, skipped: ${errorMessage(err)}`);
    }
  }
  const releases: HelmRelease[] = [];
  for (const r of records.values()) {
    try {
      releases.push(decodeRelease(r.data, r.where));
    } catch (err) {
      warnings.push({
        stage: 'import',
        name: r.where,
        code: err instanceof HindsightError ? err.code : 'HINDSIGHT_RELEASE_RECORD',
        message: errorMessage(err),
        where: r.where,
      });
    }
  }
  changes.push(...helmChanges(releases));
  changes.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));

  // Logs: cluster-resources/pods/logs/<ns>/<pod>/<container>[-previous].log.
  const logsDir = path.join(cr, 'pods', 'logs');
  const logs: LogFile[] = [];
  for (const f of await listFiles(logsDir)) {
    const parts = path.relative(logsDir, f).split(path.sep);
    if (parts.length !== 3 || !f.endsWith('.log')) continue;
    const [namespace, pod, fileName] = parts as [string, string, string];
    const stem = fileName.slice(0, -'.log'.length);
    const previous = stem.endsWith('-previous') && !starts.has(`${namespace}/${pod}/${stem}`);
    const container = previous ? stem.slice(0, -'-previous'.length) : stem;
    const s = starts.get(`${namespace}/${pod}/${container}`);
    logs.push({
      file: f,
      rel: rel(f),
      namespace,
      pod,
      container,
      previous,
      start: (previous ? s?.previous : s?.current) ?? Number.NaN,
    });
  }

  // Run collectors (runPod, runDaemonSet) write `<collector>/<node or pod>.log` outside that tree;
  // their regular files are logs too, filed under a namespace named for where they came from.
  for (const f of await listFiles(root)) {
    const parts = path.relative(root, f).split(path.sep);
    if (parts.length !== 2 || parts[0] === 'cluster-resources' || !f.endsWith('.log')) continue;
    const [collector, fileName] = parts as [string, string];
    logs.push({
      file: f,
      rel: rel(f),
      namespace: COLLECTOR_NAMESPACE,
      pod: collector,
      container: fileName.slice(0, -'.log'.length),
      previous: false,
      start: Number.NaN,
    });
  }

  // The window is the data's own extent; lines without a time of their own need a fallback first.
  const known = [...events.map((e) => Date.parse(e.time)), ...changes.map((c) => Date.parse(c.time))];
  for (const l of logs) if (!Number.isNaN(l.start)) known.push(l.start);
  const fallback = known.length > 0 ? Math.min(...known) : Date.now();
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const t of [...events.map((e) => Date.parse(e.time)), ...changes.map((c) => Date.parse(c.time))]) {
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  for (const l of logs) {
    for await (const line of timedLines(l, fallback)) {
      lo = Math.min(lo, line.time);
      hi = Math.max(hi, line.time);
    }
  }
  if (!Number.isFinite(lo)) lo = hi = fallback;

  const writer = await BundleWriter.create(out, {
    window: { from: new Date(lo), to: new Date(hi) },
    overwrite: options.overwrite ?? false,
    ...(options.redactPatterns ? { redactPatterns: options.redactPatterns } : {}),
  });
  for (const p of pods) await writer.addPod(p);
  for (const e of events) await writer.addEvent(e);
  for (const c of changes) await writer.addChange(c);
  let lines = 0;
  let derivedTotal = 0;
  for (const l of logs) {
    if (options.signal?.aborted) break;
    const sink = await writer.openLog({
      namespace: l.namespace,
      pod: l.pod,
      container: l.container,
      previous: l.previous,
    });
    let derived = 0;
    for await (const line of timedLines(l, fallback)) {
      await sink.write(line.time, line.text);
      if (line.derived) derived += 1;
    }
    lines += sink.lines;
    derivedTotal += derived;
    if (derived > 0) {
      warn(
        l.rel,
        `${derived} of ${sink.lines} lines carry no timestamp; each was given the time of the line before it` +
          ` (or the container's start${Number.isNaN(l.start) ? ', unknown here, so the earliest time in the bundle' : ''})`,
      );
    }
  }
  // Each Deployment's desired and ready replicas at collection, as kube-state-metrics names them,
  // so that a reader of the bundle finds them where a cluster's metrics would put them.
  for (const d of deployments) {
    const m = d.metadata ?? {};
    if (!m.name) continue;
    const labels = { source: 'support-bundle', namespace: m.namespace ?? '', deployment: m.name };
    const want = d.spec?.replicas ?? 0;
    const ready = d.status?.readyReplicas ?? 0;
    await writer.addSeries({
      name: 'kube_deployment_spec_replicas',
      labels,
      kind: 'gauge',
      points: [[hi, want]],
    });
    await writer.addSeries({
      name: 'kube_deployment_status_replicas_ready',
      labels,
      kind: 'gauge',
      points: [[hi, ready]],
    });
    if (ready < want)
      writer.addNote(`deployment ${m.namespace}/${m.name}: ${ready} of ${want} replicas ready at collection`);
  }
  writer.recordSource({ name: 'support-bundle-pods', status: 'ok', items: pods.length });
  writer.recordSource({ name: 'support-bundle-events', status: 'ok', items: events.length });
  writer.recordSource({ name: 'support-bundle-logs', status: 'ok', items: logs.length });
  writer.recordSource({ name: 'support-bundle-deployments', status: 'ok', items: deployments.length });
  writer.recordSource({
    name: 'support-bundle-helm',
    status: releases.length < records.size ? 'partial' : 'ok',
    items: releases.length,
  });
  writer.addNote(`imported from a troubleshoot support bundle (${path.basename(root)})`);
  const manifest = await writer.finish();
  return {
    bundle: out,
    manifest,
    warnings,
    counts: {
      pods: pods.length,
      events: events.length,
      changes: changes.length,
      logFiles: logs.length,
      logLines: lines,
      linesWithoutTimestamp: derivedTotal,
      helmReleases: releases.length,
    },
  };
}
