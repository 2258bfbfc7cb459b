import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { findLineTime } from '../time.js';
import { listFiles } from './files.js';
import type { Starts } from './pods.js';

/** The namespace given to logs of troubleshoot's run collectors, which name no namespace. */
export const COLLECTOR_NAMESPACE = 'troubleshoot-collectors';

/** A container log file of the support bundle and the times that bound its instance. */
export interface LogFile {
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
 * The container logs: `cluster-resources/pods/logs/<ns>/<pod>/<container>[-previous].log`, and
 * the `<collector>/<node or pod>.log` files of run collectors (runPod, runDaemonSet), filed under
 * {@link COLLECTOR_NAMESPACE}.
 */
export async function findLogs(root: string, starts: Starts): Promise<LogFile[]> {
  const logsDir = path.join(root, 'cluster-resources', 'pods', 'logs');
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
      rel: path.relative(root, f),
      namespace,
      pod,
      container,
      previous,
      start: (previous ? s?.previous : s?.current) ?? Number.NaN,
    });
  }
  for (const f of await listFiles(root)) {
    const parts = path.relative(root, f).split(path.sep);
    if (parts.length !== 2 || parts[0] === 'cluster-resources' || !f.endsWith('.log')) continue;
    const [collector, fileName] = parts as [string, string];
    logs.push({
      file: f,
      rel: path.relative(root, f),
      namespace: COLLECTOR_NAMESPACE,
      pod: collector,
      container: fileName.slice(0, -'.log'.length),
      previous: false,
      start: Number.NaN,
    });
  }
  return logs;
}

/**
 * Streams a log with the time of each line: its own timestamp where it has one, else the time of
 * the line before it (a stack trace or a multi-line message belongs to the line that began it),
 * else, before any timestamped line, the time the container instance started.
 */
export async function* timedLines(
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
