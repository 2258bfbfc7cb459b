import { detectShifts, median, runsOf, type ShiftOptions } from './stats.js';
import type { PreparedSeries } from './data.js';
import type { AnalyzerContext, Finding } from './types.js';
import { fmt, seriesEvidence } from './evidence.js';

/** What a component check says about a series. */
export interface CheckSpec {
  analyzer: string;
  /** Words for the title, e.g. `redis: connected replicas`. */
  what: string;
  strength: number;
  userFacing?: boolean;
}

/** Where a series was measured: its pod, else its node (host:port) or instance. */
export function where(s: PreparedSeries): string {
  return s.pod ?? s.labels['node'] ?? s.labels['instance'] ?? s.key;
}

function base(
  ctx: AnalyzerContext,
  s: PreparedSeries,
  spec: CheckSpec,
  time: number,
  title: string,
): Finding {
  return {
    id: `${spec.analyzer}:${s.key}@${time}`,
    analyzer: spec.analyzer,
    kind: 'health',
    component: s.component,
    ...(s.pod ? { pod: s.pod } : {}),
    signal: s.key,
    title,
    time,
    strength: spec.strength,
    userFacing: spec.userFacing ?? false,
    evidence: [seriesEvidence(ctx, s)],
  };
}

/**
 * Whether a series begins well after the window does: its pod was created during the window (a
 * rollout), so its first values are news, not a level it always had.
 */
export function startsLate(ctx: AnalyzerContext, s: PreparedSeries): boolean {
  const first = s.points[0];
  return first !== undefined && first[0] > ctx.window.from + 2 * ctx.bucketMs;
}

/**
 * The runs of `hits` (sample times, ascending) split where no hit came for longer than a bucket
 * and two sampling intervals: a counter that grew in two bursts, or a link that went down twice, is
 * two episodes, so that each is set against the change that preceded it (bursts during two
 * rollouts 14 s apart were one finding, timed at the first).
 */
function episodes<T extends [number, number]>(s: PreparedSeries, hits: T[], bucketMs: number): T[][] {
  const steps = s.points.slice(1).map(([t], i) => t - (s.points[i] as [number, number])[0]);
  const quiet = Math.max(bucketMs, 2 * (steps.length > 0 ? median(steps) : 0));
  return runsOf(hits, ([t]) => t, quiet);
}

/**
 * A counter that grows inside the window when it should not (full resyncs, evictions, deadlocks):
 * one finding at the first increase of each episode, stronger with more increments.
 */
export function counterIncrease(ctx: AnalyzerContext, s: PreparedSeries, spec: CheckSpec): Finding[] {
  const hits = s.points.filter(([, rate]) => rate > 0);
  const first = hits[0];
  if (!first) return [];
  // Increasing from the window's start is a steady rate, not news: only a change of rate counts.
  // A series that begins late (a pod created by a rollout) has no before: from its start is news.
  const early = s.points[Math.min(s.points.length - 1, Math.floor(s.points.length / 10))];
  if (!startsLate(ctx, s) && early && first[0] <= early[0])
    return shiftCheck(ctx, s, spec, { direction: 'up' });
  return episodes(s, hits, ctx.bucketMs).map((run) => {
    const total = run.reduce((sum, [, rate]) => sum + rate, 0);
    const f = base(
      ctx,
      s,
      { ...spec, strength: Math.min(1, spec.strength + 0.05 * Math.log2(1 + total)) },
      (run[0] as [number, number])[0],
      `${spec.what} increased on ${where(s)}`,
    );
    f.end = (run.at(-1) as [number, number])[0];
    f.direction = 'up';
    return f;
  });
}

/** A gauge that takes a bad value (a replication link down = 0): one finding per episode, at its start. */
export function gaugeAt(
  ctx: AnalyzerContext,
  s: PreparedSeries,
  spec: CheckSpec,
  bad: (v: number) => boolean,
): Finding[] {
  const hits = s.points.filter(([, v]) => bad(v));
  return episodes(s, hits, ctx.bucketMs).map((run) => {
    const f = base(
      ctx,
      s,
      { ...spec, strength: Math.min(1, spec.strength * (0.6 + 0.4 * Math.min(1, run.length / 10))) },
      (run[0] as [number, number])[0],
      `${spec.what} on ${where(s)} (${run.length} sample${run.length === 1 ? '' : 's'})`,
    );
    f.end = (run.at(-1) as [number, number])[0];
    return f;
  });
}

/** A level shift with domain words, at a lower threshold than the generic detector. */
export function shiftCheck(
  ctx: AnalyzerContext,
  s: PreparedSeries,
  spec: CheckSpec,
  options: ShiftOptions & { direction?: 'up' | 'down' } = {},
): Finding[] {
  const out: Finding[] = [];
  for (const sh of detectShifts(s.values, { minZ: 4, minRelative: 0.15, ...options })) {
    if (options.direction && sh.direction !== options.direction) continue;
    const time = ctx.data.timeOf(sh.onset);
    const f = base(
      ctx,
      s,
      { ...spec, strength: Math.min(1, spec.strength * (0.5 + 0.5 * sh.strength)) },
      time,
      `${spec.what} ${sh.direction} ${fmt(sh.before)} -> ${fmt(sh.after)}${s.kind === 'counter' ? '/s' : ''} on ${where(s)}`,
    );
    f.direction = sh.direction;
    f.evidence = [seriesEvidence(ctx, s, sh.before, sh.after)];
    out.push(f);
  }
  return out;
}

/** A derived series: the sum of several series per bucket (e.g. write commands per pod). */
export function sumSeries(
  ctx: AnalyzerContext,
  parts: PreparedSeries[],
  name: string,
  labels: Record<string, string>,
  key: string,
): PreparedSeries | undefined {
  const first = parts[0];
  if (!first) return undefined;
  const n = ctx.data.buckets;
  const values = new Float64Array(n).fill(Number.NaN);
  for (const p of parts) {
    for (let i = 0; i < n; i++) {
      const v = p.values[i] as number;
      if (Number.isFinite(v)) values[i] = (Number.isFinite(values[i]) ? (values[i] as number) : 0) + v;
    }
  }
  const points: Array<[number, number]> = [];
  for (let i = 0; i < n; i++)
    if (Number.isFinite(values[i])) points.push([ctx.data.timeOf(i), values[i] as number]);
  return {
    key,
    name,
    labels,
    kind: first.kind,
    unit: first.unit,
    component: first.component,
    ...(first.pod ? { pod: first.pod } : {}),
    points,
    values,
  };
}
