// What names a thing in a bundle, written once: the key of a series, the id of a change, the rate
// of a counter and the workload that owns a pod. Everything that names a series or a change (the
// analyzers, the ranking, the server, the browser view) calls these, so a finding's signal always
// opens the series it names. Plain data in and out, no Node imports: the browser build uses this
// module through `@hindsight/core/identity`.
import type { Change } from './bundle/schema.js';

export { podOwner, podWorkload, workloadOfPodName, looksLikePodName } from './bundle/workload.js';
export type { PodOwnership, WorkloadRef } from './bundle/workload.js';

/** A series key: `name{k=v,...}`, labels sorted, the `source` label left out (`name` alone without labels). */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .filter((k) => k !== 'source')
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`);
  return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
}

/** A stable id for a change: its own, else kind, target, revision and time. */
export function changeId(c: Pick<Change, 'id' | 'kind' | 'target' | 'toRevision' | 'time'>): string {
  if (c.id) return c.id;
  const rev = c.toRevision === undefined ? '' : `@${c.toRevision}`;
  return `${c.kind}:${c.target}${rev}:${c.time}`;
}

/**
 * Per-second rates of a cumulative counter, at the later time of each pair of points (sorted by
 * time). A drop is a reset (a restart), so the new value is the increase; pairs at the same time are
 * skipped.
 */
export function counterRate(points: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < points.length; i++) {
    const [t0, v0] = points[i - 1] as readonly [number, number];
    const [t1, v1] = points[i] as readonly [number, number];
    const dt = (t1 - t0) / 1000;
    if (dt <= 0) continue;
    const increase = v1 >= v0 ? v1 - v0 : v1;
    out.push([t1, increase / dt]);
  }
  return out;
}

// Names of cumulative counters written as gauges by sources that do not know better (Redis INFO
// fields such as total_commands_processed, pg_stat_database columns, Prometheus *_total).
const CUMULATIVE_NAME =
  /(_total|_calls|_count|_sum)$|^redis_(total_|sync_|expired_|evicted_|rejected_|keyspace_(hits|misses)|master_repl_offset|stat_)|^pg_(database_)?(xact_|tup_|blks_|deadlocks|temp_|conflicts)/;

/**
 * Whether a series counts up, so its rate is what can change: recorded as a counter, or a gauge
 * named like a cumulative counter that never (but for a reset or two, a restart) goes down.
 * `points` sorted by time.
 */
export function isCounter(
  series: { name: string; kind: 'gauge' | 'counter' },
  points: ReadonlyArray<readonly [number, number]>,
): boolean {
  if (series.kind === 'counter') return true;
  if (!CUMULATIVE_NAME.test(series.name) || points.length < 3) return false;
  let down = 0;
  for (let i = 1; i < points.length; i++)
    if ((points[i] as readonly [number, number])[1] < (points[i - 1] as readonly [number, number])[1]) down++;
  return down <= 2;
}
