import { mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  BundleWriter,
  HindsightError,
  changeSchema,
  errorMessage,
  isArchivePath,
  unpackBundle,
  type Change,
  type HelmRelease,
  type Warning,
} from '@hindsight/core';
import { importWarning } from '../csv.js';
import type { ImportResult } from '../importer.js';
import { writeReplicaSeries } from './deployments.js';
import { findRoot, jsonList, type Warn } from './files.js';
import { helmChanges, readReleases } from './helm.js';
import type { K8sPod, K8sWorkload } from './k8s.js';
import { findLogs, timedLines, type LogFile } from './logs.js';
import { readEvents } from './events.js';
import { readPods } from './pods.js';
import { checked } from './records.js';
import { rollouts } from './rollouts.js';
import { checkOutput } from '../output.js';

/** Options for {@link importSupportBundle}. */
export interface SupportBundleOptions {
  /** Write into a folder that already holds files. */
  overwrite?: boolean;
  /** Stops the import; nothing is left at the output path. */
  signal?: AbortSignal;
  /** The user's own redaction patterns (`--redact-pattern`), applied with the catalogue to every record. */
  redactPatterns?: readonly RegExp[];
}

/**
 * Imports a Replicated troubleshoot support bundle (a .tar.gz or its unpacked folder) into a
 * hindsight bundle: pods with their components, restarts and last terminations; events (and a
 * `ContainerTerminated` event per container's last termination); current and previous container
 * logs, each line timed by its own timestamp where it has one (lines without are timed from the
 * line before, or the container's start, and counted in a warning); Deployment rollouts from
 * ReplicaSet history and Helm release upgrades (values diffs) as changes. The window is the data's.
 *
 * A record with a field of the wrong type is skipped with a warning naming its file and field.
 * The bundle is written into a hidden folder beside `out` and renamed to `out` only when complete:
 * an import that fails leaves no folder behind.
 */
export async function importSupportBundle(
  input: string,
  out: string,
  options: SupportBundleOptions = {},
): Promise<ImportResult> {
  const info = await stat(input).catch(() => undefined);
  if (!info) throw new HindsightError('HINDSIGHT_INPUT_MISSING', 'support bundle not found', input);
  await checkOutput(out, options.overwrite ?? false);
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
    const root = await findRoot(temp ?? input);
    const target = path.resolve(out);
    await mkdir(path.dirname(target), { recursive: true });
    const work = await mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.importing-`));
    try {
      const result = await importFromFolder(root, work, options);
      await rm(target, { recursive: true, force: true });
      await rename(work, target);
      return { ...result, bundle: out };
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
  } finally {
    if (temp) await rm(temp, { recursive: true, force: true });
  }
}

/** The least and greatest of some times, by loop (a spread of 200,000 overflows the stack). */
function extent(times: Iterable<number>): { lo: number; hi: number } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const t of times) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return { lo, hi };
}

function* knownTimes(records: Array<{ time: string }>, logs: LogFile[]): Generator<number> {
  for (const r of records) yield Date.parse(r.time);
  for (const l of logs) if (!Number.isNaN(l.start)) yield l.start;
}

async function importFromFolder(
  root: string,
  out: string,
  options: SupportBundleOptions,
): Promise<ImportResult> {
  const warnings: Warning[] = [];
  const warn: Warn = (file, message) => warnings.push(importWarning(file, undefined, message));

  const { pods, podComponent, starts, transitions } = readPods(
    await jsonList<K8sPod>(root, 'pods', warn),
    warn,
  );
  const events = [...(await readEvents(root, podComponent, warn)), ...transitions];
  events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));

  const deployments = await jsonList<K8sWorkload>(root, 'deployments', warn);
  const { changes, releases, records } = await readChanges(root, warn, warnings);

  const logs = await findLogs(root, starts);
  // The window is the data's own extent; lines without a time of their own need a fallback first.
  const known = extent(knownTimes([...events, ...changes], logs));
  const fallback = Number.isFinite(known.lo) ? known.lo : Date.now();
  let { lo, hi } = extent(knownTimes([...events, ...changes], []));
  for (const l of logs) {
    for await (const line of timedLines(l, fallback)) {
      if (line.time < lo) lo = line.time;
      if (line.time > hi) hi = line.time;
    }
  }
  if (!Number.isFinite(lo)) lo = hi = fallback;

  const writer = await BundleWriter.create(out, {
    window: { from: new Date(lo), to: new Date(hi) },
    overwrite: true,
    ...(options.redactPatterns ? { redactPatterns: options.redactPatterns } : {}),
  });
  for (const p of pods) await writer.addPod(p);
  for (const e of events) await writer.addEvent(e);
  for (const c of changes) await writer.addChange(c);
  const { lines, derivedTotal } = await writeLogs(writer, logs, fallback, warn, options.signal);
  await writeReplicaSeries(writer, deployments, hi, warn);
  const sources: Array<[string, number]> = [
    ['pods', pods.length],
    ['events', events.length],
    ['logs', logs.length],
    ['deployments', deployments.length],
  ];
  for (const [name, items] of sources)
    writer.recordSource({ name: `support-bundle-${name}`, status: 'ok', items });
  const helm = releases.length < records ? 'partial' : 'ok';
  writer.recordSource({ name: 'support-bundle-helm', status: helm, items: releases.length });
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

/** Rollouts and Helm upgrades, each checked against the bundle schema, in time order. */
async function readChanges(
  root: string,
  warn: Warn,
  warnings: Warning[],
): Promise<{ changes: Change[]; releases: HelmRelease[]; records: number }> {
  const replicaSets = (await jsonList<K8sWorkload>(root, 'replicasets', warn)).map((r) => r.item);
  const { releases, records } = await readReleases(root, warn, warnings);
  const changes: Change[] = [];
  for (const c of [...rollouts(replicaSets), ...helmChanges(releases)]) {
    const where = { file: 'cluster-resources', what: `change ${c.id ?? c.target}` };
    const ok = checked(changeSchema, c, where, warn);
    if (ok) changes.push(ok);
  }
  changes.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return { changes, releases, records };
}

/** Writes every log, counting (with a warning per file) the lines that carried no timestamp. */
async function writeLogs(
  writer: BundleWriter,
  logs: LogFile[],
  fallback: number,
  warn: Warn,
  signal: AbortSignal | undefined,
): Promise<{ lines: number; derivedTotal: number }> {
  let lines = 0;
  let derivedTotal = 0;
  for (const l of logs) {
    // An interrupted import is a failed one: it throws, and the folder written so far is removed
    // (a bundle missing the rest of its logs would validate and mislead).
    signal?.throwIfAborted();
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
  return { lines, derivedTotal };
}
